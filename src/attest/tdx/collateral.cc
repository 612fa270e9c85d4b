// TDX TCB Info v3 and TD QE identity v2 parsers. Field names, types and lengths: Intel PCS API v4
// documentation ("TDX TCB Info V3", "Enclave Identity V2"); the checks QVL makes on them:
// AttestationParsers/src/Json/{TcbInfo,TcbLevel,TcbComponent,TdxModule,TdxModuleIdentity}.cpp and
// AttestationLibrary/src/Verifiers/EnclaveIdentityV2.cpp (step 4.1.2.9.3).
#include "lunal/attest/tdx/collateral.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "collateral_fields.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "raw_json.h"

namespace lunal::attest::tdx {
namespace {

using internal::DocFields;

// tcbStatus values a TCB Info level may carry (QVL Verifiers/TcbStatus.h VALID_TCB_INFO_STATUSES).
constexpr std::array kLevelStatuses = {TcbStatus::kUpToDate,
                                       TcbStatus::kSWHardeningNeeded,
                                       TcbStatus::kConfigurationNeeded,
                                       TcbStatus::kConfigurationAndSWHardeningNeeded,
                                       TcbStatus::kOutOfDate,
                                       TcbStatus::kOutOfDateConfigurationNeeded,
                                       TcbStatus::kRevoked};
// TDX module identity levels (QVL VALID_MODULE_TCB_STATUSES).
constexpr std::array kModuleStatuses = {TcbStatus::kUpToDate, TcbStatus::kOutOfDate,
                                        TcbStatus::kRevoked};
// QE identity levels (QVL Verifiers/TcbStatus.h parseStringToTcbStatus).
constexpr std::array kQeStatuses = {TcbStatus::kUpToDate, TcbStatus::kConfigurationNeeded,
                                    TcbStatus::kOutOfDate, TcbStatus::kOutOfDateConfigurationNeeded,
                                    TcbStatus::kRevoked};

// The inner object of a PCS response, parsed from its exact served bytes.
struct Unwrapped {
  Json body;
  std::string signed_bytes;
  std::array<std::uint8_t, 64> signature;
};

// 1. strict parse of the whole response; 2. the member is an object and the signature 64 bytes
// of hex; 3. the member's exact bytes; 4. the body re-parsed from those bytes.
Result<Unwrapped> Unwrap(std::string_view document, std::string_view member, const DocFields& f) {
  LUNAL_ASSIGN_OR_RETURN(Json root, ParseJson(document));
  if (!root.is_object()) {
    return f.Error(Code::kMalformed, "wrong_type",
                   fmt::format("(root): expected object, got {}", JsonTypeName(root)));
  }
  LUNAL_ASSIGN_OR_RETURN(const Json* inner, f.Object(root, member, ""));
  Unwrapped out;
  LUNAL_ASSIGN_OR_RETURN(out.signature, f.HexArray<64>(root, "signature", ""));
  LUNAL_ASSIGN_OR_RETURN(std::string_view span, raw_json::MemberValue(document, member));
  LUNAL_ASSIGN_OR_RETURN(out.body, ParseJson(span));
  if (out.body != *inner) {  // the scanner and the parser disagree: a bug, never trust either
    return Internal("tdx.raw_json.disagreement", "the bytes found for \"{}\" parse differently",
                    member);
  }
  out.signed_bytes = std::string(span);
  return out;
}

// version first, then id: an SGX TCB Info v2 has no id at all (QVL TcbInfo.cpp).
Status CheckVersionAndId(const DocFields& f, const Json& body, std::string_view path,
                         std::uint64_t want_version, std::string_view want_id, int& version,
                         std::string& id) {
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t v, f.Uint(body, "version", path, 0xFFFF));
  if (v != want_version) {
    return f.Error(Code::kUnsupported, "unsupported_version",
                   fmt::format("{}.version is {}; only {} is supported", path, v, want_version));
  }
  version = static_cast<int>(v);
  LUNAL_ASSIGN_OR_RETURN(id, f.String(body, "id", path));
  if (id != want_id) {
    return f.Error(Code::kUnsupported, "unsupported_id",
                   fmt::format("{}.id is \"{}\"; only \"{}\" is supported", path, id, want_id));
  }
  return Status::Ok();
}

Status ReadValidity(const DocFields& f, const Json& body, std::string_view path, Timestamp& issue,
                    Timestamp& next) {
  LUNAL_ASSIGN_OR_RETURN(issue, f.Date(body, "issueDate", path));
  LUNAL_ASSIGN_OR_RETURN(next, f.Date(body, "nextUpdate", path));
  if (next <= issue) {
    return f.Error(Code::kMalformed, "bad_validity",
                   fmt::format("{}: nextUpdate {} is not after issueDate {}", path,
                               FormatRfc3339(next), FormatRfc3339(issue)));
  }
  return Status::Ok();
}

// tcb.sgxtcbcomponents / tcb.tdxtcbcomponents: exactly 16 {svn, category?, type?} (QVL
// TcbLevel.cpp setTcbComponents, TcbComponent.cpp). SVNs are compared with bytes, so > 255 is
// refused (QVL truncates with static_cast<uint8_t>).
Result<std::array<std::uint8_t, 16>> Components(const DocFields& f, const Json& tcb,
                                                std::string_view key, std::string_view path) {
  auto array = JsonArray(tcb, key, path);
  if (!array.ok()) return f.Refile(array.error());
  std::string array_path = JsonPath(path, key);
  if ((*array)->size() != 16) {
    return f.Error(Code::kMalformed, "bad_component_count",
                   fmt::format("{}: expected 16 components, got {}", array_path, (*array)->size()));
  }
  std::array<std::uint8_t, 16> svns{};
  for (std::size_t i = 0; i < 16; ++i) {
    const Json& component = (**array)[i];
    std::string at = JsonPath(array_path, i);
    if (!component.is_object()) {
      return f.Error(Code::kMalformed, "wrong_type",
                     fmt::format("{}: expected object, got {}", at, JsonTypeName(component)));
    }
    LUNAL_ASSIGN_OR_RETURN(std::uint64_t svn, f.Uint(component, "svn", at, 0xFF));
    svns[i] = static_cast<std::uint8_t>(svn);
    for (std::string_view name : {"category", "type"}) {
      auto text = JsonOptionalString(component, name, at);
      if (!text.ok()) return f.Refile(text.error());
    }
  }
  return svns;
}

Result<TdxTcbLevel> TcbLevel(const DocFields& f, const Json& level, std::string_view path) {
  if (!level.is_object()) {
    return f.Error(Code::kMalformed, "wrong_type",
                   fmt::format("{}: expected object, got {}", path, JsonTypeName(level)));
  }
  TdxTcbLevel out{};
  LUNAL_ASSIGN_OR_RETURN(const Json* tcb, f.Object(level, "tcb", path));
  std::string tcb_path = JsonPath(path, "tcb");
  LUNAL_ASSIGN_OR_RETURN(out.sgx_components, Components(f, *tcb, "sgxtcbcomponents", tcb_path));
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t pce_svn, f.Uint(*tcb, "pcesvn", tcb_path, 0xFFFF));
  out.pce_svn = static_cast<std::uint16_t>(pce_svn);
  LUNAL_ASSIGN_OR_RETURN(out.tdx_components, Components(f, *tcb, "tdxtcbcomponents", tcb_path));
  LUNAL_ASSIGN_OR_RETURN(out.tcb_date, f.Date(level, "tcbDate", path));
  LUNAL_ASSIGN_OR_RETURN(out.status, f.StatusField(level, "tcbStatus", path, kLevelStatuses));
  LUNAL_ASSIGN_OR_RETURN(out.advisory_ids, f.AdvisoryIds(level, path));
  return out;
}

// QVL TcbLevel::operator> for TDX: CPUSVN components, then PCESVN, then the TDX components,
// each compared lexicographically.
bool Higher(const TdxTcbLevel& a, const TdxTcbLevel& b) {
  if (a.sgx_components != b.sgx_components) return a.sgx_components > b.sgx_components;
  if (a.pce_svn != b.pce_svn) return a.pce_svn > b.pce_svn;
  return a.tdx_components > b.tdx_components;
}

Result<std::vector<TdxTcbLevel>> TcbLevels(const DocFields& f, const Json& body) {
  LUNAL_ASSIGN_OR_RETURN(const Json* array, f.Array(body, "tcbLevels", "tcbInfo"));
  std::vector<TdxTcbLevel> levels;
  for (std::size_t i = 0; i < array->size(); ++i) {
    LUNAL_ASSIGN_OR_RETURN(TdxTcbLevel level,
                           TcbLevel(f, (*array)[i], JsonPath("tcbInfo.tcbLevels", i)));
    levels.push_back(std::move(level));
  }
  // QVL holds the levels in a std::set<TcbLevel, std::greater<>> and rejects duplicates
  // ("Detected duplicated TCB levels"); matching takes the first level in that order.
  std::stable_sort(levels.begin(), levels.end(), Higher);
  for (std::size_t i = 1; i < levels.size(); ++i) {
    if (!Higher(levels[i - 1], levels[i])) {
      return f.Error(Code::kMalformed, "duplicate_tcb_level",
                     "tcbInfo.tcbLevels: two levels with the same TCB components and PCESVN");
    }
  }
  return levels;
}

// tcbInfo.tdxModule (no levels) or a tdxModuleIdentities entry (QVL TdxModule.cpp,
// TdxModuleIdentity.cpp: mrsigner 48 bytes, attributes and attributesMask 8 bytes each).
Result<TdxModuleIdentity> ModuleIdentity(const DocFields& f, const Json& object,
                                         std::string_view path, bool is_entry) {
  if (!object.is_object()) {
    return f.Error(Code::kMalformed, "wrong_type",
                   fmt::format("{}: expected object, got {}", path, JsonTypeName(object)));
  }
  TdxModuleIdentity out{};
  if (is_entry) {
    LUNAL_ASSIGN_OR_RETURN(out.id, f.String(object, "id", path));
  }
  LUNAL_ASSIGN_OR_RETURN(out.mrsigner, f.HexArray<48>(object, "mrsigner", path));
  LUNAL_ASSIGN_OR_RETURN(out.attributes, f.HexArray<8>(object, "attributes", path));
  LUNAL_ASSIGN_OR_RETURN(out.attributes_mask, f.HexArray<8>(object, "attributesMask", path));
  if (is_entry) {
    LUNAL_ASSIGN_OR_RETURN(out.tcb_levels, f.IsvLevels(object, "tcbLevels", path, kModuleStatuses));
  }
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Result<std::vector<TdxModuleIdentity>> ModuleIdentities(const DocFields& f, const Json& body) {
  std::vector<TdxModuleIdentity> out;
  if (!body.contains("tdxModuleIdentities")) return out;  // optional in TCB Info v3
  LUNAL_ASSIGN_OR_RETURN(const Json* array, f.Array(body, "tdxModuleIdentities", "tcbInfo"));
  for (std::size_t i = 0; i < array->size(); ++i) {
    LUNAL_ASSIGN_OR_RETURN(
        TdxModuleIdentity identity,
        ModuleIdentity(f, (*array)[i], JsonPath("tcbInfo.tdxModuleIdentities", i), true));
    for (const TdxModuleIdentity& seen : out) {
      if (Upper(seen.id) == Upper(identity.id)) {
        return f.Error(
            Code::kMalformed, "duplicate_module_identity",
            fmt::format("tcbInfo.tdxModuleIdentities: \"{}\" appears twice", identity.id));
      }
    }
    out.push_back(std::move(identity));
  }
  return out;
}

}  // namespace

const TdxModuleIdentity* TcbInfo::FindModuleIdentity(std::uint8_t major) const {
  // QVL TdxModuleCheck.cpp findTdxModuleIdentity: "TDX_" + two uppercase hex digits, compared
  // with the identity's id upper-cased.
  std::string want = fmt::format("TDX_{:02X}", major);
  for (const TdxModuleIdentity& identity : tdx_module_identities) {
    if (Upper(identity.id) == want) return &identity;
  }
  return nullptr;
}

std::string TcbInfo::FmspcHex() const { return HexEncode(fmspc); }

Result<TcbInfo> ParseTcbInfo(std::string_view document) {
  const DocFields f("tdx.tcb_info");
  // 1-4. strict JSON, signature, exact signed bytes, body parsed from them.
  LUNAL_ASSIGN_OR_RETURN(Unwrapped doc, Unwrap(document, "tcbInfo", f));
  const Json& body = doc.body;
  const std::string_view path = "tcbInfo";
  TcbInfo out{};
  // 5. version 3, id "TDX".
  LUNAL_RETURN_IF_ERROR(
      CheckVersionAndId(f, body, path, kTcbInfoVersion, kTcbInfoIdTdx, out.version, out.id));
  // 6. validity window.
  LUNAL_RETURN_IF_ERROR(ReadValidity(f, body, path, out.issue_date, out.next_update));
  // 7. platform identity and evaluation data number; tcbType 0 only (QVL 4.1.2.7.4).
  LUNAL_ASSIGN_OR_RETURN(out.fmspc, f.HexArray<6>(body, "fmspc", path));
  LUNAL_ASSIGN_OR_RETURN(out.pce_id, f.HexArray<2>(body, "pceId", path));
  LUNAL_ASSIGN_OR_RETURN(std::int64_t tcb_type, f.Int(body, "tcbType", path));
  if (tcb_type != 0) {
    return f.Error(Code::kUnsupported, "unsupported_tcb_type",
                   fmt::format("tcbInfo.tcbType is {}; only 0 is supported", tcb_type));
  }
  out.tcb_type = 0;
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t number,
                         f.Uint(body, "tcbEvaluationDataNumber", path, 0xFFFFFFFF));
  out.tcb_evaluation_data_number = static_cast<std::uint32_t>(number);
  // 8. tdxModule (required for id TDX), 9. tdxModuleIdentities (optional), 10. tcbLevels.
  LUNAL_ASSIGN_OR_RETURN(const Json* module, f.Object(body, "tdxModule", path));
  LUNAL_ASSIGN_OR_RETURN(out.tdx_module, ModuleIdentity(f, *module, "tcbInfo.tdxModule", false));
  LUNAL_ASSIGN_OR_RETURN(out.tdx_module_identities, ModuleIdentities(f, body));
  LUNAL_ASSIGN_OR_RETURN(out.tcb_levels, TcbLevels(f, body));
  out.signed_bytes = std::move(doc.signed_bytes);
  out.signature = doc.signature;
  return out;
}

Result<QeIdentity> ParseQeIdentity(std::string_view document) {
  const DocFields f("tdx.qe_identity");
  // 1-4. strict JSON, signature, exact signed bytes, body parsed from them.
  LUNAL_ASSIGN_OR_RETURN(Unwrapped doc, Unwrap(document, "enclaveIdentity", f));
  const Json& body = doc.body;
  const std::string_view path = "enclaveIdentity";
  QeIdentity out{};
  // 5. version 2, id "TD_QE" (QVL 4.1.2.4.14: version 1, QE and QVE identities are not for TDX).
  LUNAL_RETURN_IF_ERROR(
      CheckVersionAndId(f, body, path, kQeIdentityVersion, kQeIdentityIdTdQe, out.version, out.id));
  // 6. validity window and evaluation data number.
  LUNAL_RETURN_IF_ERROR(ReadValidity(f, body, path, out.issue_date, out.next_update));
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t number,
                         f.Uint(body, "tcbEvaluationDataNumber", path, 0xFFFFFFFF));
  out.tcb_evaluation_data_number = static_cast<std::uint32_t>(number);
  // 7. the QE's identity (EnclaveIdentityV2.cpp: exact hex lengths).
  LUNAL_ASSIGN_OR_RETURN(out.miscselect, f.HexArray<4>(body, "miscselect", path));
  LUNAL_ASSIGN_OR_RETURN(out.miscselect_mask, f.HexArray<4>(body, "miscselectMask", path));
  LUNAL_ASSIGN_OR_RETURN(out.attributes, f.HexArray<16>(body, "attributes", path));
  LUNAL_ASSIGN_OR_RETURN(out.attributes_mask, f.HexArray<16>(body, "attributesMask", path));
  LUNAL_ASSIGN_OR_RETURN(out.mrsigner, f.HexArray<32>(body, "mrsigner", path));
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t prod_id, f.Uint(body, "isvprodid", path, 0xFFFF));
  out.isv_prod_id = static_cast<std::uint16_t>(prod_id);
  // 8. tcbLevels.
  LUNAL_ASSIGN_OR_RETURN(out.tcb_levels, f.IsvLevels(body, "tcbLevels", path, kQeStatuses));
  out.signed_bytes = std::move(doc.signed_bytes);
  out.signature = doc.signature;
  return out;
}

}  // namespace lunal::attest::tdx
