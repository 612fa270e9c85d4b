// VerifyReport: the numbered pipeline of verify.h. Each step cites what it checks:
//   [ABI] SEV-SNP Firmware ABI #56860, "ATTESTATION_REPORT Structure", "ECDSA Signature Format"
//   [KDS] VCEK Certificate and KDS Interface Specification #57230, "VCEK Certificate Extensions",
//         "Certificate Chain" (ARK → ASK → VCEK, ARK → ASVK → VLEK, RSASSA-PSS SHA-384)
#include "lunal/attest/snp/verify.h"

#include <fmt/format.h>

#include "lunal/common/bytes.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/chain.h"

namespace lunal::attest::snp {
namespace {

Result<crypto::Certificate> ParseSigningCert(const Bytes& bytes) {
  const std::string_view text = AsStringView(bytes);
  Result<crypto::Certificate> cert = [&]() -> Result<crypto::Certificate> {
    if (text.find("-----BEGIN") == std::string_view::npos) {
      return crypto::Certificate::FromDer(bytes);
    }
    LUNAL_ASSIGN_OR_RETURN(std::vector<crypto::Certificate> chain, crypto::ParsePemChain(text));
    if (chain.empty()) return Malformed("snp.vcek.unparsable", "the PEM holds no certificate");
    return chain.front();  // leaf first, as AMD KDS and Azure serve chains
  }();
  if (!cert.ok()) {
    return Malformed("snp.vcek.unparsable", "the signing certificate does not parse: {}",
                     cert.error().message());
  }
  return cert;
}

// [KDS]: VCEKs are named "SEV-VCEK", VLEKs "SEV-VLEK". FLAGS.SIGNING_KEY says which one signed.
Status CheckKind(const crypto::Certificate& cert, SigningKey key) {
  const std::string cn = cert.SubjectCommonName();
  const std::string want = key == SigningKey::kVlek ? "SEV-VLEK" : "SEV-VCEK";
  if (cn != want) {
    return VerificationFailed("snp.vcek.wrong_kind",
                              "the report was signed by its {} but the certificate is \"{}\"",
                              SigningKeyName(key), cn);
  }
  return Status();
}

Status MapChainError(const Status& s, Product product) {
  std::string reason = s.reason();
  constexpr std::string_view kPrefix = "crypto.chain.";
  if (reason.starts_with(kPrefix)) reason = "snp.chain." + reason.substr(kPrefix.size());
  return Status(s.code(), reason, fmt::format("{} chain: {}", ProductName(product), s.message()));
}

struct ChainResult {
  Product product;
  std::string description;
};

// ARK → ASK → VCEK or ARK → ASVK → VLEK for each candidate product; the first that verifies.
Result<ChainResult> VerifyChainFor(const crypto::Certificate& leaf, SigningKey key,
                                   const std::vector<Product>& candidates, Timestamp as_of) {
  std::optional<Status> first_error;
  for (Product product : candidates) {
    LUNAL_ASSIGN_OR_RETURN(AmdCertificates amd, AmdCertificatesFor(product));
    const std::vector<crypto::Certificate> path = {key == SigningKey::kVlek ? amd.asvk : amd.ask,
                                                   amd.ark};
    const std::vector<crypto::TrustAnchor> anchors = {amd.anchor};
    crypto::ChainOptions options{.as_of = ToSeconds(as_of),
                                 .crl_policy = crypto::ChainOptions::CrlPolicy::kNone,
                                 .max_depth = 3,
                                 .x509_strict = false};  // AMD certificates have no AKI
    Result<crypto::VerifiedChain> chain = crypto::VerifyChain(leaf, path, anchors, options);
    if (chain.ok()) return ChainResult{product, chain->Describe()};
    if (!first_error) first_error = MapChainError(chain.error(), product);
  }
  return *first_error;
}

}  // namespace

Result<SnpVerification> VerifyReport(ByteSpan bytes, const VerifyOptions& options) {
  // 1. An as-of time is required: certificate validity is judged then.
  if (ToUnixSeconds(options.as_of) == 0) {
    return InvalidArgument("snp.options.as_of", "an as-of time is required");
  }
  // 2. Structure [ABI]: size, version, algorithm, FLAGS, POLICY, reserved ranges.
  LUNAL_ASSIGN_OR_RETURN(ReportView report, ParseReport(bytes));
  // 3. Which key signed (FLAGS.SIGNING_KEY): 7 means the report is not signed at all.
  if (report.signing_key == SigningKey::kNone) {
    return VerificationFailed("snp.report.unsigned", "SIGNING_KEY is 7: the report is unsigned");
  }
  // 4. The signing certificate, and that it is the kind of key FLAGS names.
  if (!options.signing_cert) {
    return Unavailable("snp.vcek.missing", "no {} certificate was given for this report",
                       SigningKeyName(report.signing_key));
  }
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate leaf, ParseSigningCert(*options.signing_cert));
  LUNAL_RETURN_IF_ERROR(CheckKind(leaf, report.signing_key));
  // 5. The product: from CPUID (v3+), else from the certificate's issuer ("SEV-Milan",
  //    "SEV-VLEK-Genoa"), else each product in turn (the pinned ARK decides).
  std::vector<Product> candidates;
  std::string product_source;
  if (std::optional<Product> p = report.product()) {
    candidates = {*p};
    product_source = "cpuid";
  } else if (std::optional<Product> q = ProductFromName(leaf.IssuerName())) {
    candidates = {*q};
    product_source = "certificate issuer";
  } else {
    candidates = {Product::kMilan, Product::kGenoa, Product::kTurin};
    product_source = "chain";
  }
  // 6. The chain to the product's pinned ARK, valid at as_of [KDS].
  LUNAL_ASSIGN_OR_RETURN(ChainResult chain,
                         VerifyChainFor(leaf, report.signing_key, candidates, options.as_of));
  // 7. The report signature under the certificate's P-384 key [ABI].
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey key, leaf.PublicKey());
  LUNAL_RETURN_IF_ERROR(VerifyReportSignature(report, key));
  // 8. The certificate speaks for this TCB and chip: SPLs = REPORTED_TCB, hwID = CHIP_ID [KDS].
  LUNAL_ASSIGN_OR_RETURN(VcekExtensions ext, ParseVcekExtensions(leaf));
  LUNAL_RETURN_IF_ERROR(CheckCertificateMatchesReport(ext, report, chain.product));
  // 9. The caller's binding, when given.
  if (options.expected_report_data &&
      !ConstantTimeEqual(*options.expected_report_data, report.report_data)) {
    return VerificationFailed("snp.report_data.mismatch", "REPORT_DATA is not the expected value");
  }
  auto copy = [](ByteSpan s) { return Bytes(s.begin(), s.end()); };
  return SnpVerification{
      .version = report.version,
      .product = chain.product,
      .product_source = product_source,
      .signing_key = report.signing_key,
      .measurement = copy(report.measurement),
      .report_data = copy(report.report_data),
      .host_data = copy(report.host_data),
      .chip_id = copy(report.chip_id),
      .id_key_digest = copy(report.id_key_digest),
      .author_key_digest = copy(report.author_key_digest),
      .guest_svn = report.guest_svn,
      .vmpl = report.vmpl,
      .policy = report.policy.bits,
      .debug = report.policy.debug(),
      .policy_flags = report.policy.FlagNames(),
      .reported_tcb = report.reported_tcb.Decode(chain.product),
      .certificate_chain = chain.description,
      .as_of = options.as_of,
  };
}

Json SnpVerification::ToJson() const {
  Json tcb = {{"boot_loader", reported_tcb.boot_loader},
              {"tee", reported_tcb.tee},
              {"snp", reported_tcb.snp},
              {"microcode", reported_tcb.microcode}};
  if (reported_tcb.fmc) tcb["fmc"] = *reported_tcb.fmc;
  Json measurements = {
      {"measurement", HexEncode(measurement)},
      {"host_data", HexEncode(host_data)},
      {"id_key_digest", HexEncode(id_key_digest)},
      {"author_key_digest", HexEncode(author_key_digest)},
      {"report_data", HexEncode(report_data)},
      {"policy",
       {{"raw", fmt::format("{:016x}", policy)}, {"debug", debug}, {"flags", policy_flags}}},
      {"vmpl", vmpl},
      {"guest_svn", guest_svn},
      {"reported_tcb", tcb},
      {"chip_id", HexEncode(chip_id)},
  };
  Json platform = {
      {"product", ProductName(product)},
      {"product_source", product_source},
      {"signing_key", SigningKeyName(signing_key)},
      {"certificate_chain", certificate_chain},
      {"verified_as_of", FormatRfc3339(as_of)},
  };
  return Json{{"tee", {{"type", "snp"}, {"simulated", false}, {"report_version", version}}},
              {"measurements", measurements},
              {"platform_verification", platform}};
}

}  // namespace lunal::attest::snp
