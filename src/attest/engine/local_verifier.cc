// LocalVerifier: the in-process EvidenceVerifier (verifier.h), steps 1-4 of its contract.
#include <fmt/format.h>

#include <map>
#include <mutex>

#include "envelope.h"
#include "lunal/attest/azure/evidence_input.h"
#include "lunal/attest/azure/verify.h"
#include "lunal/attest/engine/verifier.h"
#include "lunal/attest/evidence_text.h"
#include "lunal/attest/policy/claims.h"
#include "lunal/attest/snp/evidence_input.h"
#include "lunal/attest/snp/verify.h"
#include "lunal/attest/tdx/event_log.h"
#include "lunal/attest/tdx/evidence_input.h"
#include "lunal/attest/tdx/verify.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"

namespace lunal::attest::engine {
namespace {

namespace tdx = attest::tdx;
namespace snp = attest::snp;
namespace azure = attest::azure;

enum class Kind { kTdx, kSnp, kAzure };

// Step 1's result: which verifier, and what the container carried besides the evidence.
struct Decoded {
  Kind kind = Kind::kTdx;
  std::string container;
  Bytes evidence = {};  // TDX quote or SNP report (unused for Azure)
  std::optional<Bytes> signing_cert = std::nullopt;
  std::optional<Bytes> event_log = std::nullopt;
  std::optional<azure::AzureEvidence> azure = std::nullopt;
};

Result<Decoded> DecodeEvidence(ByteSpan bytes) {
  const std::string_view text = AsStringView(bytes);
  if (IsText(text) && TrimAsciiSpace(text).starts_with("{")) {
    Result<Json> doc = ParseJson(TrimAsciiSpace(text));
    if (doc.ok() && internal::LooksLikeEnvelope(*doc)) {
      LUNAL_ASSIGN_OR_RETURN(internal::Envelope envelope, internal::DecodeEnvelope(*doc));
      return Decoded{.kind = envelope.platform == "tdx" ? Kind::kTdx : Kind::kSnp,
                     .container = "lunal-envelope",
                     .evidence = std::move(envelope.evidence),
                     .signing_cert = std::move(envelope.signing_cert),
                     .event_log = std::move(envelope.event_log)};
    }
  }
  Result<azure::AzureEvidence> az = azure::DecodeAzureEvidence(bytes);
  if (az.ok()) {
    std::string container(azure::ContainerName(az->container));
    return Decoded{
        .kind = Kind::kAzure, .container = std::move(container), .azure = std::move(*az)};
  }
  if (az.error().reason() != "azure.container.not_azure") return az.error();

  Result<tdx::DecodedQuote> quote = tdx::DecodeQuoteContainer(bytes);
  Status tdx_error = quote.status();
  if (quote.ok()) {
    auto view = tdx::ParseQuote(quote->quote, {.trailing = tdx::ParseOptions::Trailing::kIgnore});
    if (view.ok()) {
      return Decoded{.kind = Kind::kTdx,
                     .container = std::string(tdx::ContainerName(quote->container)),
                     .evidence = std::move(quote->quote)};
    }
    tdx_error = view.error();
  }
  Result<snp::DecodedReport> report = snp::DecodeReportContainer(bytes);
  Status snp_error = report.status();
  if (report.ok()) {
    auto view = snp::ParseReport(report->report);
    if (view.ok()) {
      return Decoded{.kind = Kind::kSnp,
                     .container = std::string(snp::ContainerName(report->container)),
                     .evidence = std::move(report->report),
                     .signing_cert = std::move(report->vcek)};
    }
    snp_error = view.error();
  }
  return Malformed("attestation.evidence_unrecognized",
                   "neither a TDX quote ({} [{}]) nor an SEV-SNP report ({} [{}])",
                   tdx_error.message(), tdx_error.reason(), snp_error.message(),
                   snp_error.reason());
}

Status NotApplicable(std::string_view option, std::string_view why) {
  return InvalidArgument("attestation.option_not_applicable", "{}: {}", option, why);
}

// Step 3's result, before appraisal.
struct Outcome {
  Json fragment;  // "tee", "measurements", "platform_verification" (+ "azure")
  policy::Claims claims;
  Bytes report_data;
  std::optional<Json> event_log;
};

class LocalVerifier final : public EvidenceVerifier {
 public:
  explicit LocalVerifier(LocalVerifierOptions options)
      : options_(std::move(options)),
        clock_(options_.clock != nullptr ? options_.clock : &SystemClock::Instance()) {}

  Result<VerifyResponse> Verify(const VerifyRequest& request) const override {
    const Timestamp now = clock_->Now();
    const Timestamp as_of = request.as_of.value_or(now);
    LUNAL_ASSIGN_OR_RETURN(Decoded decoded, DecodeEvidence(request.evidence));
    LUNAL_RETURN_IF_ERROR(CheckOptions(decoded, request));

    VerifyResponse response;
    response.container = decoded.container;
    Result<Outcome> outcome = [&]() -> Result<Outcome> {
      switch (decoded.kind) {
        case Kind::kTdx:
          response.tee = "tdx";
          return VerifyTdx(decoded, request, as_of);
        case Kind::kSnp:
          response.tee = "snp";
          return VerifySnp(decoded, request, as_of);
        case Kind::kAzure:
          response.tee = std::string(azure::HclReportTypeName(decoded.azure->tee));
          return VerifyAzureEvidence(decoded, request, as_of);
      }
      return Internal("engine.kind", "unreachable");
    }();
    if (!outcome.ok()) {
      // Request problems found on the way (no collateral configured) stay request errors.
      if (outcome.error().code() == Code::kInvalidArgument) return outcome.error();
      response.verdict = Verdict::kFailed;
      response.error = outcome.error();
      response.record = Json{{"status", VerdictName(Verdict::kFailed)},
                             {"error",
                              {{"code", CodeName(response.error.code())},
                               {"reason", response.error.reason()},
                               {"message", response.error.message()}}}};
      return response;
    }

    // Step 4: appraisal.
    const policy::Policy policy = request.policy ? *request.policy : DefaultPolicyHere();
    policy::AppraiseOptions appraise_options;
    appraise_options.nonce_report_data = request.expected_report_data;
    const policy::Appraisal appraisal = policy::Appraise(policy, outcome->claims, appraise_options);
    response.verdict = appraisal.passed() ? Verdict::kVerified : Verdict::kRejected;

    Json attestation = std::move(outcome->fragment);
    const Bytes id_seed =
        ToBytes(fmt::format("{}|{}", HexEncode(outcome->report_data), FormatRfc3339(now)));
    attestation["id"] = "att_" + HexEncode(crypto::Sha256(id_seed)).substr(0, 24);
    attestation["timestamp"] = FormatRfc3339(now);
    attestation["evidence_container"] = decoded.container;
    if (outcome->event_log) attestation["event_log"] = *outcome->event_log;
    attestation["policy"] = appraisal.ToJson();
    response.record =
        Json{{"status", VerdictName(response.verdict)}, {"attestation", std::move(attestation)}};
    response.essentials = Essentials(response, outcome->claims, appraisal);
    return response;
  }

 private:
  // The default policy; when the deployment explicitly trusts a simulation root, simulated
  // evidence is what it expects, so the default then allows it (the record still says
  // simulated: true).
  policy::Policy DefaultPolicyHere() const {
    policy::Policy policy = policy::DefaultPolicy();
    policy.allow_simulated = !options_.simulated_anchors.empty();
    return policy;
  }

  static Status CheckOptions(const Decoded& decoded, const VerifyRequest& request) {
    switch (decoded.kind) {
      case Kind::kTdx:
        if (!request.certs.empty()) {
          return NotApplicable("certs", "a TDX quote carries its own PCK certificate chain");
        }
        if (request.nonce) {
          return NotApplicable("nonce",
                               "the nonce applies to Azure vTPM quotes; for a TDX quote "
                               "give the expected report data");
        }
        break;
      case Kind::kSnp:
        if (request.event_log || decoded.event_log) {
          return NotApplicable("event_log", "event logs apply to TDX quotes");
        }
        if (request.nonce) {
          return NotApplicable("nonce",
                               "the nonce applies to Azure vTPM quotes; for an SNP "
                               "report give the expected report data");
        }
        if (request.certs.size() > 1) {
          return NotApplicable("certs",
                               "give one certificate (the VCEK or VLEK); AMD's roots "
                               "are built in");
        }
        break;
      case Kind::kAzure:
        if (request.expected_report_data || request.event_log) {
          return NotApplicable("expected_report_data/event_log",
                               "Azure evidence binds its HCL runtime data in REPORT_DATA; its "
                               "nonce is the vTPM quote's (nonce)");
        }
        if (decoded.azure->tee == azure::HclReportType::kTdx && !request.certs.empty()) {
          return NotApplicable("certs",
                               "Azure TDX evidence carries a TD quote with its own PCK "
                               "chain");
        }
        if (request.certs.size() > 1) {
          return NotApplicable("certs", "give one certificate (the VCEK)");
        }
        break;
    }
    return Status();
  }

  // The TDX verifier for the pool the source hands out for this quote, kept with its warm caches.
  Result<std::shared_ptr<const tdx::Verifier>> TdxVerifierFor(ByteSpan quote, Timestamp now) const {
    if (!options_.collateral) {
      return InvalidArgument("attestation.no_collateral",
                             "verifying a TDX quote needs Intel collateral: configure a collateral "
                             "folder or the Intel PCS");
    }
    LUNAL_ASSIGN_OR_RETURN(collateral::TdxNeed need, NeedOf(quote));
    LUNAL_ASSIGN_OR_RETURN(std::shared_ptr<const tdx::CollateralPool> pool,
                           options_.collateral->TdxPool(need, now));
    std::lock_guard lock(mu_);
    auto it = tdx_verifiers_.find(pool.get());
    if (it != tdx_verifiers_.end() && it->second.pool == pool) return it->second.verifier;
    // Sources hand out few pools (one per folder set, per simulation root, per refresh); drop
    // them all when a refresh has left many stale ones behind.
    if (tdx_verifiers_.size() >= kMaxPools) tdx_verifiers_.clear();
    TdxSlot slot{.pool = pool,
                 .verifier = std::make_shared<const tdx::Verifier>(
                     pool, std::vector<crypto::TrustAnchor>{tdx::IntelSgxRootCaAnchor()},
                     options_.simulated_anchors)};
    auto verifier = slot.verifier;
    tdx_verifiers_[pool.get()] = std::move(slot);
    return verifier;
  }

  // collateral::TdxNeedOf decodes the PCK chain's PEM and certificates: two thirds of a warm
  // verification. The need depends only on those bytes, so it is kept by their digest.
  Result<collateral::TdxNeed> NeedOf(ByteSpan quote) const {
    auto view = tdx::ParseQuote(quote, {.trailing = tdx::ParseOptions::Trailing::kIgnore});
    if (!view.ok()) return collateral::TdxNeedOf(quote);  // the same error, reported there
    const auto key = crypto::Sha256(AsBytes(view->pck_cert_chain_pem));
    {
      std::lock_guard lock(mu_);
      if (auto it = needs_.find(key); it != needs_.end()) return it->second;
    }
    LUNAL_ASSIGN_OR_RETURN(collateral::TdxNeed need, collateral::TdxNeedOf(quote));
    std::lock_guard lock(mu_);
    if (needs_.size() >= kMaxNeeds) needs_.clear();
    needs_.emplace(key, need);
    return need;
  }

  Result<Outcome> VerifyTdx(const Decoded& decoded, const VerifyRequest& request,
                            Timestamp as_of) const {
    LUNAL_ASSIGN_OR_RETURN(auto verifier, TdxVerifierFor(decoded.evidence, clock_->Now()));
    LUNAL_ASSIGN_OR_RETURN(
        tdx::TdxVerification v,
        verifier->Verify(decoded.evidence,
                         {.as_of = as_of, .expected_report_data = request.expected_report_data}));
    Outcome out;
    std::optional<std::string> build_hash;
    const std::optional<Bytes>& log_bytes =
        request.event_log ? request.event_log : decoded.event_log;
    if (log_bytes) {
      LUNAL_ASSIGN_OR_RETURN(tdx::EventLog log, tdx::ParseEventLog(*log_bytes));
      LUNAL_ASSIGN_OR_RETURN(tdx::EventLogCheck check, tdx::CheckEventLog(log, v.rtmr));
      // A log that does not replay to the quote's RTMRs does not describe this TD.
      LUNAL_RETURN_IF_ERROR(tdx::RequireRtmrMatch(check));
      build_hash = check.lunal_build_hash;
      out.event_log = check.ToJson();
    }
    out.fragment = v.ToJson();
    out.claims = policy::ClaimsFrom(v, build_hash);
    out.report_data = v.report_data;
    return out;
  }

  Result<Outcome> VerifySnp(const Decoded& decoded, const VerifyRequest& request,
                            Timestamp as_of) const {
    snp::VerifyOptions options{.as_of = as_of,
                               .expected_report_data = request.expected_report_data};
    options.signing_cert = request.certs.empty() ? decoded.signing_cert : request.certs.front();
    LUNAL_ASSIGN_OR_RETURN(snp::ReportView view, snp::ParseReport(decoded.evidence));
    const std::optional<snp::Product> product = view.product();
    if (options_.collateral && product) {
      const Timestamp now = clock_->Now();
      if (!options.signing_cert && view.signing_key == snp::SigningKey::kVcek) {
        collateral::SnpNeed need{.product = *product,
                                 .chip_id = Bytes(view.chip_id.begin(), view.chip_id.end()),
                                 .reported_tcb = view.reported_tcb.Decode(*product)};
        Result<Bytes> vcek = options_.collateral->SnpVcek(need, now);
        if (vcek.ok()) options.signing_cert = std::move(*vcek);
      }
      Result<std::vector<Bytes>> crls = options_.collateral->SnpCrls(*product, now);
      if (crls.ok()) options.crls = std::move(*crls);
    }
    LUNAL_ASSIGN_OR_RETURN(snp::SnpVerification v, snp_.Verify(decoded.evidence, options));
    Outcome out;
    out.fragment = v.ToJson();
    out.claims = policy::ClaimsFrom(v);
    out.report_data = v.report_data;
    return out;
  }

  Result<Outcome> VerifyAzureEvidence(const Decoded& decoded, const VerifyRequest& request,
                                      Timestamp as_of) const {
    const azure::AzureEvidence& evidence = *decoded.azure;
    azure::VerifyOptions options{.as_of = as_of, .expected_nonce = request.nonce};
    if (!request.certs.empty()) options.signing_cert = request.certs.front();
    std::shared_ptr<const tdx::Verifier> tdx_verifier;
    if (evidence.tee == azure::HclReportType::kTdx && evidence.td_quote) {
      LUNAL_ASSIGN_OR_RETURN(tdx_verifier, TdxVerifierFor(*evidence.td_quote, clock_->Now()));
      options.tdx_verifier = tdx_verifier.get();
    }
    LUNAL_ASSIGN_OR_RETURN(azure::AzureVerification v, azure::VerifyAzure(evidence, options));
    Outcome out;
    out.fragment = v.ToJson();
    out.claims = v.snp ? policy::ClaimsFrom(*v.snp) : policy::ClaimsFrom(*v.tdx);
    out.report_data = v.snp ? v.snp->report_data : v.tdx->report_data;
    return out;
  }

  static Json Essentials(const VerifyResponse& response, const policy::Claims& claims,
                         const policy::Appraisal& appraisal) {
    Json measurements = Json::object();
    for (const auto& [name, value] : claims.measurements) measurements[name] = HexEncode(value);
    Json out = {{"tee", response.tee},
                {"simulated", claims.simulated},
                {"debug", claims.debug},
                {"evidence_container", response.container},
                {"measurements", measurements},
                {"report_data", HexEncode(claims.report_data)},
                {"advisory_ids", claims.advisory_ids},
                {"policy", appraisal.passed() ? "pass" : "fail"}};
    out["tcb_status"] = claims.tcb_status ? Json(*claims.tcb_status) : Json(nullptr);
    out["build_hash"] = claims.build_hash ? Json(*claims.build_hash) : Json(nullptr);
    return out;
  }

  struct TdxSlot {
    std::shared_ptr<const tdx::CollateralPool> pool;
    std::shared_ptr<const tdx::Verifier> verifier;
  };

  LocalVerifierOptions options_;
  const Clock* clock_;
  snp::Verifier snp_;
  static constexpr std::size_t kMaxPools = 8;
  static constexpr std::size_t kMaxNeeds = 4096;
  mutable std::mutex mu_;
  // A verifier per pool the source hands out (the pool is kept alive beside it).
  mutable std::map<const tdx::CollateralPool*, TdxSlot> tdx_verifiers_;
  mutable std::map<std::array<std::uint8_t, 32>, collateral::TdxNeed> needs_;  // by PCK chain
};

}  // namespace

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kVerified:
      return "verified";
    case Verdict::kRejected:
      return "rejected";
    case Verdict::kFailed:
      return "failed";
  }
  return "failed";
}

std::unique_ptr<EvidenceVerifier> MakeLocalVerifier(LocalVerifierOptions options) {
  return std::make_unique<LocalVerifier>(std::move(options));
}

}  // namespace lunal::attest::engine
