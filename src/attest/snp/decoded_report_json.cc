#include "decoded_report_json.h"

#include <fmt/format.h>

#include "lunal/attest/snp/report_layout.h"

namespace lunal::attest::snp::internal {
namespace {

namespace L = layout;

// Writes fields at their layout offsets into a zeroed 1184-byte report.
class Writer {
 public:
  Writer() : bytes_(L::kReportSize, 0) {}
  void Uint(L::Field f, std::uint64_t value) {
    for (std::size_t i = 0; i < f.size; ++i) {
      bytes_[f.offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
    }
  }
  void Raw(L::Field f, const Bytes& value) {
    std::copy(value.begin(), value.end(), bytes_.begin() + static_cast<std::ptrdiff_t>(f.offset));
  }
  Bytes Take() && { return std::move(bytes_); }

 private:
  Bytes bytes_;
};

Result<std::uint64_t> Uint(const Json& o, std::string_view key, std::string_view path,
                           std::uint64_t max) {
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t v, JsonUint(o, key, path));
  if (v > max) {
    return Malformed("json.out_of_range", "{}: {} exceeds {}", JsonPath(path, key), v, max);
  }
  return v;
}

Result<Bytes> Array(const Json& o, std::string_view key, std::string_view path, std::size_t n) {
  LUNAL_ASSIGN_OR_RETURN(const Json* array, JsonArray(o, key, path));
  const std::string p = JsonPath(path, key);
  if (array->size() != n) {
    return Malformed("snp.container.bad_byte_array", "{}: {} bytes, expected {}", p, array->size(),
                     n);
  }
  Bytes out;
  for (std::size_t i = 0; i < n; ++i) {
    const Json& v = (*array)[i];
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 0xff) {
      return Malformed("snp.container.bad_byte_array", "{}: not a byte value", JsonPath(p, i));
    }
    out.push_back(static_cast<std::uint8_t>(v.get<std::uint64_t>()));
  }
  return out;
}

// TCB_VERSION from {"fmc", "bootloader", "tee", "snp", "microcode"}: Turin's layout when fmc is
// present, Milan/Genoa's otherwise.
Result<std::uint64_t> Tcb(const Json& o, std::string_view key, std::string_view path) {
  LUNAL_ASSIGN_OR_RETURN(const Json* tcb, JsonObject(o, key, path));
  const std::string p = JsonPath(path, key);
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t bl, Uint(*tcb, "bootloader", p, 0xff));
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t tee, Uint(*tcb, "tee", p, 0xff));
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t snp, Uint(*tcb, "snp", p, 0xff));
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t ucode, Uint(*tcb, "microcode", p, 0xff));
  const auto at = [](std::uint64_t v, std::size_t byte) { return v << (8 * byte); };
  if (tcb->contains("fmc") && !(*tcb)["fmc"].is_null()) {
    namespace T = L::tcb::turin;
    LUNAL_ASSIGN_OR_RETURN(std::uint64_t fmc, Uint(*tcb, "fmc", p, 0xff));
    return at(fmc, T::kFmc) | at(bl, T::kBootLoader) | at(tee, T::kTee) | at(snp, T::kSnp) |
           at(ucode, T::kMicrocode);
  }
  namespace M = L::tcb::milan_genoa;
  return at(bl, M::kBootLoader) | at(tee, M::kTee) | at(snp, M::kSnp) | at(ucode, M::kMicrocode);
}

Status Version(Writer& w, const Json& o, std::string_view key, std::string_view path,
               L::Field build, L::Field minor, L::Field major) {
  LUNAL_ASSIGN_OR_RETURN(const Json* v, JsonObject(o, key, path));
  const std::string p = JsonPath(path, key);
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t b, Uint(*v, "build", p, 0xff));
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t mi, Uint(*v, "minor", p, 0xff));
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t ma, Uint(*v, "major", p, 0xff));
  w.Uint(build, b);
  w.Uint(minor, mi);
  w.Uint(major, ma);
  return Status();
}

}  // namespace

Result<Bytes> EncodeDecodedReport(const Json& r, std::string_view path) {
  constexpr std::uint64_t kU32 = 0xffffffffu, kU64 = ~std::uint64_t{0};
  Writer w;
  struct UintField {
    L::Field field;
    std::string_view key;
    std::uint64_t max;
  };
  for (const UintField& f : {UintField{L::kVersion, "version", kU32},
                             {L::kGuestSvn, "guest_svn", kU32},
                             {L::kPolicy, "policy", kU64},
                             {L::kVmpl, "vmpl", kU32},
                             {L::kSignatureAlgo, "sig_algo", kU32},
                             {L::kPlatformInfo, "plat_info", kU64},
                             {L::kFlags, "key_info", kU32},
                             {L::kCpuidFamId, "cpuid_fam_id", 0xff},
                             {L::kCpuidModId, "cpuid_mod_id", 0xff},
                             {L::kCpuidStep, "cpuid_step", 0xff}}) {
    if (f.field.offset >= L::kCpuidFamId.offset && !r.contains(f.key)) continue;  // v2
    LUNAL_ASSIGN_OR_RETURN(std::uint64_t v, Uint(r, f.key, path, f.max));
    w.Uint(f.field, v);
  }
  struct ArrayField {
    L::Field field;
    std::string_view key;
  };
  for (const ArrayField& f : {ArrayField{L::kFamilyId, "family_id"},
                              {L::kImageId, "image_id"},
                              {L::kReportData, "report_data"},
                              {L::kMeasurement, "measurement"},
                              {L::kHostData, "host_data"},
                              {L::kIdKeyDigest, "id_key_digest"},
                              {L::kAuthorKeyDigest, "author_key_digest"},
                              {L::kReportId, "report_id"},
                              {L::kReportIdMa, "report_id_ma"},
                              {L::kChipId, "chip_id"}}) {
    LUNAL_ASSIGN_OR_RETURN(Bytes v, Array(r, f.key, path, f.field.size));
    w.Raw(f.field, v);
  }
  struct TcbField {
    L::Field field;
    std::string_view key;
  };
  for (const TcbField& f : {TcbField{L::kCurrentTcb, "current_tcb"},
                            {L::kReportedTcb, "reported_tcb"},
                            {L::kCommittedTcb, "committed_tcb"},
                            {L::kLaunchTcb, "launch_tcb"}}) {
    LUNAL_ASSIGN_OR_RETURN(std::uint64_t v, Tcb(r, f.key, path));
    w.Uint(f.field, v);
  }
  LUNAL_RETURN_IF_ERROR(
      Version(w, r, "current", path, L::kCurrentBuild, L::kCurrentMinor, L::kCurrentMajor));
  LUNAL_RETURN_IF_ERROR(
      Version(w, r, "committed", path, L::kCommittedBuild, L::kCommittedMinor, L::kCommittedMajor));
  for (auto [field, key] : {std::pair{L::kLaunchMitVector, "launch_mit_vector"},
                            {L::kCurrentMitVector, "current_mit_vector"}}) {
    if (!r.contains(key) || r[key].is_null()) continue;
    LUNAL_ASSIGN_OR_RETURN(std::uint64_t v, Uint(r, key, path, kU64));
    w.Uint(field, v);
  }
  LUNAL_ASSIGN_OR_RETURN(const Json* sig, JsonObject(r, "signature", path));
  const std::string sig_path = JsonPath(path, "signature");
  LUNAL_ASSIGN_OR_RETURN(Bytes sig_r, Array(*sig, "r", sig_path, L::kSignatureR.size));
  LUNAL_ASSIGN_OR_RETURN(Bytes sig_s, Array(*sig, "s", sig_path, L::kSignatureS.size));
  w.Raw(L::kSignatureR, sig_r);
  w.Raw(L::kSignatureS, sig_s);
  return std::move(w).Take();
}

}  // namespace lunal::attest::snp::internal
