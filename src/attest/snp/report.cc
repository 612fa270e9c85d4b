// ParseReport: a flat, numbered pipeline over the SNP report layout (report_layout.h,
// docs/formats/snp-report.md). Every byte is read through lunal::ByteReader; every fixed field
// is read through Take<Field>, which also proves that the reader stands at the field's offset.
//
//   0x000                                   0x2A0            0x2E8            0x330        0x4A0
//   | version … launch_tcb, [mit vectors], 0 | signature r(72) | signature s(72) | reserved 0 |
//   |<-------------- signed_region -------->|
#include "lunal/attest/snp/report.h"

#include <fmt/format.h>

#include "lunal/attest/snp/report_layout.h"
#include "lunal/common/byte_reader.h"

namespace lunal::attest::snp {
namespace {

namespace L = layout;

// A TCB_VERSION field: its 8 raw bytes and their little-endian value.
template <Field F>
Result<TcbVersion> TakeTcb(ByteReader& r, std::string_view name) {
  static_assert(F.size == 8);
  LUNAL_ASSIGN_OR_RETURN(FixedSpan<8> raw, Take<F>(r, name));
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t value, ByteReader(raw).U64Le(name));
  return TcbVersion{.raw = raw, .value = value};
}

std::uint64_t DefinedPolicyBits(std::uint32_t version) {
  if (version == L::kVersion2) return L::policy::kDefinedV2;
  if (version == L::kVersion3) return L::policy::kDefinedV3;
  return L::policy::kDefinedV5;
}

Status CheckVersion(std::uint32_t version) {
  if (version != L::kVersion2 && version != L::kVersion3 && version != L::kVersion5) {
    return Unsupported("snp.report.unsupported_version",
                       "report version {} is not supported (2, 3 or 5)", version);
  }
  return Status();
}

Status CheckPolicy(std::uint64_t bits, std::uint32_t version) {
  const std::uint64_t unknown = bits & ~DefinedPolicyBits(version);
  if (unknown != 0) {
    return Malformed("snp.policy.unknown_bits",
                     "policy 0x{:x} sets bits 0x{:x} that a version {} report does not define",
                     bits, unknown, version);
  }
  if (((bits >> L::policy::kReservedMbo) & 1u) == 0) {
    return Malformed("snp.policy.reserved_must_be_one", "policy 0x{:x}: bit 17 must be one", bits);
  }
  return Status();
}

Status CheckFlags(std::uint32_t flags) {
  if ((flags & ~L::flags::kDefined) != 0) {
    return Malformed("snp.report.flags.unknown_bits", "flags 0x{:x} set undefined bits 0x{:x}",
                     flags, flags & ~L::flags::kDefined);
  }
  const std::uint32_t key = (flags & L::flags::kSigningKeyMask) >> L::flags::kSigningKeyShift;
  if (key != L::flags::kSigningKeyVcek && key != L::flags::kSigningKeyVlek &&
      key != L::flags::kSigningKeyNone) {
    return Malformed("snp.report.flags.unknown_signing_key",
                     "signing key {} is not 0 (VCEK), 1 (VLEK) or 7 (none)", key);
  }
  return Status();
}

}  // namespace

std::string_view ProductName(Product product) {
  switch (product) {
    case Product::kMilan:
      return "Milan";
    case Product::kGenoa:
      return "Genoa";
    case Product::kTurin:
      return "Turin";
  }
  return "unknown";
}

std::optional<Product> ProductFromCpuid(std::uint8_t family, std::uint8_t model) {
  if (family == 0x19 && model <= 0x0f) return Product::kMilan;
  if (family == 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf))) {
    return Product::kGenoa;
  }
  if (family == 0x1a && model <= 0x1f) return Product::kTurin;
  return std::nullopt;
}

std::optional<Product> ProductFromName(std::string_view name) {
  for (Product p : {Product::kMilan, Product::kGenoa, Product::kTurin}) {
    if (name.find(ProductName(p)) != std::string_view::npos) return p;
  }
  return std::nullopt;
}

TcbParts TcbVersion::Decode(Product product) const {
  // Bytes by shifting the little-endian value: no indexing outside ByteReader.
  auto at = [this](std::size_t i) { return static_cast<std::uint8_t>((value >> (8 * i)) & 0xff); };
  auto zero = [this](L::Field f) {
    for (std::size_t i = f.offset; i < f.end(); ++i) {
      if (((value >> (8 * i)) & 0xff) != 0) return false;
    }
    return true;
  };
  if (product == Product::kTurin) {
    namespace T = L::tcb::turin;
    return TcbParts{.fmc = at(T::kFmc),
                    .boot_loader = at(T::kBootLoader),
                    .tee = at(T::kTee),
                    .snp = at(T::kSnp),
                    .microcode = at(T::kMicrocode),
                    .reserved_zero = zero(T::kReserved)};
  }
  namespace M = L::tcb::milan_genoa;
  return TcbParts{.fmc = std::nullopt,
                  .boot_loader = at(M::kBootLoader),
                  .tee = at(M::kTee),
                  .snp = at(M::kSnp),
                  .microcode = at(M::kMicrocode),
                  .reserved_zero = zero(M::kReserved)};
}

bool GuestPolicy::smt() const { return Bit(L::policy::kSmt); }
bool GuestPolicy::migrate_ma() const { return Bit(L::policy::kMigrateMa); }
bool GuestPolicy::debug() const { return Bit(L::policy::kDebug); }
bool GuestPolicy::single_socket() const { return Bit(L::policy::kSingleSocket); }
bool GuestPolicy::cxl_allow() const { return Bit(L::policy::kCxlAllow); }
bool GuestPolicy::mem_aes_256_xts() const { return Bit(L::policy::kMemAes256Xts); }
bool GuestPolicy::rapl_dis() const { return Bit(L::policy::kRaplDis); }
bool GuestPolicy::ciphertext_hiding() const { return Bit(L::policy::kCiphertextHiding); }
bool GuestPolicy::page_swap_disable() const { return Bit(L::policy::kPageSwapDisable); }

std::vector<std::string> GuestPolicy::FlagNames() const {
  static constexpr std::pair<unsigned, std::string_view> kNames[] = {
      {L::policy::kSmt, "SMT"},
      {L::policy::kMigrateMa, "MIGRATE_MA"},
      {L::policy::kDebug, "DEBUG"},
      {L::policy::kSingleSocket, "SINGLE_SOCKET"},
      {L::policy::kCxlAllow, "CXL_ALLOW"},
      {L::policy::kMemAes256Xts, "MEM_AES_256_XTS"},
      {L::policy::kRaplDis, "RAPL_DIS"},
      {L::policy::kCiphertextHiding, "CIPHERTEXT_HIDING"},
      {L::policy::kPageSwapDisable, "PAGE_SWAP_DISABLE"}};
  std::vector<std::string> names;
  for (unsigned bit = 16; bit < 64; ++bit) {
    if (!Bit(bit) || bit == L::policy::kReservedMbo) continue;
    std::string name = fmt::format("BIT{}", bit);
    for (const auto& [b, n] : kNames) {
      if (b == bit) name = std::string(n);
    }
    names.push_back(std::move(name));
  }
  return names;
}

std::string_view SigningKeyName(SigningKey key) {
  switch (key) {
    case SigningKey::kVcek:
      return "VCEK";
    case SigningKey::kVlek:
      return "VLEK";
    case SigningKey::kNone:
      return "none";
  }
  return "unknown";
}

std::optional<Product> ReportView::product() const {
  if (!cpuid_fam_id || !cpuid_mod_id) return std::nullopt;
  return ProductFromCpuid(*cpuid_fam_id, *cpuid_mod_id);
}

Result<ReportView> ParseReport(ByteSpan bytes) {
  ByteReader outer(bytes);
  // 1. Size: the report is 1184 bytes; only zero padding may follow.
  LUNAL_ASSIGN_OR_RETURN(ByteReader r, outer.Sub(L::kReportSize, "snp.report"));
  const auto report = r.rest();
  const auto signed_region = report.first(L::kSignedSize);
  const auto trailing = outer.rest();
  if (Status zero =
          ByteReader(trailing, L::kReportSize).ExpectZero(trailing.size(), "snp.report.trailing");
      !zero.ok()) {
    return Malformed("snp.report.trailing_bytes", "{}", zero.message());
  }
  // 2. Version, then the header fields.
  LUNAL_ASSIGN_OR_RETURN(auto version, TakeU32<L::kVersion>(r, "snp.report.version"));
  LUNAL_RETURN_IF_ERROR(CheckVersion(version));
  LUNAL_ASSIGN_OR_RETURN(auto guest_svn, TakeU32<L::kGuestSvn>(r, "snp.report.guest_svn"));
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t policy_bits, TakeU64<L::kPolicy>(r, "snp.report.policy"));
  LUNAL_RETURN_IF_ERROR(CheckPolicy(policy_bits, version));
  LUNAL_ASSIGN_OR_RETURN(auto family_id, Take<L::kFamilyId>(r, "snp.report.family_id"));
  LUNAL_ASSIGN_OR_RETURN(auto image_id, Take<L::kImageId>(r, "snp.report.image_id"));
  LUNAL_ASSIGN_OR_RETURN(auto vmpl, TakeU32<L::kVmpl>(r, "snp.report.vmpl"));
  LUNAL_ASSIGN_OR_RETURN(auto signature_algo, TakeU32<L::kSignatureAlgo>(r, "snp.report"));
  if (signature_algo != L::kSignatureAlgoEcdsaP384Sha384) {
    return Unsupported("snp.report.unsupported_signature_algo",
                       "signature algorithm {} is not supported (1 = ECDSA P-384 with SHA-384)",
                       signature_algo);
  }
  LUNAL_ASSIGN_OR_RETURN(auto current_tcb, TakeTcb<L::kCurrentTcb>(r, "snp.report.current_tcb"));
  LUNAL_ASSIGN_OR_RETURN(auto platform_info, TakeU64<L::kPlatformInfo>(r, "snp.report"));
  // 3. FLAGS: author key, chip-id masking, which key signed.
  LUNAL_ASSIGN_OR_RETURN(auto flags, TakeU32<L::kFlags>(r, "snp.report.flags"));
  LUNAL_RETURN_IF_ERROR(CheckFlags(flags));
  const auto author_key_en = (flags & L::flags::kAuthorKeyEn) != 0;
  const auto mask_chip_key = (flags & L::flags::kMaskChipKey) != 0;
  const auto signing_key =
      static_cast<SigningKey>((flags & L::flags::kSigningKeyMask) >> L::flags::kSigningKeyShift);
  LUNAL_RETURN_IF_ERROR(TakeZero<L::kReserved0>(r, "snp.report.reserved0"));
  // 4. Guest-visible measurements and identities.
  LUNAL_ASSIGN_OR_RETURN(auto report_data, Take<L::kReportData>(r, "snp.report.report_data"));
  LUNAL_ASSIGN_OR_RETURN(auto measurement, Take<L::kMeasurement>(r, "snp.report.measurement"));
  LUNAL_ASSIGN_OR_RETURN(auto host_data, Take<L::kHostData>(r, "snp.report.host_data"));
  LUNAL_ASSIGN_OR_RETURN(auto id_key_digest, Take<L::kIdKeyDigest>(r, "snp.report"));
  LUNAL_ASSIGN_OR_RETURN(auto author_key_digest, Take<L::kAuthorKeyDigest>(r, "snp.report"));
  LUNAL_ASSIGN_OR_RETURN(auto report_id, Take<L::kReportId>(r, "snp.report.report_id"));
  LUNAL_ASSIGN_OR_RETURN(auto report_id_ma, Take<L::kReportIdMa>(r, "snp.report.report_id_ma"));
  LUNAL_ASSIGN_OR_RETURN(auto reported_tcb, TakeTcb<L::kReportedTcb>(r, "snp.report.reported_tcb"));
  std::optional<std::uint8_t> cpuid_fam_id, cpuid_mod_id, cpuid_step;
  // 5. CPUID (v3+; reserved in v2).
  if (version == L::kVersion2) {
    LUNAL_RETURN_IF_ERROR(
        r.ExpectZero(L::kChipId.offset - L::kCpuidFamId.offset, "snp.report.reserved1"));
  } else {
    LUNAL_ASSIGN_OR_RETURN(cpuid_fam_id, TakeU8<L::kCpuidFamId>(r, "snp.report.cpuid_fam_id"));
    LUNAL_ASSIGN_OR_RETURN(cpuid_mod_id, TakeU8<L::kCpuidModId>(r, "snp.report.cpuid_mod_id"));
    LUNAL_ASSIGN_OR_RETURN(cpuid_step, TakeU8<L::kCpuidStep>(r, "snp.report.cpuid_step"));
    LUNAL_RETURN_IF_ERROR(TakeZero<L::kReserved1>(r, "snp.report.reserved1"));
  }
  // 6. Chip and firmware versions.
  LUNAL_ASSIGN_OR_RETURN(auto chip_id, Take<L::kChipId>(r, "snp.report.chip_id"));
  LUNAL_ASSIGN_OR_RETURN(auto committed_tcb, TakeTcb<L::kCommittedTcb>(r, "snp.report"));
  LUNAL_ASSIGN_OR_RETURN(auto current_build, TakeU8<L::kCurrentBuild>(r, "snp.report"));
  LUNAL_ASSIGN_OR_RETURN(auto current_minor, TakeU8<L::kCurrentMinor>(r, "snp.report"));
  LUNAL_ASSIGN_OR_RETURN(auto current_major, TakeU8<L::kCurrentMajor>(r, "snp.report"));
  LUNAL_RETURN_IF_ERROR(TakeZero<L::kReserved2>(r, "snp.report.reserved2"));
  LUNAL_ASSIGN_OR_RETURN(auto committed_build, TakeU8<L::kCommittedBuild>(r, "snp.report"));
  LUNAL_ASSIGN_OR_RETURN(auto committed_minor, TakeU8<L::kCommittedMinor>(r, "snp.report"));
  LUNAL_ASSIGN_OR_RETURN(auto committed_major, TakeU8<L::kCommittedMajor>(r, "snp.report"));
  LUNAL_RETURN_IF_ERROR(TakeZero<L::kReserved3>(r, "snp.report.reserved3"));
  LUNAL_ASSIGN_OR_RETURN(auto launch_tcb, TakeTcb<L::kLaunchTcb>(r, "snp.report.launch_tcb"));
  std::optional<std::uint64_t> launch_mit_vector, current_mit_vector;
  // 7. Mitigation vectors (v5; reserved before).
  if (version >= L::kVersion5) {
    LUNAL_ASSIGN_OR_RETURN(launch_mit_vector, TakeU64<L::kLaunchMitVector>(r, "snp.report"));
    LUNAL_ASSIGN_OR_RETURN(current_mit_vector, TakeU64<L::kCurrentMitVector>(r, "snp.report"));
  } else {
    LUNAL_RETURN_IF_ERROR(
        r.ExpectZero(L::kReserved4.offset - L::kLaunchMitVector.offset, "snp.report.mit_vector"));
  }
  LUNAL_RETURN_IF_ERROR(TakeZero<L::kReserved4>(r, "snp.report.reserved4"));
  // 8. Signature: r, s (little-endian), then reserved zero.
  LUNAL_ASSIGN_OR_RETURN(auto signature_r, Take<L::kSignatureR>(r, "snp.report.signature"));
  LUNAL_ASSIGN_OR_RETURN(auto signature_s, Take<L::kSignatureS>(r, "snp.report.signature"));
  LUNAL_RETURN_IF_ERROR(TakeZero<L::kSignatureReserved>(r, "snp.report.signature.reserved"));
  LUNAL_RETURN_IF_ERROR(r.ExpectEnd("snp.report"));
  return ReportView{.report = report,
                    .signed_region = signed_region,
                    .trailing = trailing,
                    .version = version,
                    .guest_svn = guest_svn,
                    .policy = GuestPolicy{policy_bits},
                    .family_id = family_id,
                    .image_id = image_id,
                    .vmpl = vmpl,
                    .signature_algo = signature_algo,
                    .current_tcb = current_tcb,
                    .platform_info = platform_info,
                    .flags = flags,
                    .author_key_en = author_key_en,
                    .mask_chip_key = mask_chip_key,
                    .signing_key = signing_key,
                    .report_data = report_data,
                    .measurement = measurement,
                    .host_data = host_data,
                    .id_key_digest = id_key_digest,
                    .author_key_digest = author_key_digest,
                    .report_id = report_id,
                    .report_id_ma = report_id_ma,
                    .reported_tcb = reported_tcb,
                    .cpuid_fam_id = cpuid_fam_id,
                    .cpuid_mod_id = cpuid_mod_id,
                    .cpuid_step = cpuid_step,
                    .chip_id = chip_id,
                    .committed_tcb = committed_tcb,
                    .current_build = current_build,
                    .current_minor = current_minor,
                    .current_major = current_major,
                    .committed_build = committed_build,
                    .committed_minor = committed_minor,
                    .committed_major = committed_major,
                    .launch_tcb = launch_tcb,
                    .launch_mit_vector = launch_mit_vector,
                    .current_mit_vector = current_mit_vector,
                    .signature_r = signature_r,
                    .signature_s = signature_s};
}

}  // namespace lunal::attest::snp
