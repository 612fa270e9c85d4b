#include "lunal/attest/snp/signatures.h"

#include <fmt/format.h>

#include <algorithm>

#include "amd_roots.h"
#include "lunal/common/byte_reader.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/signature.h"

namespace lunal::attest::snp {
namespace {

// Pins from ../shared/evidence/anchors/fingerprints.json (sha256 of each ARK's DER).
constexpr std::array<std::uint8_t, 32> kArkMilanSha256 = {
    0x69, 0xd0, 0x63, 0xb4, 0x53, 0x44, 0xd2, 0x6a, 0x2e, 0x94, 0xe1, 0xf4, 0x21, 0x0d, 0xe4, 0x9e,
    0xf5, 0x55, 0x30, 0x82, 0x87, 0xd4, 0xc1, 0x74, 0x44, 0x5c, 0x95, 0x63, 0x9a, 0x54, 0x0b, 0xcd};
constexpr std::array<std::uint8_t, 32> kArkGenoaSha256 = {
    0x4c, 0x65, 0x98, 0xd1, 0x9c, 0x18, 0x71, 0x9c, 0x5d, 0xfd, 0x4a, 0x7d, 0x33, 0x5f, 0x67, 0x4e,
    0x5b, 0xfe, 0x1d, 0x8f, 0x80, 0x0c, 0xea, 0x2c, 0xf2, 0x70, 0xc1, 0x0d, 0x10, 0x3d, 0xb2, 0xf1};
constexpr std::array<std::uint8_t, 32> kArkTurinSha256 = {
    0x1f, 0x08, 0x41, 0x61, 0xa4, 0x4b, 0xb6, 0xd9, 0x37, 0x78, 0xa9, 0x04, 0x87, 0x7d, 0x48, 0x19,
    0xca, 0xfa, 0x5d, 0x05, 0xef, 0x41, 0x93, 0xb2, 0xde, 0xd9, 0xdd, 0x9c, 0x73, 0xdd, 0x3f, 0x6a};

// One DER TLV with a short-form length (AMD's extension values are all < 128 bytes).
Result<ByteSpan> DerValue(ByteSpan der, std::uint8_t want_tag, std::string_view oid) {
  ByteReader r(der);
  LUNAL_ASSIGN_OR_RETURN(std::uint8_t tag, r.U8("snp.vcek.extension"));
  LUNAL_ASSIGN_OR_RETURN(std::uint8_t len, r.U8("snp.vcek.extension"));
  if (tag != want_tag || len >= 0x80) {
    return Malformed("snp.vcek.extension",
                     "extension {}: expected tag 0x{:02x} with a short "
                     "length, got tag 0x{:02x} length byte 0x{:02x}",
                     oid, want_tag, tag, len);
  }
  LUNAL_ASSIGN_OR_RETURN(ByteSpan value, r.Bytes(len, "snp.vcek.extension"));
  LUNAL_RETURN_IF_ERROR(r.ExpectEnd("snp.vcek.extension"));
  return value;
}

// An SPL: a DER INTEGER 0..255 (one byte, or 0x00 then a byte >= 0x80).
Result<std::uint8_t> Spl(const crypto::Certificate& cert, std::string_view oid) {
  std::optional<Bytes> ext = cert.Extension(oid);
  if (!ext) {
    return Malformed("snp.vcek.missing_extension", "certificate has no extension {}", oid);
  }
  LUNAL_ASSIGN_OR_RETURN(ByteSpan value, DerValue(*ext, 0x02, oid));
  ByteReader r(value);
  if (value.size() == 2) LUNAL_RETURN_IF_ERROR(r.ExpectZero(1, "snp.vcek.extension"));
  if (value.empty() || value.size() > 2) {
    return Malformed("snp.vcek.extension", "extension {}: SPL is not an INTEGER 0..255", oid);
  }
  return r.U8("snp.vcek.extension");
}

Status Mismatch(std::string_view what, unsigned report, unsigned cert) {
  return VerificationFailed("snp.vcek.tcb_mismatch",
                            "REPORTED_TCB {} SPL is {}, the certificate says {}", what, report,
                            cert);
}

}  // namespace

std::array<std::uint8_t, 32> ArkSha256(Product product) {
  switch (product) {
    case Product::kMilan:
      return kArkMilanSha256;
    case Product::kGenoa:
      return kArkGenoaSha256;
    case Product::kTurin:
      return kArkTurinSha256;
  }
  return {};
}

Result<AmdCertificates> AmdCertificatesFor(Product product) {
  for (const internal::AmdRootPems& pems : internal::AmdRoots()) {
    if (pems.product != product) continue;
    LUNAL_ASSIGN_OR_RETURN(crypto::Certificate ark, crypto::Certificate::FromPem(pems.ark));
    LUNAL_ASSIGN_OR_RETURN(crypto::Certificate ask, crypto::Certificate::FromPem(pems.ask));
    LUNAL_ASSIGN_OR_RETURN(crypto::Certificate asvk, crypto::Certificate::FromPem(pems.asvk));
    if (ark.Sha256OfDer() != ArkSha256(product)) {
      return Internal("snp.internal.roots", "embedded ARK-{} does not match its pin",
                      ProductName(product));
    }
    return AmdCertificates{.product = product,
                           .ark = ark,
                           .ask = ask,
                           .asvk = asvk,
                           .anchor = {.der_sha256 = ArkSha256(product),
                                      .label = fmt::format("AMD ARK-{}", ProductName(product))}};
  }
  return Internal("snp.internal.roots", "no embedded roots for {}", ProductName(product));
}

Result<VcekExtensions> ParseVcekExtensions(const crypto::Certificate& cert) {
  VcekExtensions out;
  if (std::optional<Bytes> name = cert.Extension(oid::kProductName)) {
    LUNAL_ASSIGN_OR_RETURN(ByteSpan text, DerValue(*name, 0x16, oid::kProductName));  // IA5String
    out.product_name = ToString(text);
  }
  LUNAL_ASSIGN_OR_RETURN(out.bl_spl, Spl(cert, oid::kBlSpl));
  LUNAL_ASSIGN_OR_RETURN(out.tee_spl, Spl(cert, oid::kTeeSpl));
  LUNAL_ASSIGN_OR_RETURN(out.snp_spl, Spl(cert, oid::kSnpSpl));
  LUNAL_ASSIGN_OR_RETURN(out.ucode_spl, Spl(cert, oid::kUcodeSpl));
  if (cert.Extension(oid::kFmcSpl)) {
    LUNAL_ASSIGN_OR_RETURN(out.fmc_spl, Spl(cert, oid::kFmcSpl));
  }
  if (std::optional<Bytes> hw_id = cert.Extension(oid::kHwId)) {
    // AMD's KDS puts the raw id in extnValue; some issuers wrap it in an OCTET STRING.
    ByteSpan id = *hw_id;
    if (id.size() != 64 && id.size() != 8) {
      LUNAL_ASSIGN_OR_RETURN(id, DerValue(*hw_id, 0x04, oid::kHwId));
    }
    if (id.size() != 64 && id.size() != 8) {
      return Malformed("snp.vcek.extension", "hwID is {} bytes (64, or 8 for Turin)", id.size());
    }
    out.hw_id = Bytes(id.begin(), id.end());
  }
  return out;
}

Status CheckCertificateMatchesReport(const VcekExtensions& ext, const ReportView& report,
                                     Product product) {
  const TcbParts tcb = report.reported_tcb.Decode(product);
  if (tcb.boot_loader != ext.bl_spl) return Mismatch("boot loader", tcb.boot_loader, ext.bl_spl);
  if (tcb.tee != ext.tee_spl) return Mismatch("TEE", tcb.tee, ext.tee_spl);
  if (tcb.snp != ext.snp_spl) return Mismatch("SNP", tcb.snp, ext.snp_spl);
  if (tcb.microcode != ext.ucode_spl) return Mismatch("microcode", tcb.microcode, ext.ucode_spl);
  if (product == Product::kTurin) {
    if (!ext.fmc_spl) {
      return Malformed("snp.vcek.missing_extension", "a Turin certificate needs fmcSPL");
    }
    if (tcb.fmc != ext.fmc_spl) return Mismatch("FMC", tcb.fmc.value_or(0), *ext.fmc_spl);
  }
  if (report.signing_key != SigningKey::kVcek || report.mask_chip_key) return Status();
  if (!ext.hw_id) {
    return Malformed("snp.vcek.missing_extension", "the VCEK has no hwID extension");
  }
  // Turin's hwID is 8 bytes: CHIP_ID's first 8, the rest of CHIP_ID zero.
  ByteSpan chip_id = report.chip_id;
  const bool match = ext.hw_id->size() <= chip_id.size() &&
                     std::ranges::equal(*ext.hw_id, chip_id.first(ext.hw_id->size())) &&
                     std::ranges::all_of(chip_id.subspan(ext.hw_id->size()),
                                         [](std::uint8_t b) { return b == 0; });
  if (!match) {
    return VerificationFailed("snp.vcek.chip_id_mismatch", "CHIP_ID {}… is not the VCEK's hwID {}…",
                              HexEncode(chip_id.first(8)),
                              HexEncode(ByteSpan(*ext.hw_id).first(8)));
  }
  return Status();
}

Status VerifyReportSignature(const ReportView& report, const crypto::PublicKey& key) {
  Status s = crypto::VerifyEcdsaRawLittleEndian(key, crypto::DigestAlgorithm::kSha384,
                                                report.signed_region, report.signature_r,
                                                report.signature_s);
  if (s.ok()) return s;
  return VerificationFailed("snp.report.signature_invalid",
                            "the report signature does not verify under the {} key: {}",
                            SigningKeyName(report.signing_key), s.message());
}

}  // namespace lunal::attest::snp
