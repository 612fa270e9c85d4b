// Intel TDX quote verification, step by step. Steps follow the chain of trust from the quote
// upwards, then the collateral judgements (Intel DCAP Quote Verification Library, "Verify
// Quote"; docs/formats/tdx-quote.md and tdx-collateral.md):
//
//   1. parse the quote (structure only; unsigned trailing bytes are counted, not trusted)
//   2. the QE vendor is Intel
//   3. the quote signature by the attestation key over header ‖ body
//   4. the PCK chain from certification data type 5, and its issuing CA (Platform/Processor)
//   5. the Root CA CRL and that CA's PCK CRL valid at as_of (verified under the pinned root
//      when the pool was loaded)
//   6. the PCK chain to the pinned root, with both CRLs, at as_of; then, and only then, the
//      leaf's key and SGX extension (FMSPC, PCE-ID, TCB components) are read; a chain ending at
//      a simulated anchor (the sim-tdx simulation root), or through the simulation's PCK CA,
//      marks the result simulated
//   7. the QE report signature by the PCK key
//   8. the QE report binds the attestation key (SHA-256(key ‖ auth data), zero upper half)
//   9. select TCB Info (by the trusted FMSPC) and TD QE identity valid at as_of
//  10. QE identity: MRSIGNER, ISVPRODID, masked MISCSELECT/ATTRIBUTES, ISVSVN level
//  11. platform TCB level: TCB Info for this FMSPC and PCE-ID, SGX components + PCESVN, then
//      TDX components / module identity
//  12. converged TCB status with advisories
//  13. REPORT_DATA equals the expected value, when one is given
#include "lunal/attest/tdx/verify.h"

#include <algorithm>
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
// times in which the result holds: every certificate and both CRLs valid). Nothing read from the
// leaf (its key, its SGX extension) is used before its path has been validated.
struct Verifier::UntrustedPlatform {
  Bytes chain_digest;  // SHA-256 of the chain bytes as carried in the quote
  PckChain chain;
  PckCa ca;  // from the leaf's issuer name: only picks which PCK CRL to apply
};

struct Verifier::TrustedPlatform {
  Timestamp valid_from;
  Timestamp valid_until;  // exclusive
  std::string description;
  crypto::PublicKey pck_key;
  PckExtensions extensions;
  bool simulated;  // the path ended at one of simulated_pins_, or the PCK CA is the simulation's
};

struct Verifier::Cache {
  static constexpr std::size_t kMaxEntries = 4096;
  std::mutex mu;
  std::map<Bytes, std::shared_ptr<const UntrustedPlatform>> parsed;
  std::map<Bytes, std::shared_ptr<const TrustedPlatform>> trusted;
  std::map<Bytes, crypto::PublicKey> attestation_keys;  // imported P-256 keys by x‖y
};

Verifier::Verifier(std::shared_ptr<const CollateralPool> pool,
                   std::vector<crypto::TrustAnchor> anchors,
                   std::vector<crypto::TrustAnchor> simulated_anchors)
    : pool_(std::move(pool)), anchors_(std::move(anchors)), cache_(std::make_unique<Cache>()) {
  for (crypto::TrustAnchor& anchor : simulated_anchors) {
    simulated_pins_.push_back(anchor.der_sha256);
    anchors_.push_back(std::move(anchor));
  }
}

Verifier::~Verifier() = default;

namespace {

// OpenSSL path validation with both CRLs required. crypto's reasons are kept under the TDX
// namespace (crypto.chain.revoked → tdx.pck_chain.revoked).
Result<crypto::VerifiedChain> VerifyPckPath(const PckChain& chain, const crypto::Crl& root_ca_crl,
                                            const crypto::Crl& pck_crl,
                                            std::span<const crypto::TrustAnchor> anchors,
                                            Timestamp as_of) {
  crypto::ChainOptions options{
      .as_of = ToSeconds(as_of),
      .crls = {root_ca_crl, pck_crl},
      .crl_policy = crypto::ChainOptions::CrlPolicy::kRequireForEveryIssuer,
  };
  auto verified = crypto::VerifyChain(chain.leaf, chain.issuers, anchors, options);
  if (!verified.ok()) {
    const Status& e = verified.error();
    std::string reason = "tdx.pck_chain." + e.reason().substr(e.reason().rfind('.') + 1);
    return Status(e.code(), reason, fmt::format("PCK certificate chain: {}", e.message()));
  }
  return verified;
}

// The window of as-of times in which a verified path stays valid.
std::pair<Timestamp, Timestamp> ValidityWindow(const crypto::VerifiedChain& chain,
                                               const crypto::Crl& root_ca_crl,
                                               const crypto::Crl& pck_crl) {
  Timestamp from = Timestamp::min();
  Timestamp until = Timestamp::max();
  for (const auto& cert : chain.path) {
    from = std::max(from, FromSeconds(cert.NotBefore()));
    until = std::min(until, FromSeconds(cert.NotAfter()));
  }
  for (const crypto::Crl* crl : {&root_ca_crl, &pck_crl}) {
    from = std::max(from, FromSeconds(crl->ThisUpdate()));
    if (auto next = crl->NextUpdate()) until = std::min(until, FromSeconds(*next));
  }
  return {from, until};
}

// What a validated leaf tells us: its key and its SGX extension.
Result<std::pair<crypto::PublicKey, PckExtensions>> ReadTrustedLeaf(
    const crypto::Certificate& leaf) {
  auto key = leaf.PublicKey();
  if (!key.ok()) {
    return VerificationFailed("tdx.pck.key_invalid", "the PCK certificate's key: {}",
                              key.error().message());
  }
  auto extension = leaf.Extension(kSgxExtensionOid);
  if (!extension) {
    return VerificationFailed("tdx.pck.no_sgx_extension",
                              "the PCK certificate has no SGX extension ({})", kSgxExtensionOid);
  }
  LUNAL_ASSIGN_OR_RETURN(PckExtensions extensions, ParsePckExtensions(*extension));
  return std::pair{std::move(*key), extensions};
}

}  // namespace

Result<crypto::PublicKey> Verifier::AttestationKeyFor(const QuoteView& quote) const {
  Bytes point(quote.attestation_key.begin(), quote.attestation_key.end());
  {
    std::lock_guard lock(cache_->mu);
    auto it = cache_->attestation_keys.find(point);
    if (it != cache_->attestation_keys.end()) return it->second.Clone();
  }
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey key, AttestationKeyOf(quote));
  std::lock_guard lock(cache_->mu);
  if (cache_->attestation_keys.size() >= Cache::kMaxEntries) cache_->attestation_keys.clear();
  cache_->attestation_keys.emplace(std::move(point), key.Clone());
  return key;
}

Result<std::shared_ptr<const Verifier::UntrustedPlatform>> Verifier::ParsedPlatformOf(
    const QuoteView& quote) const {
  auto digest = crypto::Sha256(quote.pck_cert_chain_data);
  Bytes key(digest.begin(), digest.end());
  {
    std::lock_guard lock(cache_->mu);
    auto it = cache_->parsed.find(key);
    if (it != cache_->parsed.end()) return it->second;
  }
  LUNAL_ASSIGN_OR_RETURN(PckChain chain, ParsePckChain(quote));
  LUNAL_ASSIGN_OR_RETURN(PckCa ca, PckCaFromIssuerName(chain.leaf.IssuerName()));
  auto platform =
      std::make_shared<const UntrustedPlatform>(UntrustedPlatform{key, std::move(chain), ca});
  std::lock_guard lock(cache_->mu);
  if (cache_->parsed.size() >= Cache::kMaxEntries) cache_->parsed.clear();
  cache_->parsed[key] = platform;
  return platform;
}

Result<std::shared_ptr<const Verifier::TrustedPlatform>> Verifier::TrustedPlatformOf(
    const UntrustedPlatform& platform, const crypto::Crl& root_ca_crl, const crypto::Crl& pck_crl,
    Timestamp as_of) const {
  crypto::Hasher hasher(crypto::DigestAlgorithm::kSha256);
  hasher.Update(platform.chain_digest);
  hasher.Update(root_ca_crl.Sha256OfDer());
  hasher.Update(pck_crl.Sha256OfDer());
  Bytes key = hasher.Finish();
  {
    std::lock_guard lock(cache_->mu);
    auto it = cache_->trusted.find(key);
    if (it != cache_->trusted.end() && it->second->valid_from <= as_of &&
        as_of < it->second->valid_until) {
      return it->second;
    }
  }
  LUNAL_ASSIGN_OR_RETURN(crypto::VerifiedChain path,
                         VerifyPckPath(platform.chain, root_ca_crl, pck_crl, anchors_, as_of));
  LUNAL_ASSIGN_OR_RETURN(auto leaf, ReadTrustedLeaf(platform.chain.leaf));
  auto [from, until] = ValidityWindow(path, root_ca_crl, pck_crl);
  // Simulated when the path ends at a simulated anchor; and, so that a simulation root wrongly
  // configured as a real anchor can never pass for hardware, whenever the PCK was issued by the
  // simulation's PCK CA (marking a result simulated only ever lowers what it claims).
  const bool simulated =
      std::find(simulated_pins_.begin(), simulated_pins_.end(), path.anchor_sha256) !=
          simulated_pins_.end() ||
      platform.chain.leaf.IssuerName().find(fmt::format("CN={}", kSimPckPlatformCaName)) !=
          std::string::npos;
  auto trusted = std::make_shared<const TrustedPlatform>(
      TrustedPlatform{from, until, path.Describe(), std::move(leaf.first), leaf.second, simulated});
  std::lock_guard lock(cache_->mu);
  if (cache_->trusted.size() >= Cache::kMaxEntries) cache_->trusted.clear();
  cache_->trusted[key] = trusted;
  return trusted;
}

Result<TdxVerification> Verifier::Verify(ByteSpan bytes, const VerifyOptions& options) const {
  TdxVerification out;
  out.as_of = options.as_of;

  // 1. Structure.
  LUNAL_ASSIGN_OR_RETURN(QuoteView quote,
                         ParseQuote(bytes, {.trailing = ParseOptions::Trailing::kIgnore}));
  // 2-3. Intel's QE; the attestation key signed header ‖ body.
  LUNAL_RETURN_IF_ERROR(CheckQeVendor(quote));
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey attestation_key, AttestationKeyFor(quote));
  LUNAL_RETURN_IF_ERROR(VerifyQuoteSignature(quote, attestation_key));

  // 4. The PCK chain and its issuing CA (which PCK CRL applies). Untrusted until step 6.
  LUNAL_ASSIGN_OR_RETURN(std::shared_ptr<const UntrustedPlatform> platform,
                         ParsedPlatformOf(quote));
  out.pck_ca = platform->ca;

  // 5. The Root CA CRL and the PCK CRL valid at as_of.
  LUNAL_ASSIGN_OR_RETURN(crypto::Crl root_ca_crl, pool_->SelectRootCaCrl(options.as_of));
  LUNAL_ASSIGN_OR_RETURN(crypto::Crl pck_crl, pool_->SelectPckCrl(platform->ca, options.as_of));

  // 6. The PCK chain to the pinned root with both CRLs; only now are the leaf's key and SGX
  // extension (FMSPC, PCE-ID, CPUSVN components, PCESVN) trusted.
  LUNAL_ASSIGN_OR_RETURN(std::shared_ptr<const TrustedPlatform> trusted,
                         TrustedPlatformOf(*platform, root_ca_crl, pck_crl, options.as_of));
  out.pck = trusted->extensions;
  out.certificate_chain = trusted->description;
  out.simulated = trusted->simulated;

  // 7-8. The PCK key signed the QE report, which certifies the attestation key.
  LUNAL_RETURN_IF_ERROR(VerifyQeReportSignature(quote, trusted->pck_key));
  LUNAL_RETURN_IF_ERROR(VerifyAttestationKeyBinding(quote));

  // 9. TCB Info for this FMSPC and the TD QE identity, valid at as_of (with the CRLs above).
  LUNAL_ASSIGN_OR_RETURN(SelectedCollateral collateral,
                         pool_->Select(out.pck.fmspc, out.pck_ca, options.as_of));

  // 10-12. QE identity; the platform TCB level (EvaluatePlatformTcb first checks that the TCB
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
        {"simulated", simulated},
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
