// Intel TDX quote verification, step by step. Steps follow the chain of trust from the quote
// upwards, then the collateral judgements (Intel DCAP Quote Verification Library, "Verify
// Quote"; docs/formats/tdx-quote.md and tdx-collateral.md):
//
//   1. parse the quote (structure only; unsigned trailing bytes are counted, not trusted)
//   2. the QE vendor is Intel
//   3. the quote signature by the attestation key over header ‖ body
//   4. the PCK chain from certification data type 5; the leaf's SGX extension; the issuing CA
//   5. select collateral valid at as_of for (FMSPC, CA): TCB Info, QE identity, Root CA CRL,
//      PCK CRL (each verified under the pinned root when the pool was loaded)
//   6. the PCK chain to the pinned root, with both CRLs, at as_of
//   7. the QE report signature by the PCK key
//   8. the QE report binds the attestation key (SHA-256(key ‖ auth data), zero upper half)
//   9. QE identity: MRSIGNER, ISVPRODID, masked MISCSELECT/ATTRIBUTES, ISVSVN level
//  10. the TCB Info is for this FMSPC and PCE-ID
//  11. platform TCB level (SGX components + PCESVN, then TDX components / module identity)
//  12. converged TCB status with advisories
//  13. REPORT_DATA equals the expected value, when one is given
#include "lunal/attest/tdx/verify.h"

#include <map>
#include <mutex>

#include "lunal/attest/tdx/signatures.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"

namespace lunal::attest::tdx {
namespace {

Bytes Copy(ByteSpan s) { return Bytes(s.begin(), s.end()); }

std::size_t NonZeroTrailing(ByteSpan trailing) {
  for (std::uint8_t b : trailing) {
    if (b != 0) return trailing.size();
  }
  return 0;
}

}  // namespace

// Per-platform work, cached. A platform's PCK chain is the same in every quote it produces, so
// the warm path skips PEM/X.509 parsing (keyed by SHA-256 of the chain bytes) and path
// validation (keyed by the chain and the two CRLs applied, remembered with the window of as-of
// times in which the result holds: every certificate and both CRLs valid).
struct Verifier::CachedPlatform {
  PckChain chain;
  crypto::PublicKey pck_key;
  PckExtensions extensions;
  PckCa ca;
};

struct Verifier::Cache {
  struct VerifiedPath {
    Timestamp valid_from;
    Timestamp valid_until;  // exclusive
    std::string description;
  };
  static constexpr std::size_t kMaxEntries = 4096;

  std::mutex mu;
  std::map<Bytes, std::shared_ptr<const CachedPlatform>> platforms;
  std::map<Bytes, VerifiedPath> paths;
};

Verifier::Verifier(std::shared_ptr<const CollateralPool> pool,
                   std::vector<crypto::TrustAnchor> anchors)
    : pool_(std::move(pool)), anchors_(std::move(anchors)), cache_(std::make_unique<Cache>()) {}

Verifier::~Verifier() = default;

namespace {

// Step 6, uncached: OpenSSL path validation with both CRLs required.
Result<crypto::VerifiedChain> VerifyPckPath(const PckChain& chain,
                                            const SelectedCollateral& collateral,
                                            std::span<const crypto::TrustAnchor> anchors,
                                            Timestamp as_of) {
  crypto::ChainOptions options{
      .as_of = ToSeconds(as_of),
      .crls = {collateral.root_ca_crl, collateral.pck_crl},
      .crl_policy = crypto::ChainOptions::CrlPolicy::kRequireForEveryIssuer,
  };
  auto verified = crypto::VerifyChain(chain.leaf, chain.issuers, anchors, options);
  if (!verified.ok()) {
    const Status& e = verified.error();
    // Keep crypto's precise reason visible under the TDX namespace.
    std::string reason = "tdx.pck_chain." + e.reason().substr(e.reason().rfind('.') + 1);
    return Status(e.code(), reason, fmt::format("PCK certificate chain: {}", e.message()));
  }
  return verified;
}

// The window of as-of times in which a verified path stays valid.
std::pair<Timestamp, Timestamp> ValidityWindow(const crypto::VerifiedChain& chain,
                                               const SelectedCollateral& c) {
  Timestamp from = Timestamp::min();
  Timestamp until = Timestamp::max();
  for (const auto& cert : chain.path) {
    from = std::max(from, FromSeconds(cert.NotBefore()));
    until = std::min(until, FromSeconds(cert.NotAfter()));
  }
  for (const crypto::Crl* crl : {&c.root_ca_crl, &c.pck_crl}) {
    from = std::max(from, FromSeconds(crl->ThisUpdate()));
    if (auto next = crl->NextUpdate()) until = std::min(until, FromSeconds(*next));
  }
  return {from, until};
}

}  // namespace

Result<std::shared_ptr<const Verifier::CachedPlatform>> Verifier::PlatformOf(
    const QuoteView& quote) const {
  auto digest = crypto::Sha256(quote.pck_cert_chain_data);
  Bytes key(digest.begin(), digest.end());
  {
    std::lock_guard lock(cache_->mu);
    auto it = cache_->platforms.find(key);
    if (it != cache_->platforms.end()) return it->second;
  }
  LUNAL_ASSIGN_OR_RETURN(PckChain chain, ParsePckChain(quote));
  auto extension = chain.leaf.Extension(kSgxExtensionOid);
  if (!extension) {
    return VerificationFailed("tdx.pck.no_sgx_extension",
                              "the PCK certificate has no SGX extension ({})", kSgxExtensionOid);
  }
  LUNAL_ASSIGN_OR_RETURN(PckExtensions extensions, ParsePckExtensions(*extension));
  LUNAL_ASSIGN_OR_RETURN(PckCa ca, PckCaFromIssuerName(chain.leaf.IssuerName()));
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey pck_key, chain.leaf.PublicKey());
  auto platform = std::make_shared<const CachedPlatform>(
      CachedPlatform{std::move(chain), std::move(pck_key), extensions, ca});
  std::lock_guard lock(cache_->mu);
  if (cache_->platforms.size() >= Cache::kMaxEntries) cache_->platforms.clear();
  cache_->platforms[key] = platform;
  return platform;
}

Result<std::string> Verifier::VerifiedPathOf(const QuoteView& quote, const CachedPlatform& platform,
                                             const SelectedCollateral& collateral,
                                             Timestamp as_of) const {
  crypto::Hasher hasher(crypto::DigestAlgorithm::kSha256);
  hasher.Update(quote.pck_cert_chain_data);
  hasher.Update(collateral.root_ca_crl.Sha256OfDer());
  hasher.Update(collateral.pck_crl.Sha256OfDer());
  Bytes key = hasher.Finish();
  {
    std::lock_guard lock(cache_->mu);
    auto it = cache_->paths.find(key);
    if (it != cache_->paths.end() && it->second.valid_from <= as_of &&
        as_of < it->second.valid_until) {
      return it->second.description;
    }
  }
  LUNAL_ASSIGN_OR_RETURN(crypto::VerifiedChain path,
                         VerifyPckPath(platform.chain, collateral, anchors_, as_of));
  auto [from, until] = ValidityWindow(path, collateral);
  std::string description = path.Describe();
  std::lock_guard lock(cache_->mu);
  if (cache_->paths.size() >= Cache::kMaxEntries) cache_->paths.clear();
  cache_->paths[key] = {from, until, description};
  return description;
}

Result<TdxVerification> Verifier::Verify(ByteSpan bytes, const VerifyOptions& options) const {
  TdxVerification out;
  out.as_of = options.as_of;

  // 1. Structure.
  LUNAL_ASSIGN_OR_RETURN(QuoteView quote,
                         ParseQuote(bytes, {.trailing = ParseOptions::Trailing::kIgnore}));
  // 2-3. Intel's QE; the attestation key signed header ‖ body.
  LUNAL_RETURN_IF_ERROR(CheckQeVendor(quote));
  LUNAL_RETURN_IF_ERROR(VerifyQuoteSignature(quote));

  // 4. PCK chain, SGX extension, issuing CA.
  LUNAL_ASSIGN_OR_RETURN(std::shared_ptr<const CachedPlatform> platform, PlatformOf(quote));
  out.pck = platform->extensions;
  out.pck_ca = platform->ca;

  // 5. Collateral valid at as_of.
  LUNAL_ASSIGN_OR_RETURN(SelectedCollateral collateral,
                         pool_->Select(out.pck.fmspc, out.pck_ca, options.as_of));

  // 6. PCK chain to the pinned root with CRLs.
  LUNAL_ASSIGN_OR_RETURN(out.certificate_chain,
                         VerifiedPathOf(quote, *platform, collateral, options.as_of));

  // 7-8. The PCK key signed the QE report, which certifies the attestation key.
  LUNAL_RETURN_IF_ERROR(VerifyQeReportSignature(quote, platform->pck_key));
  LUNAL_RETURN_IF_ERROR(VerifyAttestationKeyBinding(quote));

  // 9-12. QE identity; the platform TCB level (EvaluatePlatformTcb first checks that the TCB
  // Info is for this FMSPC and PCE-ID); the converged status.
  const TcbInfo& tcb_info = *collateral.tcb_info;
  LUNAL_ASSIGN_OR_RETURN(QeMatch qe, EvaluateQeIdentity(*collateral.qe_identity, quote.qe_report));
  LUNAL_ASSIGN_OR_RETURN(TcbMatch tcb_match, EvaluatePlatformTcb(tcb_info, out.pck, quote));
  out.tcb = ConvergeTcbStatus(tcb_match, qe);
  out.tcb_evaluation_data_number = tcb_info.tcb_evaluation_data_number;
  out.collateral_valid_until = collateral.valid_until;
  out.qe_isv_svn = quote.qe_report.isv_svn;

  // 13. REPORT_DATA, when the caller knows what it must be.
  if (options.expected_report_data &&
      !ConstantTimeEqual(*options.expected_report_data, quote.body.report_data)) {
    return VerificationFailed("tdx.report_data.mismatch", "REPORT_DATA is {}, expected {}",
                              HexEncode(quote.body.report_data),
                              HexEncode(*options.expected_report_data));
  }

  // The verified claims.
  const TdReportBody& b = quote.body;
  out.quote_version = quote.header.version;
  out.body_type = b.type;
  out.mr_td = Copy(b.mr_td);
  out.mr_config_id = Copy(b.mr_config_id);
  out.mr_owner = Copy(b.mr_owner);
  out.mr_owner_config = Copy(b.mr_owner_config);
  out.mr_seam = Copy(b.mr_seam);
  out.mr_signer_seam = Copy(b.mr_signer_seam);
  for (std::size_t i = 0; i < 4; ++i) out.rtmr[i] = Copy(b.rtmr[i]);
  out.report_data = Copy(b.report_data);
  out.tee_tcb_svn = Copy(b.tee_tcb_svn);
  out.xfam = Copy(b.xfam);
  out.seam_attributes = Copy(b.seam_attributes);
  out.td_attributes = b.td_attributes.bits;
  out.debug = b.td_attributes.debug();
  out.td_attribute_flags = b.td_attributes.FlagNames();
  out.trailing_bytes = NonZeroTrailing(quote.trailing);
  return out;
}

Json TdxVerification::ToJson() const {
  Json attributes = {{"debug", debug},
                     {"raw", fmt::format("{:016x}", td_attributes)},
                     {"flags", td_attribute_flags}};
  Json measurements = {
      {"mr_td", HexEncode(mr_td)},
      {"rtmr0", HexEncode(rtmr[0])},
      {"rtmr1", HexEncode(rtmr[1])},
      {"rtmr2", HexEncode(rtmr[2])},
      {"rtmr3", HexEncode(rtmr[3])},
      {"mr_config_id", HexEncode(mr_config_id)},
      {"mr_owner", HexEncode(mr_owner)},
      {"mr_owner_config", HexEncode(mr_owner_config)},
      {"mr_seam", HexEncode(mr_seam)},
      {"report_data", HexEncode(report_data)},
      {"tee_tcb_svn", HexEncode(tee_tcb_svn)},
      {"xfam", HexEncode(xfam)},
      {"td_attributes", attributes},
  };
  Json platform = {
      {"tcb_status", TcbStatusName(tcb.status)},
      {"advisory_ids", tcb.advisory_ids},
      {"qe_identity_status", TcbStatusName(tcb.qe_status)},
      {"platform_tcb_status", TcbStatusName(tcb.platform_status)},
      {"tcb_date", FormatRfc3339(tcb.tcb_date)},
      {"tcb_evaluation_data_number", tcb_evaluation_data_number},
      {"collateral_valid_until", FormatRfc3339(collateral_valid_until)},
      {"verified_as_of", FormatRfc3339(as_of)},
      {"certificate_chain", certificate_chain},
      {"fmspc", pck.FmspcHex()},
      {"pck_ca", PckCaName(pck_ca)},
  };
  if (tcb.tdx_module_status) platform["tdx_module_status"] = TcbStatusName(*tcb.tdx_module_status);
  Json out = {
      {"tee",
       {{"type", "tdx"},
        {"simulated", false},
        {"quote_version", quote_version},
        {"body_type", BodyTypeName(body_type)}}},
      {"measurements", measurements},
      {"platform_verification", platform},
  };
  if (trailing_bytes > 0)
    out["warnings"] = {
        fmt::format("{} unsigned bytes after the quote were ignored", trailing_bytes)};
  return out;
}

}  // namespace lunal::attest::tdx
