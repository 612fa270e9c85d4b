// Layer 1: the byte layout of an Intel TDX quote (versions 4 and 5, ECDSA-256 attestation key),
// as offsets and sizes per structure. No logic: the parser (quote.cc) reads the fields in this
// order with lunal::ByteReader, and the static_asserts below prove that each structure's fields
// are contiguous and add up to the size the spec gives.
//
// Sources (facts checked against each other and against real quotes in ../shared/evidence):
//   [QL]  Intel TDX DCAP Quoting Library API, appendix "Quote Format" (quote header, TD quote
//         body, quote v5 body descriptor, ECDSA 256-bit quote signature data, QE certification
//         data): the normative tables.
//   [Q4]  intel/SGXDataCenterAttestationPrimitives, QuoteGeneration/quote_wrapper/common/inc/
//         sgx_quote_4.h (sgx_quote4_header_t, sgx_report2_body_t, sgx_ecdsa_sig_data_v4_t,
//         sgx_qe_report_certification_data_t) and sgx_quote_5.h (sgx_quote5_t,
//         sgx_report2_body_v1_5_t).
//   [SDK] Intel SGX SDK common/inc/sgx_report.h (sgx_report_body_t, 384 bytes): the QE report.
//   [ABI] Intel TDX Module ABI specification, TDATTRIBUTES (as mirrored by Linux
//         arch/x86/include/asm/shared/tdx.h, TDX_ATTR_*).
//
// All integers are little-endian. Signatures and public keys are raw big-endian r‖s and x‖y.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "lunal/attest/layout.h"

namespace lunal::attest::tdx::layout {

// Field and Tiles: lunal/attest/layout.h.
using ::lunal::attest::Field;
using ::lunal::attest::Tiles;

// ---- Values ------------------------------------------------------------------------------------

inline constexpr std::uint16_t kVersion4 = 4;
inline constexpr std::uint16_t kVersion5 = 5;
inline constexpr std::uint16_t kAttKeyTypeEcdsaP256 = 2;  // [QL] "ECDSA-256-with-P-256 curve"
inline constexpr std::uint32_t kTeeTypeSgx = 0x00000000;
inline constexpr std::uint32_t kTeeTypeTdx = 0x00000081;
inline constexpr std::uint16_t kBodyTypeSgx = 1;   // [Q4] sgx_quote5_t.type: SGX enclave report
inline constexpr std::uint16_t kBodyTypeTd10 = 2;  // TD report, TDX 1.0
inline constexpr std::uint16_t kBodyTypeTd15 = 3;  // TD report, TDX 1.5
inline constexpr std::uint16_t kCertDataTypePckCertChain = 5;  // PEM chain: PCK, platform CA, root
inline constexpr std::uint16_t kCertDataTypeQeReport = 6;      // QE report certification data
// Intel's QE vendor id, 939A7233-F79C-4CA9-940A-0DB3957F0607 [QL].
inline constexpr std::array<std::uint8_t, 16> kIntelQeVendorId = {
    0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

// ---- Quote header (48 bytes, at offset 0) [QL] "Quote Header", [Q4] sgx_quote4_header_t
// ----------

namespace header {
inline constexpr Field kVersion{0, 2};
inline constexpr Field kAttKeyType{2, 2};
inline constexpr Field kTeeType{4, 4};
// Bytes 8..11: [Q4] calls them one reserved u32; the SGX v3 layout they descend from has QE SVN
// and PCE SVN here. Zero in every TDX quote we have; exposed, never relied on.
inline constexpr Field kQeSvn{8, 2};
inline constexpr Field kPceSvn{10, 2};
inline constexpr Field kQeVendorId{12, 16};
inline constexpr Field kUserData{28, 20};
inline constexpr std::size_t kSize = 48;
static_assert(Tiles(kSize, kVersion, kAttKeyType, kTeeType, kQeSvn, kPceSvn, kQeVendorId,
                    kUserData));
}  // namespace header

// ---- Quote v5 body descriptor (6 bytes, at offset 48) [Q4] sgx_quote5_t -------------------------

namespace body_descriptor {
inline constexpr Field kType{0, 2};
inline constexpr Field kSize{2, 4};
inline constexpr std::size_t kTotal = 6;
static_assert(Tiles(kTotal, kType, kSize));
}  // namespace body_descriptor

// ---- TD quote body [QL] "TD Quote Body", [Q4] sgx_report2_body_t / sgx_report2_body_v1_5_t ------
// v4: at offset 48. v5: at offset 54, after the body descriptor.

namespace body {
inline constexpr Field kTeeTcbSvn{0, 16};
inline constexpr Field kMrSeam{16, 48};
inline constexpr Field kMrSignerSeam{64, 48};
inline constexpr Field kSeamAttributes{112, 8};
inline constexpr Field kTdAttributes{120, 8};
inline constexpr Field kXfam{128, 8};
inline constexpr Field kMrTd{136, 48};
inline constexpr Field kMrConfigId{184, 48};
inline constexpr Field kMrOwner{232, 48};
inline constexpr Field kMrOwnerConfig{280, 48};
inline constexpr Field kRtmr0{328, 48};
inline constexpr Field kRtmr1{376, 48};
inline constexpr Field kRtmr2{424, 48};
inline constexpr Field kRtmr3{472, 48};
inline constexpr Field kReportData{520, 64};
inline constexpr std::size_t kTd10Size = 584;
// TD1.5 appends two fields.
inline constexpr Field kTeeTcbSvn2{584, 16};
inline constexpr Field kMrServiceTd{600, 48};
inline constexpr std::size_t kTd15Size = 648;

inline constexpr std::size_t kRtmrCount = 4;
inline constexpr std::size_t kMeasurementSize = 48;  // SHA-384
static_assert(Tiles(kTd10Size, kTeeTcbSvn, kMrSeam, kMrSignerSeam, kSeamAttributes, kTdAttributes,
                    kXfam, kMrTd, kMrConfigId, kMrOwner, kMrOwnerConfig, kRtmr0, kRtmr1, kRtmr2,
                    kRtmr3, kReportData));
static_assert(Tiles(kTd15Size, Field{0, kTd10Size}, kTeeTcbSvn2, kMrServiceTd));
}  // namespace body

// Absolute offsets in a v4 quote [Q4] sgx_quote4_t.
namespace quote_v4 {
inline constexpr std::size_t kBodyOffset = header::kSize;                              // 48
inline constexpr std::size_t kSignatureDataLenOffset = kBodyOffset + body::kTd10Size;  // 632
inline constexpr std::size_t kSignatureDataOffset = kSignatureDataLenOffset + 4;       // 636
static_assert(kSignatureDataLenOffset == 632 && kSignatureDataOffset == 636);
}  // namespace quote_v4

// Absolute offsets in a v5 quote: body at 54, then u32 signature data length after the body.
namespace quote_v5 {
inline constexpr std::size_t kBodyDescriptorOffset = header::kSize;                          // 48
inline constexpr std::size_t kBodyOffset = kBodyDescriptorOffset + body_descriptor::kTotal;  // 54
static_assert(kBodyOffset == 54);
}  // namespace quote_v5

inline constexpr std::size_t kSignatureDataLenSize = 4;

// ---- ECDSA 256-bit quote signature data [QL], [Q4] sgx_ecdsa_sig_data_v4_t ----------------------
// Starts right after the u32 signature data length; that length covers all of it.

namespace signature_data {
inline constexpr Field kSignature{0, 64};        // ECDSA P-256 r‖s over the signed region
inline constexpr Field kAttestationKey{64, 64};  // P-256 public key x‖y
inline constexpr std::size_t kFixedSize = 128;   // then certification data
static_assert(Tiles(kFixedSize, kSignature, kAttestationKey));
}  // namespace signature_data

// ---- Certification data header (6 bytes) [QL] "Certification Data" -----------------------------
// Used twice: the outer one (type 6) and the one nested inside the QE certification data (type 5).

namespace cert_data {
inline constexpr Field kType{0, 2};
inline constexpr Field kSize{2, 4};
inline constexpr std::size_t kHeaderSize = 6;  // then `size` bytes of data
static_assert(Tiles(kHeaderSize, kType, kSize));
}  // namespace cert_data

// ---- QE report certification data (type 6) [QL], [Q4] sgx_qe_report_certification_data_t -------

namespace qe_report_cert_data {
inline constexpr Field kQeReport{0, 384};
inline constexpr Field kQeReportSignature{384, 64};  // ECDSA P-256 r‖s by the PCK key
inline constexpr std::size_t kFixedSize = 448;
// Then QE authentication data: u16 size + bytes, then nested certification data (type 5).
inline constexpr std::size_t kAuthDataSizeSize = 2;
static_assert(Tiles(kFixedSize, kQeReport, kQeReportSignature));
}  // namespace qe_report_cert_data

// ---- QE report: SGX REPORTBODY (384 bytes) [SDK] sgx_report_body_t ------------------------------
// [QL] shows the KSS fields (isv_ext_prod_id, config_id, config_svn, isv_family_id) as part of
// larger reserved ranges; the SDK names them. They are zero for Intel's QE but not must-be-zero.

namespace qe_report {
inline constexpr Field kCpuSvn{0, 16};
inline constexpr Field kMiscSelect{16, 4};
inline constexpr Field kReserved1{20, 12};
inline constexpr Field kIsvExtProdId{32, 16};
inline constexpr Field kAttributes{48, 16};
inline constexpr Field kMrEnclave{64, 32};
inline constexpr Field kReserved2{96, 32};
inline constexpr Field kMrSigner{128, 32};
inline constexpr Field kReserved3{160, 32};
inline constexpr Field kConfigId{192, 64};
inline constexpr Field kIsvProdId{256, 2};
inline constexpr Field kIsvSvn{258, 2};
inline constexpr Field kConfigSvn{260, 2};
inline constexpr Field kReserved4{262, 42};
inline constexpr Field kIsvFamilyId{304, 16};
inline constexpr Field kReportData{320, 64};
inline constexpr std::size_t kSize = 384;
static_assert(Tiles(kSize, kCpuSvn, kMiscSelect, kReserved1, kIsvExtProdId, kAttributes, kMrEnclave,
                    kReserved2, kMrSigner, kReserved3, kConfigId, kIsvProdId, kIsvSvn, kConfigSvn,
                    kReserved4, kIsvFamilyId, kReportData));
static_assert(kSize == qe_report_cert_data::kQeReport.size);
}  // namespace qe_report

// ---- TD attributes bits [ABI] TDATTRIBUTES
// -------------------------------------------------------

namespace td_attributes {
inline constexpr unsigned kDebugBit = 0;
inline constexpr unsigned kHgsPlusProfBit = 4;
inline constexpr unsigned kPerfProfBit = 5;
inline constexpr unsigned kPmtProfBit = 6;
inline constexpr unsigned kIcssdBit = 16;
inline constexpr unsigned kLassBit = 27;
inline constexpr unsigned kSeptVeDisableBit = 28;
inline constexpr unsigned kMigratableBit = 29;
inline constexpr unsigned kPksBit = 30;
inline constexpr unsigned kKlBit = 31;
inline constexpr unsigned kTpaBit = 62;
inline constexpr unsigned kPerfmonBit = 63;
}  // namespace td_attributes

}  // namespace lunal::attest::tdx::layout
