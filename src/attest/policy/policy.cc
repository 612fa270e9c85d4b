// Policy values: names, the default policy and the document form (ToJson).
#include "lunal/attest/policy/policy.h"

#include "lunal/common/encoding.h"

namespace lunal::attest::policy {

std::string_view TeeTypeName(TeeType type) {
  switch (type) {
    case TeeType::kTdx:
      return "tdx";
    case TeeType::kSnp:
      return "snp";
  }
  return "unknown";
}

std::optional<TeeType> TeeTypeFromName(std::string_view name) {
  if (name == "tdx") return TeeType::kTdx;
  if (name == "snp") return TeeType::kSnp;
  return std::nullopt;
}

const std::vector<MeasurementName>& MeasurementNames(TeeType tee) {
  // TDX: SHA-384 registers of the TD report (Intel TDX Module ABI, TDREPORT_STRUCT / TDINFO).
  static const std::vector<MeasurementName> kTdx = {
      {"mr_td", 48}, {"rtmr0", 48}, {"rtmr1", 48},
      {"rtmr2", 48}, {"rtmr3", 48}, {"mr_config_id", 48},
  };
  // SNP: SEV-SNP ABI #56860, ATTESTATION_REPORT: MEASUREMENT (48 bytes), HOST_DATA (32 bytes).
  static const std::vector<MeasurementName> kSnp = {{"measurement", 48}, {"host_data", 32}};
  return tee == TeeType::kTdx ? kTdx : kSnp;
}

Policy DefaultPolicy() { return Policy{}; }

bool NeedsNamedAdvisories(std::string_view tcb_status) {
  return tcb_status == "OutOfDate" || tcb_status == "OutOfDateConfigurationNeeded";
}

namespace {

Json ReferenceValuesJson(const ReferenceValues& values) {
  Json out = Json::object();
  for (const auto& [name, list] : values) {
    Json hex = Json::array();
    for (const Bytes& value : list) hex.push_back(HexEncode(value));
    out[name] = std::move(hex);
  }
  return out;
}

template <typename T>
void PutIfSet(Json& out, const char* key, const std::optional<T>& value) {
  if (value) out[key] = *value;
}

Json ReportDataJson(const ReportDataRule& rule) {
  switch (rule.mode) {
    case ReportDataRule::Mode::kAny:
      return {{"mode", "any"}};
    case ReportDataRule::Mode::kExact:
      return {{"mode", "exact"}, {"expected", HexEncode(rule.expected)}};
    case ReportDataRule::Mode::kNonce:
      return {{"mode", "nonce"}};
  }
  return Json::object();
}

}  // namespace

Json Policy::ToJson() const {
  Json tee_types = Json::array();
  for (TeeType t : allowed_tee_types) tee_types.push_back(TeeTypeName(t));

  Json tdx_min = Json::object();
  if (tdx.min_tee_tcb_svn) tdx_min["tee_tcb_svn"] = HexEncode(*tdx.min_tee_tcb_svn);
  PutIfSet(tdx_min, "pce_svn", tdx.min_pce_svn);
  PutIfSet(tdx_min, "qe_isv_svn", tdx.min_qe_isv_svn);

  Json snp_min = Json::object();
  PutIfSet(snp_min, "boot_loader", snp.min_tcb.boot_loader);
  PutIfSet(snp_min, "tee", snp.min_tcb.tee);
  PutIfSet(snp_min, "snp", snp.min_tcb.snp);
  PutIfSet(snp_min, "microcode", snp.min_tcb.microcode);
  PutIfSet(snp_min, "fmc", snp.min_tcb.fmc);

  Json snp_json = {{"reference_values", ReferenceValuesJson(snp.reference_values)},
                   {"min_tcb", snp_min},
                   {"max_vmpl", snp.max_vmpl}};
  PutIfSet(snp_json, "min_guest_svn", snp.min_guest_svn);

  return Json{
      {"version", 1},
      {"tee_types", tee_types},
      {"allow_simulated", allow_simulated},
      {"allow_debug", allow_debug},
      {"build_hashes", build_hashes},
      {"tcb",
       {{"accepted_statuses", accepted_tcb_statuses},
        {"accepted_advisories", accepted_advisories}}},
      {"report_data", ReportDataJson(report_data)},
      {"tdx",
       {{"reference_values", ReferenceValuesJson(tdx.reference_values)}, {"min_tcb", tdx_min}}},
      {"snp", snp_json},
  };
}

}  // namespace lunal::attest::policy
