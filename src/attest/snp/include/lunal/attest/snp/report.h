// Layer 2: the structure of an AMD SEV-SNP attestation report (v2, v3, v5), as a view over the
// caller's bytes.
//
//   LUNAL_ASSIGN_OR_RETURN(ReportView report, ParseReport(bytes));
//   HexEncode(report.measurement);  report.policy.debug();  report.signed_region;
//
// ParseReport checks structure only: size, the supported versions and signature algorithm, known
// FLAGS and POLICY bits, and that every reserved range is zero. It verifies no signature or
// certificate: that is the verifier's job (layer 3, verify.h). Layout: report_layout.h and
// docs/formats/snp-report.md.
//
// Ownership and lifetime: a ReportView BORROWS the buffer given to ParseReport; every span in it
// points into that buffer, which must outlive the view and not change. Thread-safety: a
// ReportView is an immutable value.
//
// Errors (lunal::Status reasons, stable):
//   kMalformed   snp.report.truncated (fewer than 1184 bytes);
//                snp.report.trailing_bytes (a non-zero byte after the 1184 bytes);
//                snp.report.<field>.not_zero for reserved ranges: reserved0 (0x4C),
//                reserved1 (0x18B, v3+; v2: cpuid at 0x188 too), reserved2 (0x1EB),
//                reserved3 (0x1EF), mit_vector (0x1F8, v2/v3), reserved4 (0x208),
//                signature.reserved (0x330);
//                snp.report.flags.unknown_bits, snp.report.flags.unknown_signing_key;
//                snp.policy.unknown_bits (a bit the report's version does not define),
//                snp.policy.reserved_must_be_one (bit 17 clear).
//   kUnsupported snp.report.unsupported_version (not 2, 3 or 5),
//                snp.report.unsupported_signature_algo (not 1 = ECDSA P-384 with SHA-384).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/layout.h"  // FixedSpan
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::snp {


// The AMD EPYC generation: it decides TCB_VERSION's byte layout and the root of trust (ARK).
enum class Product { kMilan, kGenoa, kTurin };
std::string_view ProductName(Product product);  // "Milan", "Genoa", "Turin"
// From the report's CPUID fields (v3+): family 0x19 models 0x00–0x0F Milan, 0x10–0x1F and
// 0xA0–0xAF Genoa; family 0x1A models 0x00–0x1F Turin. nullopt for anything else.
std::optional<Product> ProductFromCpuid(std::uint8_t family, std::uint8_t model);
// From a certificate name ("Milan", "Genoa", "Turin" as a word in "SEV-Genoa", "ARK-Milan", ...).
std::optional<Product> ProductFromName(std::string_view name);

// A TCB_VERSION decoded for one product (the byte positions differ: report_layout.h).
struct TcbParts {
  std::optional<std::uint8_t> fmc;  // Turin only
  std::uint8_t boot_loader = 0;
  std::uint8_t tee = 0;
  std::uint8_t snp = 0;
  std::uint8_t microcode = 0;
  bool reserved_zero = true;  // the product's reserved bytes are zero
  friend bool operator==(const TcbParts&, const TcbParts&) = default;
};

struct TcbVersion {
  FixedSpan<8> raw;
  std::uint64_t value;
  TcbParts Decode(Product product) const;
};

// Guest policy [ABI] "Guest Policy".
struct GuestPolicy {
  std::uint64_t bits;
  bool Bit(unsigned n) const { return n < 64 && ((bits >> n) & 1u) != 0; }
  std::uint8_t abi_minor() const { return static_cast<std::uint8_t>(bits & 0xff); }
  std::uint8_t abi_major() const { return static_cast<std::uint8_t>((bits >> 8) & 0xff); }
  bool smt() const;
  bool migrate_ma() const;
  bool debug() const;
  bool single_socket() const;
  bool cxl_allow() const;
  bool mem_aes_256_xts() const;
  bool rapl_dis() const;
  bool ciphertext_hiding() const;
  bool page_swap_disable() const;
  // Names of the set flag bits (16 and up, without the must-be-one bit 17), lowest first.
  std::vector<std::string> FlagNames() const;
};

enum class SigningKey : std::uint8_t { kVcek = 0, kVlek = 1, kNone = 7 };
std::string_view SigningKeyName(SigningKey key);  // "VCEK", "VLEK", "none"

struct ReportView {
  ByteSpan report;         // the 1184 bytes
  ByteSpan signed_region;  // bytes 0x000..0x29F
  ByteSpan trailing;       // zero padding after the report

  std::uint32_t version;
  std::uint32_t guest_svn;
  GuestPolicy policy;
  FixedSpan<16> family_id;
  FixedSpan<16> image_id;
  std::uint32_t vmpl;
  std::uint32_t signature_algo;
  TcbVersion current_tcb;
  std::uint64_t platform_info;
  std::uint32_t flags;
  bool author_key_en;
  bool mask_chip_key;
  SigningKey signing_key;
  FixedSpan<64> report_data;
  FixedSpan<48> measurement;
  FixedSpan<32> host_data;
  FixedSpan<48> id_key_digest;
  FixedSpan<48> author_key_digest;
  FixedSpan<32> report_id;
  FixedSpan<32> report_id_ma;
  TcbVersion reported_tcb;
  // v3+ only (reserved, zero, in v2).
  std::optional<std::uint8_t> cpuid_fam_id, cpuid_mod_id, cpuid_step;
  FixedSpan<64> chip_id;
  TcbVersion committed_tcb;
  std::uint8_t current_build, current_minor, current_major;
  std::uint8_t committed_build, committed_minor, committed_major;
  TcbVersion launch_tcb;
  // v5 only.
  std::optional<std::uint64_t> launch_mit_vector, current_mit_vector;
  FixedSpan<72> signature_r;  // little-endian
  FixedSpan<72> signature_s;  // little-endian

  // The product named by the CPUID fields (v3+), if known.
  std::optional<Product> product() const;
};

// Parses a report from the first byte of `bytes` (unwrap containers first: evidence_input.h).
// Bytes after the report must be zero.
Result<ReportView> ParseReport(ByteSpan bytes);

}  // namespace lunal::attest::snp
