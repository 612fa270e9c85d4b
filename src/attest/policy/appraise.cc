// Appraise: the rules of appraise.h, each a small function adding to one list of violations.
#include "lunal/attest/policy/appraise.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "lunal/common/encoding.h"

namespace lunal::attest::policy {
namespace {

class Violations {
 public:
  void Add(std::string_view reason, std::string_view field, Json expected, Json actual,
           std::string message) {
    list_.push_back(Violation{.reason = std::string(reason),
                              .field = std::string(field),
                              .expected = std::move(expected),
                              .actual = std::move(actual),
                              .message = std::move(message)});
  }
  std::vector<Violation> Take() { return std::move(list_); }

 private:
  std::vector<Violation> list_;
};

template <typename List, typename T>
bool Contains(const List& list, const T& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

Json HexList(const std::vector<Bytes>& values) {
  Json out = Json::array();
  for (const Bytes& v : values) out.push_back(HexEncode(v));
  return out;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return text;
}

void CheckTeeSimulatedDebug(const Policy& p, const Claims& c, Violations& out) {
  const std::string_view tee = TeeTypeName(c.tee);
  if (!Contains(p.allowed_tee_types, c.tee)) {
    Json allowed = Json::array();
    for (TeeType t : p.allowed_tee_types) allowed.push_back(TeeTypeName(t));
    out.Add("policy.tee_not_allowed", "tee_types", allowed, tee,
            fmt::format("TEE type {} is not allowed (allowed: {})", tee, allowed.dump()));
  }
  if (c.simulated && !p.allow_simulated) {
    out.Add("policy.simulated_forbidden", "allow_simulated", false, true,
            "the evidence is simulated: no hardware protects this instance");
  }
  if (c.debug && !p.allow_debug) {
    out.Add("policy.debug_forbidden", "allow_debug", false, true,
            c.tee == TeeType::kTdx
                ? "TD_ATTRIBUTES.DEBUG is set: the host can read and change the TD's memory"
                : "guest POLICY.DEBUG is set: the host can debug the guest and read its memory");
  }
}

void CheckMeasurements(const ReferenceValues& references, const Claims& c, std::string_view tee,
                       Violations& out) {
  for (const auto& [name, accepted] : references) {
    if (accepted.empty()) continue;
    const std::string field = fmt::format("{}.reference_values.{}", tee, name);
    const auto it = c.measurements.find(name);
    if (it == c.measurements.end()) {
      out.Add("policy.measurement_missing", field, HexList(accepted), nullptr,
              fmt::format("the evidence carries no {}", name));
    } else if (!Contains(accepted, it->second)) {
      out.Add("policy.measurement_mismatch", field, HexList(accepted), HexEncode(it->second),
              fmt::format("{} {} is not one of the {} reference value(s)", name,
                          HexEncode(it->second), accepted.size()));
    }
  }
}

void CheckBuildHash(const Policy& p, const Claims& c, Violations& out) {
  if (p.build_hashes.empty()) return;
  if (!c.build_hash) {
    out.Add("policy.build_hash_missing", "build_hashes", p.build_hashes, nullptr,
            c.tee == TeeType::kTdx ? "no lunal.build-hash event in a replayed event log"
                                   : "HOST_DATA is zero: the evidence carries no build hash");
  } else if (!Contains(p.build_hashes, Lower(*c.build_hash))) {
    out.Add("policy.build_hash_mismatch", "build_hashes", p.build_hashes, *c.build_hash,
            fmt::format("build hash {} is not allowed", *c.build_hash));
  }
}

void CheckTcbStatus(const Policy& p, const Claims& c, Violations& out) {
  if (!c.tcb_status) {
    if (c.tee == TeeType::kTdx) {
      out.Add("policy.tcb_status_not_accepted", "tcb.accepted_statuses", p.accepted_tcb_statuses,
              nullptr, "the TDX claims carry no TCB status");
    }
    return;  // SEV-SNP reports have no TCB status; their minimum TCB is checked instead
  }
  const std::string& status = *c.tcb_status;
  if (Contains(p.accepted_tcb_statuses, status)) return;
  std::vector<std::string> unnamed;
  for (const std::string& id : c.advisory_ids) {
    if (!Contains(p.accepted_advisories, id)) unnamed.push_back(id);
  }
  if (NeedsNamedAdvisories(status) && !c.advisory_ids.empty() && unnamed.empty()) return;
  out.Add(
      "policy.tcb_status_not_accepted", "tcb.accepted_statuses", p.accepted_tcb_statuses, status,
      NeedsNamedAdvisories(status)
          ? fmt::format("TCB status {} is accepted only when tcb.accepted_advisories names "
                        "every advisory of the result ({})",
                        status,
                        c.advisory_ids.empty() ? "it has none"
                                               : fmt::format("{}", fmt::join(c.advisory_ids, ", ")))
          : fmt::format("TCB status {} is not accepted", status));
  // Which advisories are missing is worth listing once the policy accepts by advisory at all.
  if (!NeedsNamedAdvisories(status) || p.accepted_advisories.empty()) return;
  for (const std::string& id : unnamed) {
    out.Add("policy.advisory_not_accepted", "tcb.accepted_advisories", p.accepted_advisories, id,
            fmt::format("advisory {} of the {} TCB is not in tcb.accepted_advisories", id, status));
  }
}

void CheckTdxMinimum(const TdxRules& rules, const Claims& c, Violations& out) {
  if (!rules.min_tee_tcb_svn && !rules.min_pce_svn && !rules.min_qe_isv_svn) return;
  if (!c.tdx_tcb) {
    out.Add("policy.tcb_below_minimum", "tdx.min_tcb", nullptr, nullptr,
            "the TDX claims carry no SVNs");
    return;
  }
  const TdxTcbClaims& t = *c.tdx_tcb;
  if (rules.min_tee_tcb_svn) {
    const Bytes& min = *rules.min_tee_tcb_svn;
    std::vector<std::string> below;
    for (std::size_t i = 0; i < min.size(); ++i) {
      const unsigned have = i < t.tee_tcb_svn.size() ? t.tee_tcb_svn[i] : 0u;
      if (have < min[i]) below.push_back(fmt::format("byte {} is {} < {}", i, have, min[i]));
    }
    if (!below.empty()) {
      out.Add("policy.tcb_below_minimum", "tdx.min_tcb.tee_tcb_svn", HexEncode(min),
              HexEncode(t.tee_tcb_svn),
              fmt::format("TEE_TCB_SVN below the minimum: {}", fmt::join(below, ", ")));
    }
  }
  if (rules.min_pce_svn && t.pce_svn < *rules.min_pce_svn) {
    out.Add("policy.tcb_below_minimum", "tdx.min_tcb.pce_svn", *rules.min_pce_svn, t.pce_svn,
            fmt::format("PCESVN {} is below the minimum {}", t.pce_svn, *rules.min_pce_svn));
  }
  if (rules.min_qe_isv_svn && t.qe_isv_svn < *rules.min_qe_isv_svn) {
    out.Add(
        "policy.tcb_below_minimum", "tdx.min_tcb.qe_isv_svn", *rules.min_qe_isv_svn, t.qe_isv_svn,
        fmt::format("QE ISVSVN {} is below the minimum {}", t.qe_isv_svn, *rules.min_qe_isv_svn));
  }
}

void CheckSpl(std::string_view name, std::optional<std::uint8_t> min,
              std::optional<std::uint8_t> have, Violations& out) {
  if (!min || !have || *have >= *min) return;
  out.Add("policy.tcb_below_minimum", fmt::format("snp.min_tcb.{}", name), *min, *have,
          fmt::format("REPORTED_TCB {} SPL {} is below the minimum {}", name, *have, *min));
}

void CheckSnp(const SnpRules& rules, const Claims& c, Violations& out) {
  const SnpMinTcb& m = rules.min_tcb;
  const bool any_min = m.boot_loader || m.tee || m.snp || m.microcode || m.fmc;
  if (any_min && !c.snp_tcb) {
    out.Add("policy.tcb_below_minimum", "snp.min_tcb", nullptr, nullptr,
            "the SNP claims carry no REPORTED_TCB");
  } else if (any_min) {
    const SnpTcbClaims& t = *c.snp_tcb;
    CheckSpl("boot_loader", m.boot_loader, t.boot_loader, out);
    CheckSpl("tee", m.tee, t.tee, out);
    CheckSpl("snp", m.snp, t.snp, out);
    CheckSpl("microcode", m.microcode, t.microcode, out);
    CheckSpl("fmc", m.fmc, t.fmc, out);  // Turin only: no fmc in the claims, nothing to compare
  }
  if (!c.vmpl || *c.vmpl > rules.max_vmpl) {
    out.Add("policy.vmpl_not_allowed", "snp.max_vmpl", rules.max_vmpl,
            c.vmpl ? Json(*c.vmpl) : Json(nullptr),
            fmt::format("VMPL {} is above the allowed maximum {}",
                        c.vmpl ? fmt::format("{}", *c.vmpl) : "(none)", rules.max_vmpl));
  }
  if (rules.min_guest_svn && (!c.guest_svn || *c.guest_svn < *rules.min_guest_svn)) {
    out.Add("policy.guest_svn_below_minimum", "snp.min_guest_svn", *rules.min_guest_svn,
            c.guest_svn ? Json(*c.guest_svn) : Json(nullptr),
            fmt::format("GUEST_SVN {} is below the minimum {}",
                        c.guest_svn ? fmt::format("{}", *c.guest_svn) : "(none)",
                        *rules.min_guest_svn));
  }
}

void CheckReportData(const ReportDataRule& rule, const Claims& c, const AppraiseOptions& options,
                     Violations& out) {
  const Bytes* expected = nullptr;
  if (rule.mode == ReportDataRule::Mode::kAny) return;
  if (rule.mode == ReportDataRule::Mode::kExact) expected = &rule.expected;
  if (rule.mode == ReportDataRule::Mode::kNonce) {
    if (!options.nonce_report_data) {
      out.Add("policy.report_data_unbound", "report_data.mode", "nonce", HexEncode(c.report_data),
              "the policy requires REPORT_DATA bound to a nonce, and the request gave none");
      return;
    }
    expected = &*options.nonce_report_data;
  }
  if (c.report_data != *expected) {
    out.Add("policy.report_data_mismatch",
            rule.mode == ReportDataRule::Mode::kExact ? "report_data.expected" : "report_data.mode",
            HexEncode(*expected), HexEncode(c.report_data),
            fmt::format("REPORT_DATA differs from the {} value",
                        rule.mode == ReportDataRule::Mode::kExact ? "policy's" : "nonce's"));
  }
}

}  // namespace

Json Violation::ToJson() const {
  return {{"reason", reason},
          {"field", field},
          {"expected", expected},
          {"actual", actual},
          {"message", message}};
}

bool Appraisal::Has(std::string_view reason) const {
  return std::any_of(violations.begin(), violations.end(),
                     [&](const Violation& v) { return v.reason == reason; });
}

Json Appraisal::ToJson() const {
  Json list = Json::array();
  for (const Violation& v : violations) list.push_back(v.ToJson());
  return {{"result", passed() ? "pass" : "fail"}, {"violations", list}};
}

Appraisal Appraise(const Policy& policy, const Claims& claims, const AppraiseOptions& options) {
  Violations out;
  CheckTeeSimulatedDebug(policy, claims, out);
  if (claims.tee == TeeType::kTdx) {
    CheckMeasurements(policy.tdx.reference_values, claims, "tdx", out);
  } else {
    CheckMeasurements(policy.snp.reference_values, claims, "snp", out);
  }
  CheckBuildHash(policy, claims, out);
  CheckTcbStatus(policy, claims, out);
  if (claims.tee == TeeType::kTdx) {
    CheckTdxMinimum(policy.tdx, claims, out);
  } else {
    CheckSnp(policy.snp, claims, out);
  }
  CheckReportData(policy.report_data, claims, options, out);
  return Appraisal{.violations = out.Take()};
}

}  // namespace lunal::attest::policy
