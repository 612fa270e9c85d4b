// Layer 3 building blocks for SNP: AMD's pinned roots, the VCEK/VLEK certificate's extensions,
// and the report signature. verify.h composes them into the pipeline.
//
// Trust: an ARK is trusted only by the SHA-256 of its DER (kArk*Sha256 below, the values of
// ../shared/evidence/anchors/fingerprints.json). The ARK, ASK and ASVK certificates are embedded.
//
// Errors (stable reasons):
//   kVerificationFailed snp.report.signature_invalid (ECDSA P-384 over bytes 0..0x29F fails),
//                       snp.vcek.tcb_mismatch (an SPL extension differs from REPORTED_TCB),
//                       snp.vcek.chip_id_mismatch (hwID differs from CHIP_ID);
//   kMalformed          snp.vcek.extension (an AMD extension that is not the expected DER),
//                       snp.vcek.missing_extension, snp.vcek.bad_key (not a P-384 key).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "lunal/attest/snp/report.h"
#include "lunal/common/result.h"
#include "lunal/crypto/chain.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/x509.h"

namespace lunal::attest::snp {

// The ARK, ASK (VCEK issuer) and ASVK (VLEK issuer) of one product, parsed from the embedded PEM.
struct AmdCertificates {
  Product product;
  crypto::Certificate ark, ask, asvk;
  crypto::TrustAnchor anchor;  // the ARK's pin, label "AMD ARK-<product>"
};
// The pinned ARK digest of a product (constants, not computed from the embedded certificate).
std::array<std::uint8_t, 32> ArkSha256(Product product);
// The embedded certificates of `product`; fails (snp.internal.roots) only if the embedded
// ARK does not match its pin, which amd_roots_test.cc rules out.
Result<AmdCertificates> AmdCertificatesFor(Product product);

// VCEK/VLEK certificate extensions [KDS] (OID arc 1.3.6.1.4.1.3704.1).
namespace oid {
inline constexpr std::string_view kProductName = "1.3.6.1.4.1.3704.1.2";
inline constexpr std::string_view kBlSpl = "1.3.6.1.4.1.3704.1.3.1";
inline constexpr std::string_view kTeeSpl = "1.3.6.1.4.1.3704.1.3.2";
inline constexpr std::string_view kSnpSpl = "1.3.6.1.4.1.3704.1.3.3";
inline constexpr std::string_view kUcodeSpl = "1.3.6.1.4.1.3704.1.3.8";
inline constexpr std::string_view kFmcSpl = "1.3.6.1.4.1.3704.1.3.9";  // Turin
inline constexpr std::string_view kHwId = "1.3.6.1.4.1.3704.1.4";      // VCEK only
}  // namespace oid

struct VcekExtensions {
  std::optional<std::string> product_name;  // "Milan-B0", "Genoa", ...
  std::uint8_t bl_spl = 0, tee_spl = 0, snp_spl = 0, ucode_spl = 0;
  std::optional<std::uint8_t> fmc_spl;
  std::optional<Bytes> hw_id;  // 64 bytes (Milan, Genoa) or 8 (Turin); absent in VLEKs
};
Result<VcekExtensions> ParseVcekExtensions(const crypto::Certificate& cert);

// REPORTED_TCB (decoded for `product`) equals the certificate's SPLs, and, for a VCEK unless
// MASK_CHIP_KEY is set, hwID equals CHIP_ID (its first 8 bytes for Turin, the rest zero).
Status CheckCertificateMatchesReport(const VcekExtensions& ext, const ReportView& report,
                                     Product product);

// ECDSA P-384 with SHA-384 over report.signed_region, r and s little-endian.
Status VerifyReportSignature(const ReportView& report, const crypto::PublicKey& key);

}  // namespace lunal::attest::snp
