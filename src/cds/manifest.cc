#include "lunal/cds/manifest.h"

#include <set>
#include <utility>

#include "lunal/attest/report_data.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"

namespace lunal::cds {
namespace {

Status Bad(std::string_view path, std::string_view what) {
  return Malformed("cds.manifest.bad_field", "{}: {}", path, what);
}

// Wraps json.* accessor errors in the manifest's reason, keeping the message (which names the
// path).
template <typename T>
Result<T> Field(Result<T> r) {
  if (!r.ok()) return Malformed("cds.manifest.bad_field", "{}", r.error().message());
  return r;
}

Status CheckKeys(const Json& object, std::string_view path,
                 std::initializer_list<std::string_view> known) {
  if (!object.is_object()) return Bad(path, "expected an object");
  for (const auto& [key, value] : object.items()) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || k == key;
    if (!ok) return Bad(JsonPath(path, key), "unknown member");
  }
  return Status::Ok();
}

bool IsLowerHex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Hex lengths (characters) of each measurement name: TDX registers are SHA-384 (48 bytes), SNP
// MEASUREMENT 48 bytes and HOST_DATA 32 bytes (Intel TDX module ABI; AMD SEV-SNP ABI Table 23).
const std::map<std::string, std::size_t, std::less<>>& MeasurementLengths() {
  static const auto* lengths = new std::map<std::string, std::size_t, std::less<>>{
      {"mr_td", 96}, {"rtmr0", 96},        {"rtmr1", 96},       {"rtmr2", 96},
      {"rtmr3", 96}, {"mr_config_id", 96}, {"measurement", 96}, {"host_data", 64}};
  return *lengths;
}

template <typename T>
Result<std::optional<T>> OptionalSmall(const Json& object, std::string_view key,
                                       std::string_view path, std::uint64_t max) {
  if (!object.contains(key)) return std::optional<T>();
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t v, Field(JsonUint(object, key, path)));
  if (v > max) return Bad(JsonPath(path, key), fmt::format("at most {}", max));
  return std::optional<T>(static_cast<T>(v));
}

Result<MinTcb> ParseMinTcb(const Json& doc, std::string_view path) {
  LUNAL_RETURN_IF_ERROR(CheckKeys(doc, path, {"tdx", "snp"}));
  MinTcb out;
  if (doc.contains("tdx")) {
    const std::string p = JsonPath(path, "tdx");
    const Json& tdx = doc["tdx"];
    LUNAL_RETURN_IF_ERROR(CheckKeys(tdx, p, {"tee_tcb_svn", "pce_svn", "qe_isv_svn"}));
    if (tdx.contains("tee_tcb_svn")) {
      LUNAL_ASSIGN_OR_RETURN(std::string hex, Field(JsonString(tdx, "tee_tcb_svn", p)));
      auto bytes = HexDecode(hex);
      if (!bytes.ok() || bytes->size() != 16 || !IsLowerHex(hex)) {
        return Bad(JsonPath(p, "tee_tcb_svn"), "expected 32 lowercase hex digits");
      }
      out.tdx_tee_tcb_svn = std::move(*bytes);
    }
    LUNAL_ASSIGN_OR_RETURN(out.tdx_pce_svn, OptionalSmall<std::uint16_t>(tdx, "pce_svn", p, 65535));
    LUNAL_ASSIGN_OR_RETURN(out.tdx_qe_isv_svn,
                           OptionalSmall<std::uint16_t>(tdx, "qe_isv_svn", p, 65535));
  }
  if (doc.contains("snp")) {
    const std::string p = JsonPath(path, "snp");
    const Json& snp = doc["snp"];
    LUNAL_RETURN_IF_ERROR(CheckKeys(snp, p, {"boot_loader", "tee", "snp", "microcode"}));
    LUNAL_ASSIGN_OR_RETURN(out.snp_boot_loader,
                           OptionalSmall<std::uint8_t>(snp, "boot_loader", p, 255));
    LUNAL_ASSIGN_OR_RETURN(out.snp_tee, OptionalSmall<std::uint8_t>(snp, "tee", p, 255));
    LUNAL_ASSIGN_OR_RETURN(out.snp_snp, OptionalSmall<std::uint8_t>(snp, "snp", p, 255));
    LUNAL_ASSIGN_OR_RETURN(out.snp_microcode,
                           OptionalSmall<std::uint8_t>(snp, "microcode", p, 255));
  }
  return out;
}

Result<AllowListEntry> ParseEntry(const Json& doc, std::string_view path) {
  LUNAL_RETURN_IF_ERROR(CheckKeys(
      doc, path,
      {"tenant", "deployment", "build_hashes", "measurements", "allow_simulated", "min_tcb"}));
  AllowListEntry e;
  LUNAL_ASSIGN_OR_RETURN(e.tenant, Field(JsonString(doc, "tenant", path)));
  LUNAL_ASSIGN_OR_RETURN(e.deployment, Field(JsonString(doc, "deployment", path)));
  if (!IsValidName(e.tenant)) return Bad(JsonPath(path, "tenant"), "not a valid name");
  if (!IsValidName(e.deployment)) return Bad(JsonPath(path, "deployment"), "not a valid name");
  LUNAL_ASSIGN_OR_RETURN(const Json* hashes, Field(JsonArray(doc, "build_hashes", path)));
  for (std::size_t i = 0; i < hashes->size(); ++i) {
    const Json& h = (*hashes)[i];
    if (!h.is_string() || !attest::IsSha256Ref(h.get<std::string>())) {
      return Bad(JsonPath(JsonPath(path, "build_hashes"), i), "expected \"sha256:<64 hex>\"");
    }
    e.build_hashes.push_back(h.get<std::string>());
  }
  if (doc.contains("measurements")) {
    const std::string p = JsonPath(path, "measurements");
    const Json& m = doc["measurements"];
    if (!m.is_object()) return Bad(p, "expected an object");
    for (const auto& [name, values] : m.items()) {
      auto length = MeasurementLengths().find(name);
      if (length == MeasurementLengths().end()) return Bad(JsonPath(p, name), "unknown name");
      if (!values.is_array()) return Bad(JsonPath(p, name), "expected an array");
      std::vector<std::string>& out = e.measurements[name];
      for (std::size_t i = 0; i < values.size(); ++i) {
        const Json& v = values[i];
        if (!v.is_string() || v.get<std::string>().size() != length->second ||
            !IsLowerHex(v.get<std::string>())) {
          return Bad(JsonPath(JsonPath(p, name), i),
                     fmt::format("expected {} lowercase hex digits", length->second));
        }
        out.push_back(v.get<std::string>());
      }
    }
  }
  if (doc.contains("allow_simulated")) {
    LUNAL_ASSIGN_OR_RETURN(e.allow_simulated, Field(JsonBool(doc, "allow_simulated", path)));
  }
  if (doc.contains("min_tcb")) {
    LUNAL_ASSIGN_OR_RETURN(e.min_tcb, ParseMinTcb(doc["min_tcb"], JsonPath(path, "min_tcb")));
  }
  return e;
}

}  // namespace

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (name.front() == '-') return false;
  return name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string_view::npos;
}

const AllowListEntry* AllowList::Find(std::string_view tenant, std::string_view deployment) const {
  for (const AllowListEntry& e : entries) {
    if (e.tenant == tenant && e.deployment == deployment) return &e;
  }
  return nullptr;
}

Result<AllowList> ParseAllowList(std::string_view payload_json) {
  auto doc = ParseJson(payload_json);
  if (!doc.ok()) return Malformed("cds.manifest.bad_field", "payload: {}", doc.error().message());
  LUNAL_RETURN_IF_ERROR(CheckKeys(*doc, "", {"version", "issued_at", "entries"}));
  AllowList list;
  LUNAL_ASSIGN_OR_RETURN(list.version, Field(JsonInt(*doc, "version")));
  if (list.version < 1) return Bad("version", "must be at least 1");
  LUNAL_ASSIGN_OR_RETURN(std::string issued, Field(JsonString(*doc, "issued_at")));
  auto when = ParseRfc3339(issued);
  if (!when.ok()) return Bad("issued_at", when.error().message());
  list.issued_at = *when;
  LUNAL_ASSIGN_OR_RETURN(const Json* entries, Field(JsonArray(*doc, "entries")));
  std::set<std::pair<std::string, std::string>> seen;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    LUNAL_ASSIGN_OR_RETURN(AllowListEntry e, ParseEntry((*entries)[i], JsonPath("entries", i)));
    if (!seen.emplace(e.tenant, e.deployment).second) {
      return Bad(JsonPath("entries", i),
                 fmt::format("second entry for {}/{}", e.tenant, e.deployment));
    }
    list.entries.push_back(std::move(e));
  }
  return list;
}

Result<VerifiedManifest> VerifyManifestEnvelope(std::string_view envelope_json,
                                                const crypto::PublicKey& operator_key) {
  LUNAL_ASSIGN_OR_RETURN(crypto::DsseEnvelope envelope, crypto::ParseDsse(envelope_json));
  if (envelope.payload_type != kAllowListPayloadType) {
    return Malformed("cds.manifest.bad_type", "payloadType \"{}\", want \"{}\"",
                     envelope.payload_type, kAllowListPayloadType);
  }
  if (Status s = crypto::VerifyDsse(envelope, operator_key); !s.ok()) {
    return VerificationFailed("cds.manifest.bad_signature",
                              "no signature by the pinned operator key verifies: {}", s.message());
  }
  LUNAL_ASSIGN_OR_RETURN(AllowList list, ParseAllowList(AsStringView(envelope.payload)));
  return VerifiedManifest{.envelope = std::move(envelope), .list = std::move(list)};
}

}  // namespace lunal::cds
