// Test support for service_http_test.cc and service_metrics_test.cc: a scripted EvidenceVerifier
// (so that what those tests check is the service: auth, limits, request decoding, tokens,
// metrics), a fake attester, a fake collateral source, and a fixture serving them over real HTTP
// on 127.0.0.1.
#pragma once

#include <gtest/gtest.h>

#include <mutex>

#include "lunal/attest/token/token.h"
#include "lunal/common/encoding.h"
#include "service_testing.h"

namespace lunal::attest::service::testing {

inline const Timestamp kNow = *ParseRfc3339("2026-03-01T12:00:00Z");

// Answers by the evidence bytes: "verified", "rejected", "failed", "bad-request", "internal".
class ScriptedVerifier final : public engine::EvidenceVerifier {
 public:
  Result<engine::VerifyResponse> Verify(const engine::VerifyRequest& request) const override {
    {
      std::lock_guard lock(mu_);
      last_ = request;
    }
    const std::string what = ToString(request.evidence);
    if (what == "bad-request") {
      return Malformed("attestation.evidence_unrecognized", "neither a TDX quote nor ...");
    }
    if (what == "internal") return Internal("engine.bug", "secret detail /etc/passwd");
    engine::VerifyResponse r;
    r.tee = "tdx";
    r.container = "raw";
    if (what == "failed") {
      r.verdict = engine::Verdict::kFailed;
      r.error = VerificationFailed("tdx.quote.signature_invalid", "bad signature");
      r.record = {{"status", "failed"},
                  {"error",
                   {{"code", "verification_failed"},
                    {"reason", "tdx.quote.signature_invalid"},
                    {"message", "bad signature"}}}};
      return r;
    }
    const bool rejected = what == "rejected";
    r.verdict = rejected ? engine::Verdict::kRejected : engine::Verdict::kVerified;
    Json violations = Json::array();
    if (rejected) violations.push_back({{"reason", "policy.debug_forbidden"}});
    r.record = {
        {"status", rejected ? "rejected" : "verified"},
        {"attestation",
         {{"tee", {{"type", "tdx"}, {"simulated", false}}},
          {"policy", {{"result", rejected ? "fail" : "pass"}, {"violations", violations}}}}}};
    r.essentials = {{"tee", "tdx"}, {"simulated", false}, {"policy", rejected ? "fail" : "pass"}};
    return r;
  }

  engine::VerifyRequest last() const {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  mutable std::mutex mu_;
  mutable engine::VerifyRequest last_;
};

class FakeAttester final : public Attester {
 public:
  std::string_view Name() const override { return "fake"; }
  TeeType Tee() const override { return TeeType::kTdx; }
  Result<attest::Evidence> Attest(
      std::span<const std::uint8_t, kReportDataSize> report_data) override {
    return attest::Evidence{.tee = TeeType::kTdx,
                            .quote = Bytes(report_data.begin(), report_data.end()),
                            .aux_blob = {},
                            .event_log = ToBytes("log"),
                            .provider = "fake",
                            .generation = 0,
                            .simulated = true};
  }
  Status ExtendRtmr(int, ByteSpan, ByteSpan) override { return Status(); }
};

class FakeCollateral final : public collateral::CollateralSource {
 public:
  Result<std::shared_ptr<const tdx::CollateralPool>> TdxPool(const collateral::TdxNeed&,
                                                             Timestamp) override {
    return Unavailable("collateral.unavailable", "none");
  }
  Result<Bytes> SnpVcek(const collateral::SnpNeed&, Timestamp) override {
    return Unavailable("collateral.unavailable", "none");
  }
  Result<std::vector<Bytes>> SnpCrls(snp::Product, Timestamp) override {
    return std::vector<Bytes>{};
  }
  std::vector<collateral::DocumentInfo> Describe(Timestamp now) const override {
    const Timestamp next = *ParseRfc3339("2026-04-01T00:00:00Z");
    return {{.kind = "tdx_tcb_info",
             .key = "fmspc=50806f000000",
             .source = "pcs:http://127.0.0.1:1",
             .issued = *ParseRfc3339("2026-02-01T00:00:00Z"),
             .next_update = next,
             .fetched = *ParseRfc3339("2026-02-01T00:05:00Z"),
             .valid = now < next},
            {.kind = "pck_crl",
             .key = "ca=platform",
             .source = "folder:/x",
             .issued = std::nullopt,
             .next_update = *ParseRfc3339("2026-01-01T00:00:00Z"),
             .fetched = std::nullopt,
             .valid = false}};
  }
};

inline Json Scripted(std::string_view what) { return Base64Encode(AsBytes(what)); }

class ServiceHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ring = token::KeyRing::Open({}, kNow);
    ASSERT_TRUE(ring.ok()) << ring.error();
    issuer_ = std::make_shared<token::Issuer>(std::shared_ptr<token::KeyRing>(std::move(*ring)),
                                              clock_, token::IssuerOptions{.issuer = "https://a"});
  }

  ServiceOptions Options() {
    return {.verifier = verifier_,
            .collateral = std::make_shared<FakeCollateral>(),
            .attester = std::make_shared<FakeAttester>(),
            .issuer = issuer_,
            .clock = &clock_,
            .auth = {.token_sha256 = {testing::TokenSha256()}}};
  }

  void Serve(ServiceOptions options) {
    auto running = testing::Start(std::move(options));
    ASSERT_TRUE(running.ok()) << running.error();
    running_ = std::move(*running);
  }
  std::string Url(std::string_view path) const { return running_.url + std::string(path); }

  FakeClock clock_{kNow};
  std::shared_ptr<ScriptedVerifier> verifier_ = std::make_shared<ScriptedVerifier>();
  std::shared_ptr<token::Issuer> issuer_;
  testing::Running running_;
};

}  // namespace lunal::attest::service::testing
