// Layer 1: the byte layout of an AMD SEV-SNP attestation report (versions 2, 3 and 5; 1184 bytes),
// as offsets and sizes. No logic: the parser (report.cc) reads the fields in this order with
// lunal::ByteReader, and the static_asserts below prove that the fields are contiguous and add up
// to the size the spec gives.
//
// Sources (checked against each other and against the real reports in ../shared/evidence):
//   [ABI] AMD, "SEV Secure Nested Paging Firmware ABI Specification", publication #56860:
//         table "ATTESTATION_REPORT Structure" (Table 21 in rev 1.54, Table 23 in rev 1.57/1.58),
//         "Guest Policy Structure" (Table 9/10), "TCB_VERSION Structure" (Table 3; Turin layout
//         added in rev 1.58), "PLATFORM_INFO".
//   [KDS] AMD, "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface
//         Specification", publication #57230: VCEK/VLEK certificate extensions.
//   Mirrored by google/go-sev-guest abi/abi.go and virtee/sev src/firmware/guest/types/snp.rs.
//
// All integers are little-endian. The signature is r then s, 72 bytes each, little-endian.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lunal/attest/layout.h"

namespace lunal::attest::snp::layout {

// Field and Tiles: lunal/attest/layout.h.
using ::lunal::attest::Field;
using ::lunal::attest::Tiles;

// ---- Values ------------------------------------------------------------------------------------

inline constexpr std::uint32_t kVersion2 = 2;  // [ABI] rev 1.51–1.54
inline constexpr std::uint32_t kVersion3 = 3;  // rev 1.55: CPUID_FAM/MOD/STEP
inline constexpr std::uint32_t kVersion5 = 5;  // rev 1.58: LAUNCH/CURRENT_MIT_VECTOR
inline constexpr std::uint32_t kSignatureAlgoEcdsaP384Sha384 = 1;
inline constexpr std::size_t kReportSize = 0x4A0;      // 1184
inline constexpr std::size_t kSignedSize = 0x2A0;      // bytes 0x000..0x29F are signed
inline constexpr std::size_t kHclReportOffset = 0x20;  // Azure HCL report: SNP report after header

// ---- ATTESTATION_REPORT [ABI] ------------------------------------------------------------------

inline constexpr Field kVersion{0x000, 4};
inline constexpr Field kGuestSvn{0x004, 4};
inline constexpr Field kPolicy{0x008, 8};
inline constexpr Field kFamilyId{0x010, 16};
inline constexpr Field kImageId{0x020, 16};
inline constexpr Field kVmpl{0x030, 4};
inline constexpr Field kSignatureAlgo{0x034, 4};
inline constexpr Field kCurrentTcb{0x038, 8};
inline constexpr Field kPlatformInfo{0x040, 8};
inline constexpr Field kFlags{0x048, 4};  // author_key_en, mask_chip_key, signing_key
inline constexpr Field kReserved0{0x04C, 4};
inline constexpr Field kReportData{0x050, 64};
inline constexpr Field kMeasurement{0x090, 48};
inline constexpr Field kHostData{0x0C0, 32};
inline constexpr Field kIdKeyDigest{0x0E0, 48};
inline constexpr Field kAuthorKeyDigest{0x110, 48};
inline constexpr Field kReportId{0x140, 32};
inline constexpr Field kReportIdMa{0x160, 32};
inline constexpr Field kReportedTcb{0x180, 8};
// v3+: CPUID Fn0000_0001 family (extended + base), model (extended + base), stepping. v2: reserved.
inline constexpr Field kCpuidFamId{0x188, 1};
inline constexpr Field kCpuidModId{0x189, 1};
inline constexpr Field kCpuidStep{0x18A, 1};
inline constexpr Field kReserved1{0x18B, 21};
inline constexpr Field kChipId{0x1A0, 64};
inline constexpr Field kCommittedTcb{0x1E0, 8};
inline constexpr Field kCurrentBuild{0x1E8, 1};
inline constexpr Field kCurrentMinor{0x1E9, 1};
inline constexpr Field kCurrentMajor{0x1EA, 1};
inline constexpr Field kReserved2{0x1EB, 1};
inline constexpr Field kCommittedBuild{0x1EC, 1};
inline constexpr Field kCommittedMinor{0x1ED, 1};
inline constexpr Field kCommittedMajor{0x1EE, 1};
inline constexpr Field kReserved3{0x1EF, 1};
inline constexpr Field kLaunchTcb{0x1F0, 8};
// v5: mitigation vectors. v2/v3: reserved (must be zero).
inline constexpr Field kLaunchMitVector{0x1F8, 8};
inline constexpr Field kCurrentMitVector{0x200, 8};
inline constexpr Field kReserved4{0x208, 0x98};
// SIGNATURE (ECDSA P-384 with SHA-384, [ABI] "ECDSA Signature Format")
inline constexpr Field kSignatureR{0x2A0, 72};
inline constexpr Field kSignatureS{0x2E8, 72};
inline constexpr Field kSignatureReserved{0x330, 0x170};

static_assert(Tiles(kReportSize, kVersion, kGuestSvn, kPolicy, kFamilyId, kImageId, kVmpl,
                    kSignatureAlgo, kCurrentTcb, kPlatformInfo, kFlags, kReserved0, kReportData,
                    kMeasurement, kHostData, kIdKeyDigest, kAuthorKeyDigest, kReportId, kReportIdMa,
                    kReportedTcb, kCpuidFamId, kCpuidModId, kCpuidStep, kReserved1, kChipId,
                    kCommittedTcb, kCurrentBuild, kCurrentMinor, kCurrentMajor, kReserved2,
                    kCommittedBuild, kCommittedMinor, kCommittedMajor, kReserved3, kLaunchTcb,
                    kLaunchMitVector, kCurrentMitVector, kReserved4, kSignatureR, kSignatureS,
                    kSignatureReserved));
static_assert(kSignatureR.offset == kSignedSize);

// ---- FLAGS (u32 at 0x48) -----------------------------------------------------------------------

namespace flags {
inline constexpr std::uint32_t kAuthorKeyEn = 1u << 0;
inline constexpr std::uint32_t kMaskChipKey = 1u << 1;
inline constexpr unsigned kSigningKeyShift = 2;  // bits 4:2
inline constexpr std::uint32_t kSigningKeyMask = 7u << kSigningKeyShift;
inline constexpr std::uint32_t kDefined = kAuthorKeyEn | kMaskChipKey | kSigningKeyMask;
inline constexpr std::uint32_t kSigningKeyVcek = 0;
inline constexpr std::uint32_t kSigningKeyVlek = 1;
inline constexpr std::uint32_t kSigningKeyNone = 7;
}  // namespace flags

// ---- Guest policy (u64 at 0x08) [ABI] "Guest Policy" --------------------------------------------

namespace policy {
inline constexpr unsigned kAbiMinorShift = 0;  // bits 7:0
inline constexpr unsigned kAbiMajorShift = 8;  // bits 15:8
inline constexpr unsigned kSmt = 16;
inline constexpr unsigned kReservedMbo = 17;  // reserved, must be one
inline constexpr unsigned kMigrateMa = 18;
inline constexpr unsigned kDebug = 19;
inline constexpr unsigned kSingleSocket = 20;
inline constexpr unsigned kCxlAllow = 21;          // rev 1.55
inline constexpr unsigned kMemAes256Xts = 22;      // rev 1.55
inline constexpr unsigned kRaplDis = 23;           // rev 1.55
inline constexpr unsigned kCiphertextHiding = 24;  // rev 1.55
inline constexpr unsigned kPageSwapDisable = 25;   // rev 1.58
// Bits a report of each version may have set; everything above is reserved (must be zero).
// A v2 report comes from firmware implementing rev <= 1.54, which defines bits 0..20 only.
inline constexpr std::uint64_t kDefinedV2 = (std::uint64_t{1} << 21) - 1;
inline constexpr std::uint64_t kDefinedV3 = (std::uint64_t{1} << 25) - 1;
inline constexpr std::uint64_t kDefinedV5 = (std::uint64_t{1} << 26) - 1;
}  // namespace policy

// ---- TCB_VERSION (8 bytes) [ABI] "TCB_VERSION Structure" ---------------------------------------
// Byte positions per product. Milan and Genoa: BOOT_LOADER, TEE, 4 reserved, SNP, MICROCODE.
// Turin: FMC, BOOT_LOADER, TEE, SNP, 3 reserved, MICROCODE.

namespace tcb {
namespace milan_genoa {
inline constexpr std::size_t kBootLoader = 0;
inline constexpr std::size_t kTee = 1;
inline constexpr Field kReserved{2, 4};
inline constexpr std::size_t kSnp = 6;
inline constexpr std::size_t kMicrocode = 7;
}  // namespace milan_genoa
namespace turin {
inline constexpr std::size_t kFmc = 0;
inline constexpr std::size_t kBootLoader = 1;
inline constexpr std::size_t kTee = 2;
inline constexpr std::size_t kSnp = 3;
inline constexpr Field kReserved{4, 3};
inline constexpr std::size_t kMicrocode = 7;
}  // namespace turin
}  // namespace tcb

}  // namespace lunal::attest::snp::layout
