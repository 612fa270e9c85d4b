// ParsePolicy: the document schema of docs/formats/policy.md, read strictly with YamlReader.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>

#include "lunal/attest/policy/policy.h"
#include "lunal/attest/tdx/tcb_status.h"
#include "yaml_reader.h"

namespace lunal::attest::policy {
namespace {

using internal::FieldPath;
using internal::YamlReader;

constexpr std::array<std::string_view, 9> kTopKeys = {
    "version", "tee_types", "allow_simulated", "allow_debug", "build_hashes", "report_data", "tcb",
    "tdx",     "snp"};
constexpr std::array<std::string_view, 2> kTcbKeys = {"accepted_statuses", "accepted_advisories"};
constexpr std::array<std::string_view, 2> kReportDataKeys = {"mode", "expected"};
constexpr std::array<std::string_view, 2> kTdxKeys = {"reference_values", "min_tcb"};
constexpr std::array<std::string_view, 3> kTdxMinKeys = {"tee_tcb_svn", "pce_svn", "qe_isv_svn"};
constexpr std::array<std::string_view, 4> kSnpKeys = {"reference_values", "min_tcb", "max_vmpl",
                                                      "min_guest_svn"};
constexpr std::array<std::string_view, 5> kSnpMinKeys = {"boot_loader", "tee", "snp", "microcode",
                                                         "fmc"};
constexpr std::size_t kTeeTcbSvnSize = 16;  // TDX Module ABI, TDREPORT TEE_TCB_INFO.TEE_TCB_SVN
constexpr std::size_t kReportDataSize = 64;

Status ParseReferenceValues(const YamlReader& r, const YAML::Node& node, const std::string& field,
                            TeeType tee, ReferenceValues& out) {
  const auto& names = MeasurementNames(tee);
  std::vector<std::string_view> known;
  for (const auto& n : names) known.push_back(n.name);
  return r.ForEachEntry(
      node, field, known,
      [&](std::string_view key, const YAML::Node& list, const std::string& path) -> Status {
        const auto spec = std::find_if(names.begin(), names.end(),
                                       [&](const MeasurementName& n) { return n.name == key; });
        std::vector<Bytes>& values = out[std::string(key)];
        return r.ForEachElement(list, path, [&](const YAML::Node& item, const std::string& at) {
          LUNAL_ASSIGN_OR_RETURN(Bytes value, r.Hex(item, at, spec->size));
          values.push_back(std::move(value));
          return Status();
        });
      });
}

Status ParseTeeTypes(const YamlReader& r, const YAML::Node& node, const std::string& field,
                     Policy& out) {
  out.allowed_tee_types.clear();
  LUNAL_RETURN_IF_ERROR(
      r.ForEachElement(node, field, [&](const YAML::Node& item, const std::string& at) -> Status {
        LUNAL_ASSIGN_OR_RETURN(std::string name, r.String(item, at));
        std::optional<TeeType> tee = TeeTypeFromName(name);
        if (!tee) {
          return r.Error("policy.bad_value", item, at,
                         fmt::format("unknown TEE type \"{}\" (known: tdx, snp)", name));
        }
        out.allowed_tee_types.push_back(*tee);
        return Status();
      }));
  if (out.allowed_tee_types.empty()) {
    return r.Error("policy.bad_value", node, field, "list at least one TEE type");
  }
  return Status();
}

// DESIGN.md "Binding formats": "sha256:<64 hex>". Stored lowercase so that comparison is exact.
Status ParseBuildHashes(const YamlReader& r, const YAML::Node& node, const std::string& field,
                        Policy& out) {
  return r.ForEachElement(node, field, [&](const YAML::Node& item, const std::string& at) {
    LUNAL_ASSIGN_OR_RETURN(std::string text, r.String(item, at));
    constexpr std::string_view kPrefix = "sha256:";
    const bool hex = text.size() == kPrefix.size() + 64 && text.starts_with(kPrefix) &&
                     std::all_of(text.begin() + kPrefix.size(), text.end(), [](char c) {
                       return std::isxdigit(static_cast<unsigned char>(c));
                     });
    if (!hex) {
      return r.Error("policy.bad_value", item, at,
                     fmt::format("expected \"sha256:<64 hex digits>\", got \"{}\"", text));
    }
    std::transform(text.begin(), text.end(), text.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    out.build_hashes.push_back(std::move(text));
    return Status();
  });
}

Status ParseTcb(const YamlReader& r, const YAML::Node& node, const std::string& field,
                Policy& out) {
  return r.ForEachEntry(
      node, field, kTcbKeys,
      [&](std::string_view key, const YAML::Node& value, const std::string& path) -> Status {
        if (key == "accepted_advisories") {
          out.accepted_advisories.clear();
          return r.ForEachElement(value, path, [&](const YAML::Node& item, const std::string& at) {
            LUNAL_ASSIGN_OR_RETURN(std::string id, r.String(item, at));
            if (id.empty()) return r.Error("policy.bad_value", item, at, "empty advisory id");
            out.accepted_advisories.push_back(std::move(id));
            return Status();
          });
        }
        out.accepted_tcb_statuses.clear();
        return r.ForEachElement(value, path, [&](const YAML::Node& item, const std::string& at) {
          LUNAL_ASSIGN_OR_RETURN(std::string name, r.String(item, at));
          if (!tdx::TcbStatusFromName(name)) {
            return r.Error("policy.bad_value", item, at,
                           fmt::format("unknown TCB status \"{}\" (Intel's names: UpToDate, "
                                       "SWHardeningNeeded, ConfigurationNeeded, …)",
                                       name));
          }
          if (NeedsNamedAdvisories(name) || name == "Revoked") {
            return r.Error(
                "policy.bad_value", item, at,
                name == "Revoked"
                    ? std::string("a Revoked TCB is never accepted")
                    : fmt::format("{} is accepted only through tcb.accepted_advisories "
                                  "(every advisory id of the result must be named there)",
                                  name));
          }
          out.accepted_tcb_statuses.push_back(std::move(name));
          return Status();
        });
      });
}

Status ParseReportData(const YamlReader& r, const YAML::Node& node, const std::string& field,
                       Policy& out) {
  std::optional<std::string> mode;
  std::optional<Bytes> expected;
  YAML::Node mode_node;
  LUNAL_RETURN_IF_ERROR(r.ForEachEntry(
      node, field, kReportDataKeys,
      [&](std::string_view key, const YAML::Node& value, const std::string& path) -> Status {
        if (key == "expected") {
          LUNAL_ASSIGN_OR_RETURN(expected, r.Hex(value, path, kReportDataSize));
          return Status();
        }
        LUNAL_ASSIGN_OR_RETURN(mode, r.String(value, path));
        mode_node = value;
        if (*mode != "any" && *mode != "exact" && *mode != "nonce") {
          return r.Error("policy.bad_value", value, path,
                         fmt::format("unknown mode \"{}\" (known: any, exact, nonce)", *mode));
        }
        return Status();
      }));
  const std::string m = mode.value_or(expected ? "exact" : "any");
  if (m == "exact" && !expected) {
    return r.Error("policy.missing_field", node, FieldPath(field, "expected"),
                   "mode \"exact\" needs the expected REPORT_DATA (128 hex digits)");
  }
  if (m != "exact" && expected) {
    return r.Error(
        "policy.bad_value", mode_node, FieldPath(field, "mode"),
        fmt::format("\"expected\" is only meaningful with mode \"exact\", not \"{}\"", m));
  }
  out.report_data.mode = m == "exact"   ? ReportDataRule::Mode::kExact
                         : m == "nonce" ? ReportDataRule::Mode::kNonce
                                        : ReportDataRule::Mode::kAny;
  if (expected) out.report_data.expected = std::move(*expected);
  return Status();
}

Status ParseTdx(const YamlReader& r, const YAML::Node& node, const std::string& field,
                TdxRules& out) {
  return r.ForEachEntry(
      node, field, kTdxKeys,
      [&](std::string_view key, const YAML::Node& value, const std::string& path) -> Status {
        if (key == "reference_values") {
          return ParseReferenceValues(r, value, path, TeeType::kTdx, out.reference_values);
        }
        return r.ForEachEntry(
            value, path, kTdxMinKeys,
            [&](std::string_view k, const YAML::Node& v, const std::string& p) -> Status {
              if (k == "tee_tcb_svn") {
                LUNAL_ASSIGN_OR_RETURN(out.min_tee_tcb_svn, r.Hex(v, p, kTeeTcbSvnSize));
                return Status();
              }
              LUNAL_ASSIGN_OR_RETURN(std::uint64_t svn, r.Uint(v, p, 0xffff));
              (k == "pce_svn" ? out.min_pce_svn : out.min_qe_isv_svn) =
                  static_cast<std::uint16_t>(svn);
              return Status();
            });
      });
}

Status ParseSnpMinTcb(const YamlReader& r, const YAML::Node& node, const std::string& field,
                      SnpMinTcb& out) {
  return r.ForEachEntry(
      node, field, kSnpMinKeys,
      [&](std::string_view key, const YAML::Node& value, const std::string& path) -> Status {
        LUNAL_ASSIGN_OR_RETURN(std::uint64_t spl, r.Uint(value, path, 0xff));
        const auto v = static_cast<std::uint8_t>(spl);
        if (key == "boot_loader") out.boot_loader = v;
        if (key == "tee") out.tee = v;
        if (key == "snp") out.snp = v;
        if (key == "microcode") out.microcode = v;
        if (key == "fmc") out.fmc = v;
        return Status();
      });
}

Status ParseSnp(const YamlReader& r, const YAML::Node& node, const std::string& field,
                SnpRules& out) {
  return r.ForEachEntry(
      node, field, kSnpKeys,
      [&](std::string_view key, const YAML::Node& value, const std::string& path) -> Status {
        if (key == "reference_values") {
          return ParseReferenceValues(r, value, path, TeeType::kSnp, out.reference_values);
        }
        if (key == "min_tcb") return ParseSnpMinTcb(r, value, path, out.min_tcb);
        // SEV-SNP ABI: VMPL 0..3; GUEST_SVN is a u32.
        LUNAL_ASSIGN_OR_RETURN(std::uint64_t n,
                               r.Uint(value, path, key == "max_vmpl" ? 3 : 0xffffffff));
        if (key == "max_vmpl") out.max_vmpl = static_cast<std::uint32_t>(n);
        if (key == "min_guest_svn") out.min_guest_svn = static_cast<std::uint32_t>(n);
        return Status();
      });
}

Status ParseTop(const YamlReader& r, const YAML::Node& root, Policy& out) {
  return r.ForEachEntry(
      root, "", kTopKeys,
      [&](std::string_view key, const YAML::Node& value, const std::string& path) -> Status {
        if (key == "version") {
          LUNAL_ASSIGN_OR_RETURN(std::uint64_t version, r.Uint(value, path, 0xffff));
          if (version != 1) {
            return r.Error(
                "policy.bad_value", value, path,
                fmt::format("unsupported version {} (this build reads version 1)", version));
          }
          return Status();
        }
        if (key == "tee_types") return ParseTeeTypes(r, value, path, out);
        if (key == "allow_simulated") {
          LUNAL_ASSIGN_OR_RETURN(out.allow_simulated, r.Bool(value, path));
          return Status();
        }
        if (key == "allow_debug") {
          LUNAL_ASSIGN_OR_RETURN(out.allow_debug, r.Bool(value, path));
          return Status();
        }
        if (key == "build_hashes") return ParseBuildHashes(r, value, path, out);
        if (key == "report_data") return ParseReportData(r, value, path, out);
        if (key == "tcb") return ParseTcb(r, value, path, out);
        if (key == "tdx") return ParseTdx(r, value, path, out.tdx);
        return ParseSnp(r, value, path, out.snp);
      });
}

}  // namespace

Result<Policy> ParsePolicy(std::string_view text, std::string_view source) {
  YamlReader reader(source);
  // yaml-cpp reports errors by exception; none escapes this function.
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsDefined() || root.IsNull()) {
      return InvalidArgument("policy.empty",
                             "{}: the policy document is empty (write {{}} for "
                             "the default policy)",
                             source);
    }
    Policy policy = DefaultPolicy();
    LUNAL_RETURN_IF_ERROR(ParseTop(reader, root, policy));
    return policy;
  } catch (const YAML::Exception& e) {
    return InvalidArgument("policy.syntax", "{}: {}", reader.Where(e.mark), e.msg);
  }
}

Result<Policy> LoadPolicyFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("policy.read_failed", "{}: cannot open the policy file", path.string());
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return NotFound("policy.read_failed", "{}: read error", path.string());
  return ParsePolicy(text.str(), path.string());
}

}  // namespace lunal::attest::policy
