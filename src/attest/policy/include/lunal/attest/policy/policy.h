// An appraisal policy: what verified attestation evidence must look like to be accepted (layer 4
// of STYLE.md: "policy as data over verified claims"). Written as a YAML or JSON document; the
// schema, with an example, is docs/formats/policy.md.
//
//   LUNAL_ASSIGN_OR_RETURN(Policy policy, LoadPolicyFile("policy.yaml"));
//   Appraisal a = Appraise(policy, ClaimsFrom(tdx_verification, event_log.lunal_build_hash));
//
// Parsing is strict: an unknown key is an error that names the key's path and suggests the
// closest known key; every value is checked (types, hex lengths, names); duplicate keys are
// refused. Every error message starts with "<source>:<line>:<column>: <field>: " (1-based, the
// position of the offending key or value as yaml-cpp marks it).
//
// Errors (stable reasons):
//   kInvalidArgument policy.syntax (not YAML/JSON), policy.empty (an empty document),
//                    policy.unknown_key, policy.duplicate_key, policy.wrong_type,
//                    policy.bad_value (a value of the right type that is not allowed: hex of the
//                    wrong length, an unknown TEE type or TCB status, an out-of-range number),
//                    policy.missing_field (a field another field requires, e.g. report_data.mode
//                    "exact" without "expected")
//   kNotFound        policy.read_failed (LoadPolicyFile: the file cannot be opened)
//
// Thread-safety: a Policy is a plain value; parsing functions are pure.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"

namespace lunal::attest::policy {

enum class TeeType : std::uint8_t { kTdx, kSnp };
// "tdx", "snp".
std::string_view TeeTypeName(TeeType type);
std::optional<TeeType> TeeTypeFromName(std::string_view name);

// Reference values by measurement name ("mr_td", "rtmr0", …): the accepted values of each. A name
// that is absent (or has an empty list) accepts anything.
using ReferenceValues = std::map<std::string, std::vector<Bytes>, std::less<>>;

// How REPORT_DATA must be bound.
struct ReportDataRule {
  enum class Mode : std::uint8_t {
    kAny,    // not checked (the default)
    kExact,  // REPORT_DATA must equal `expected` (64 bytes)
    kNonce,  // REPORT_DATA must equal what the request's nonce requires: the caller computes it
             // (DESIGN.md "Binding formats") and passes it to Appraise (AppraiseOptions)
  };
  Mode mode = Mode::kAny;
  Bytes expected = {};

  friend bool operator==(const ReportDataRule&, const ReportDataRule&) = default;
};

struct TdxRules {
  // mr_td, rtmr0..rtmr3, mr_config_id: 48 bytes each.
  ReferenceValues reference_values = {};
  // Minimum TCB: each of the 16 TEE_TCB_SVN bytes must be at least the byte here; the PCK
  // certificate's PCESVN and the QE report's ISVSVN at least these.
  std::optional<Bytes> min_tee_tcb_svn = std::nullopt;
  std::optional<std::uint16_t> min_pce_svn = std::nullopt;
  std::optional<std::uint16_t> min_qe_isv_svn = std::nullopt;

  friend bool operator==(const TdxRules&, const TdxRules&) = default;
};

// Minimum security patch levels of REPORTED_TCB (SEV-SNP ABI "TCB_VERSION"). fmc exists on Turin
// only: a minimum for it does not apply to Milan or Genoa reports.
struct SnpMinTcb {
  std::optional<std::uint8_t> boot_loader = std::nullopt;
  std::optional<std::uint8_t> tee = std::nullopt;
  std::optional<std::uint8_t> snp = std::nullopt;
  std::optional<std::uint8_t> microcode = std::nullopt;
  std::optional<std::uint8_t> fmc = std::nullopt;

  friend bool operator==(const SnpMinTcb&, const SnpMinTcb&) = default;
};

struct SnpRules {
  // measurement (48 bytes), host_data (32 bytes).
  ReferenceValues reference_values = {};
  SnpMinTcb min_tcb = {};
  std::uint32_t max_vmpl = 0;  // the report's VMPL must be at most this (0: the most privileged)
  std::optional<std::uint32_t> min_guest_svn = std::nullopt;

  friend bool operator==(const SnpRules&, const SnpRules&) = default;
};

struct Policy {
  std::vector<TeeType> allowed_tee_types = {TeeType::kTdx, TeeType::kSnp};
  bool allow_simulated = false;
  bool allow_debug = false;
  // "sha256:<64 lowercase hex>" each; empty accepts any build (or none).
  std::vector<std::string> build_hashes = {};
  // Intel's TCB status names accepted outright. The OutOfDate statuses are never listed here:
  // they are accepted only when every advisory id of the result is in accepted_advisories.
  std::vector<std::string> accepted_tcb_statuses = {"UpToDate", "SWHardeningNeeded"};
  std::vector<std::string> accepted_advisories = {};
  ReportDataRule report_data = {};
  TdxRules tdx = {};
  SnpRules snp = {};

  // The document form (every field, defaults included); ParsePolicy(ToJson().dump()) gives back
  // an equal Policy.
  Json ToJson() const;

  friend bool operator==(const Policy&, const Policy&) = default;
};

// Intel's OutOfDate statuses ("OutOfDate", "OutOfDateConfigurationNeeded"): never listed in
// accepted_tcb_statuses, accepted only when accepted_advisories names every advisory id.
bool NeedsNamedAdvisories(std::string_view tcb_status);

// TDX and SNP allowed, no simulated evidence, debug forbidden, UpToDate and SWHardeningNeeded
// accepted, no reference values, VMPL 0, REPORT_DATA not checked.
Policy DefaultPolicy();

// Parses a YAML or JSON document (JSON is YAML). `source` names it in error messages (the file
// path, or e.g. "request.policy").
Result<Policy> ParsePolicy(std::string_view text, std::string_view source);
// Reads and parses a file; messages name the path.
Result<Policy> LoadPolicyFile(const std::filesystem::path& path);

// The measurement names a policy may reference per TEE, with their sizes in bytes.
struct MeasurementName {
  std::string_view name;
  std::size_t size;
};
const std::vector<MeasurementName>& MeasurementNames(TeeType tee);

}  // namespace lunal::attest::policy
