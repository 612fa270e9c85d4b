// The service's HTTP behaviour over real loopback HTTP, with a scripted EvidenceVerifier, a fake
// attester and a fake collateral source (service_http_fixture.h). Real evidence through the real
// engine: service_evidence_test.cc and service_sim_test.cc; metrics: service_metrics_test.cc.
#include <gtest/gtest.h>

#include <mutex>

#include "exposition_check.h"
#include "lunal/attest/token/token.h"
#include "lunal/common/encoding.h"
#include "lunal/common/log.h"
#include "lunal/net/client.h"
#include "service_http_fixture.h"

namespace lunal::attest::service {
namespace {

using testing::Call;
using testing::kNow;
using testing::kToken;
using testing::Post;
using testing::Reply;
using testing::Scripted;
using testing::ServiceHttpTest;

TEST_F(ServiceHttpTest, EveryEndpointButHealthAndKeysNeedsTheBearerToken) {
  Serve(Options());
  struct Endpoint {
    const char* method;
    const char* path;
    std::string body;
  };
  const Json verify = {{"evidence", Scripted("verified")}};
  const std::vector<Endpoint> protected_endpoints = {
      {"POST", "/v1/attestation/verify", verify.dump()},
      {"POST", "/v1/attestation/attest", Json{{"report_data", std::string(128, 'a')}}.dump()},
      {"GET", "/v1/attestation/collateral", ""},
      {"GET", "/metrics", ""}};
  for (const Endpoint& e : protected_endpoints) {
    SCOPED_TRACE(e.path);
    Reply none = Call(e.method, Url(e.path), e.body, std::nullopt);
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.Reason(), "auth.missing_token");
    EXPECT_EQ(net::FindHeader(none.headers, "WWW-Authenticate").value_or(""), "Bearer");
    EXPECT_EQ(Call(e.method, Url(e.path), e.body, "lnl_test_wrong").Reason(), "auth.invalid_token");
    // The right token with one character changed, and the token's SHA-256 itself.
    std::string near(kToken);
    near.back() = near.back() == 'k' ? 'j' : 'k';
    EXPECT_EQ(Call(e.method, Url(e.path), e.body, near).status, 401);
    EXPECT_EQ(Call(e.method, Url(e.path), e.body, HexEncode(testing::TokenSha256())).status, 401);
    EXPECT_EQ(Call(e.method, Url(e.path), e.body, "a b").Reason(), "auth.bad_scheme");
    EXPECT_EQ(Call(e.method, Url(e.path), e.body, "").Reason(), "auth.bad_scheme");
    EXPECT_EQ(Call(e.method, Url(e.path), e.body).status, 200);
  }
  // Another scheme, and the scheme in another case (RFC 9110 §11.1: case-insensitive).
  net::HttpClient client;
  auto basic = client.Send({.method = "GET",
                            .url = Url("/metrics"),
                            .headers = {{"Authorization", "Basic " + std::string(kToken)}}});
  ASSERT_TRUE(basic.ok());
  EXPECT_EQ(basic->status, 401);
  auto lower = client.Send({.method = "GET",
                            .url = Url("/metrics"),
                            .headers = {{"Authorization", "bearer " + std::string(kToken)}}});
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(lower->status, 200);
  for (const char* open : {"/healthz", "/v1/attestation/jwks", "/.well-known/jwks.json"}) {
    EXPECT_EQ(Call("GET", Url(open), "", std::nullopt).status, 200) << open;
  }
  EXPECT_EQ(Call("GET", Url("/healthz"), "", std::nullopt).json["auth"], "bearer");
}

TEST_F(ServiceHttpTest, AuthIsOffOnlyWhenExplicitlyDisabledAndThenSaysSoLoudly) {
  ServiceOptions no_auth = Options();
  no_auth.auth = {};
  auto refused = AttestationService::Create(std::move(no_auth));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason(), "attest.service.no_auth");

  std::vector<std::string> lines;
  std::mutex mu;
  log::SetSinkForTesting([&](std::string_view line) {
    std::lock_guard lock(mu);
    lines.emplace_back(line);
  });
  ServiceOptions insecure = Options();
  insecure.auth = {.token_sha256 = {}, .insecure_no_auth = true};
  Serve(std::move(insecure));
  log::SetSinkForTesting(nullptr);
  bool warned = false;
  for (const std::string& line : lines) {
    warned = warned || (line.find("warn") != std::string::npos &&
                        line.find("attestation.auth_disabled") != std::string::npos);
  }
  EXPECT_TRUE(warned) << "no warning logged at start";
  EXPECT_EQ(Post(Url("/v1/attestation/verify"), {{"evidence", Scripted("verified")}}, std::nullopt)
                .status,
            200);
  Reply health = Call("GET", Url("/healthz"), "", std::nullopt);
  EXPECT_EQ(health.json["auth"], "disabled");
  ASSERT_EQ(health.json["warnings"].size(), 1u);
  EXPECT_NE(health.json["warnings"][0].get<std::string>().find("--insecure-no-auth"),
            std::string::npos);
  auto metrics = testing::ParseExposition(Call("GET", Url("/metrics"), "", std::nullopt).text);
  ASSERT_TRUE(metrics.ok()) << metrics.error();
  EXPECT_EQ(metrics->at("lunal_attestation_auth_disabled"), 1);
}

TEST_F(ServiceHttpTest, BodiesAndEvidenceOverTheLimitsAre413) {
  ServiceOptions options = Options();
  options.limits.max_body_bytes = 4096;
  options.limits.max_evidence_bytes = 1024;
  options.limits.max_event_log_bytes = 1024;
  Serve(std::move(options));
  const std::string big(5000, 'A');
  Reply body = Call("POST", Url("/v1/attestation/verify"), Json{{"evidence", big}}.dump());
  EXPECT_EQ(body.status, 413);
  EXPECT_EQ(body.Reason(), "http.body_too_large");
  const Bytes evidence(1025, 0x41);
  Reply too_much = Post(Url("/v1/attestation/verify"), {{"evidence", Base64Encode(evidence)}});
  EXPECT_EQ(too_much.status, 413);
  EXPECT_EQ(too_much.Reason(), "attest.request.evidence_too_large");
  // Exactly at the limit passes the size check (and reaches the verifier).
  Reply at_limit =
      Post(Url("/v1/attestation/verify"), {{"evidence", Base64Encode(Bytes(1024, 0x41))}});
  EXPECT_EQ(at_limit.status, 200) << at_limit.text;
  Reply log = Post(Url("/v1/attestation/verify"),
                   {{"evidence", Scripted("verified")}, {"event_log", Base64Encode(evidence)}});
  EXPECT_EQ(log.status, 413);
  EXPECT_EQ(log.Reason(), "attest.request.event_log_too_large");
}

TEST_F(ServiceHttpTest, RequestProblemsAre400WithStableReasons) {
  Serve(Options());
  const std::string url = Url("/v1/attestation/verify");
  struct Case {
    std::string body;
    std::string reason;
  };
  const Json ok_evidence = Scripted("verified");
  const std::vector<Case> cases = {
      {"{\"evidence\": ", "json.syntax"},
      {R"({"evidence": "QQ==", "evidence": "QQ=="})", "json.duplicate_key"},
      {"[1, 2]", "attest.request.not_object"},
      {Json{{"evidence", ok_evidence}, {"evidnce", 1}}.dump(), "attest.request.unknown_field"},
      {Json{{"issue_token", true}}.dump(), "attest.request.missing_evidence"},
      {Json{{"evidence", nullptr}}.dump(), "attest.request.missing_evidence"},
      {Json{{"evidence", 42}}.dump(), "attest.request.wrong_type"},
      {Json{{"evidence", "not base64!"}}.dump(), "attest.request.bad_base64"},
      {Json{{"evidence", ""}}.dump(), "attest.request.empty_evidence"},
      {Json{{"evidence", ok_evidence}, {"expected_report_data", "00ff"}}.dump(),
       "attest.request.bad_report_data"},
      {Json{{"evidence", ok_evidence}, {"expected_report_data", std::string(128, 'g')}}.dump(),
       "attest.request.bad_report_data"},
      {Json{{"evidence", ok_evidence}, {"nonce", "xyz"}}.dump(), "attest.request.bad_nonce"},
      {Json{{"evidence", ok_evidence}, {"issue_token", "yes"}}.dump(), "attest.request.wrong_type"},
      {Json{{"evidence", ok_evidence}, {"at", "2026-03-31T22:25:04Z"}}.dump(),
       "attest.request.at_not_allowed"},
      {Json{{"evidence", ok_evidence},
            {"certs", Json::array({"QQ==", "QQ==", "QQ==", "QQ==", "QQ=="})}}
           .dump(),
       "attest.request.too_many_certs"},
      {Json{{"evidence", ok_evidence}, {"certs", "QQ=="}}.dump(), "attest.request.wrong_type"},
      {Json{{"evidence", ok_evidence}, {"policy", {{"allow_debugg", true}}}}.dump(),
       "policy.unknown_key"},
      {Json{{"evidence", ok_evidence}, {"policy", "tee_types: [sgx]"}}.dump(), "policy.bad_value"},
      {Json{{"evidence", Scripted("bad-request")}}.dump(), "attestation.evidence_unrecognized"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body.substr(0, 120));
    Reply r = Call("POST", url, c.body);
    EXPECT_EQ(r.status, 400) << r.text;
    EXPECT_EQ(r.Reason(), c.reason) << r.text;
    EXPECT_EQ(r.json["error"]["code"].is_string(), true);
  }
  // A policy error names where in the request's policy text the problem is.
  Reply policy = Post(url, {{"evidence", ok_evidence}, {"policy", "allow_debug: true\nfoo: 1\n"}});
  EXPECT_NE(policy.json["error"]["message"].get<std::string>().find("request.policy:2:1"),
            std::string::npos)
      << policy.text;
  // Our own failures are 500 "internal", without their details.
  Reply internal = Post(url, {{"evidence", Scripted("internal")}});
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.Reason(), "internal");
  EXPECT_EQ(internal.text.find("passwd"), std::string::npos);
  // Wrong methods and paths.
  EXPECT_EQ(Call("GET", url).status, 405);
  EXPECT_EQ(Call("GET", Url("/v1/attestation/nope")).status, 404);
}

TEST_F(ServiceHttpTest, TheRequestReachesTheVerifierWithTheServiceClockUnlessAtIsAllowed) {
  ServiceOptions options = Options();
  policy::Policy fallback = policy::DefaultPolicy();
  fallback.allow_debug = true;
  options.default_policy = fallback;
  Serve(std::move(options));
  const std::string url = Url("/v1/attestation/verify");
  const std::string report_data(128, 'a');
  ASSERT_EQ(Post(url, {{"evidence", Scripted("verified")},
                       {"expected_report_data", report_data},
                       {"certs", Json::array({Base64Encode(AsBytes("cert"))})},
                       {"event_log", Base64Encode(AsBytes("log"))},
                       {"nonce", "00FF"}})
                .status,
            200);
  engine::VerifyRequest seen = verifier_->last();
  EXPECT_EQ(ToString(seen.evidence), "verified");
  EXPECT_EQ(seen.as_of, kNow) << "the service's clock, not the engine's default";
  EXPECT_EQ(HexEncode(*seen.expected_report_data), report_data);
  ASSERT_EQ(seen.certs.size(), 1u);
  EXPECT_EQ(ToString(seen.certs[0]), "cert");
  EXPECT_EQ(ToString(*seen.event_log), "log");
  EXPECT_EQ(HexEncode(*seen.nonce), "00ff");
  ASSERT_TRUE(seen.policy.has_value());
  EXPECT_TRUE(seen.policy->allow_debug) << "the configured default policy";
  // A request's own policy wins over the default; an envelope object travels as its JSON.
  const Json envelope = {{"platform", "tdx"}, {"quote", "AAAA"}};
  ASSERT_EQ(Post(url, {{"evidence", envelope}, {"policy", {{"allow_simulated", true}}}}).status,
            200);
  seen = verifier_->last();
  EXPECT_EQ(ParseJson(ToString(seen.evidence)).value(), envelope);
  EXPECT_FALSE(seen.policy->allow_debug);
  EXPECT_TRUE(seen.policy->allow_simulated);
  // Base64 with line breaks, as `base64` writes it, is the same evidence.
  ASSERT_EQ(Post(url, {{"evidence", "dmVy\naWZp\r\nZWQ="}}).status, 200);
  EXPECT_EQ(ToString(verifier_->last().evidence), "verified");
  clock_.Advance(std::chrono::hours(1));
  ASSERT_EQ(Post(url, {{"evidence", Scripted("verified")}}).status, 200);
  EXPECT_EQ(verifier_->last().as_of, kNow + std::chrono::hours(1));
}

TEST_F(ServiceHttpTest, AtIsHonouredWhenTheOperatorAllowsIt) {
  ServiceOptions options = Options();
  options.allow_request_time = true;
  Serve(std::move(options));
  const std::string url = Url("/v1/attestation/verify");
  ASSERT_EQ(Post(url, {{"evidence", Scripted("verified")}, {"at", "2025-10-01T00:34:24Z"}}).status,
            200);
  EXPECT_EQ(verifier_->last().as_of, *ParseRfc3339("2025-10-01T00:34:24Z"));
  Reply bad = Post(url, {{"evidence", Scripted("verified")}, {"at", "yesterday"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Reason(), "time.rfc3339.syntax");
}

TEST_F(ServiceHttpTest, AnOctetStreamBodyIsTheEvidenceFileWithOptionsInTheQuery) {
  ServiceOptions options = Options();
  options.limits.max_evidence_bytes = 1024;
  Serve(std::move(options));
  auto raw = [&](const std::string& query, const std::string& body,
                 const std::string& type = "application/octet-stream") {
    net::HttpClient client;
    auto r = client.Send(
        {.method = "POST",
         .url = Url("/v1/attestation/verify") + query,
         .headers = {{"Authorization", "Bearer " + std::string(kToken)}, {"Content-Type", type}},
         .body = body});
    EXPECT_TRUE(r.ok());
    Reply reply;
    reply.status = r.ok() ? r->status : 0;
    reply.text = r.ok() ? r->body : "";
    reply.json = ParseJson(reply.text).value_or(Json());
    return reply;
  };
  const std::string report_data(128, 'b');
  Reply ok = raw("?expected_report_data=" + report_data + "&issue_token=true", "verified",
                 "Application/Octet-Stream; x=1");
  ASSERT_EQ(ok.status, 200) << ok.text;
  EXPECT_TRUE(ok.json["token"].is_string());
  engine::VerifyRequest seen = verifier_->last();
  EXPECT_EQ(ToString(seen.evidence), "verified");
  EXPECT_EQ(HexEncode(*seen.expected_report_data), report_data);
  EXPECT_EQ(seen.as_of, kNow);
  EXPECT_EQ(raw("?policy=x", "verified").Reason(), "attest.request.unknown_field");
  EXPECT_EQ(raw("?issue_token=yes", "verified").Reason(), "attest.request.wrong_type");
  EXPECT_EQ(raw("?at=2026-01-01T00:00:00Z", "verified").Reason(), "attest.request.at_not_allowed");
  EXPECT_EQ(raw("", "").Reason(), "attest.request.empty_evidence");
  Reply big = raw("", std::string(1025, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.Reason(), "attest.request.evidence_too_large");
  // A JSON request does not take query parameters.
  EXPECT_EQ(
      raw("?issue_token=true", Json{{"evidence", Scripted("verified")}}.dump(), "application/json")
          .Reason(),
      "attest.request.unknown_field");
}

TEST_F(ServiceHttpTest, VerdictsAre200AndOnlyVerifiedOnesGetATokenThatValidates) {
  Serve(Options());
  const std::string url = Url("/v1/attestation/verify");
  Reply verified =
      Post(url, {{"evidence", Scripted("verified")}, {"issue_token", true}, {"nonce", "0a0b"}});
  ASSERT_EQ(verified.status, 200);
  EXPECT_EQ(verified.json["status"], "verified");
  ASSERT_TRUE(verified.json["token"].is_string()) << verified.text;
  // The token validates against the JWKS the service publishes, and carries the essentials.
  Reply jwks = Call("GET", Url("/.well-known/jwks.json"), "", std::nullopt);
  EXPECT_EQ(jwks.json, Call("GET", Url("/v1/attestation/jwks"), "", std::nullopt).json);
  auto token =
      token::Validate(verified.json["token"].get<std::string>(), jwks.json, kNow, "https://a");
  ASSERT_TRUE(token.ok()) << token.error();
  EXPECT_EQ(token->claims["lunal"]["tee"], "tdx");
  EXPECT_EQ(token->claims["nonce"], "0a0b");
  // Without issue_token, and for rejected and failed verdicts, there is no token.
  EXPECT_FALSE(Post(url, {{"evidence", Scripted("verified")}}).json.contains("token"));
  for (const char* what : {"rejected", "failed"}) {
    Reply r = Post(url, {{"evidence", Scripted(what)}, {"issue_token", true}});
    EXPECT_EQ(r.status, 200) << what;
    EXPECT_EQ(r.json["status"], what);
    EXPECT_FALSE(r.json.contains("token")) << what;
  }
  EXPECT_EQ(Post(url, {{"evidence", Scripted("failed")}}).json["error"]["reason"],
            "tdx.quote.signature_invalid");
}

TEST_F(ServiceHttpTest, WithoutAnIssuerTokensAre503AndTheJwksIsEmpty) {
  ServiceOptions options = Options();
  options.issuer = nullptr;
  Serve(std::move(options));
  Reply r = Post(Url("/v1/attestation/verify"),
                 {{"evidence", Scripted("verified")}, {"issue_token", true}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Reason(), "attest.token.unavailable");
  EXPECT_EQ(Call("GET", Url("/v1/attestation/jwks"), "", std::nullopt).json["keys"], Json::array());
}

TEST_F(ServiceHttpTest, AttestReturnsAnEnvelopeOr503WithoutAnAttester) {
  Serve(Options());
  const std::string report_data = HexEncode(Bytes(64, 0x5a));
  Reply r = Post(Url("/v1/attestation/attest"), {{"report_data", report_data}});
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.json, (Json{{"platform", "tdx"},
                          {"quote", Base64Encode(Bytes(64, 0x5a))},
                          {"event_log", Base64Encode(AsBytes("log"))},
                          {"simulated", true}}));
  EXPECT_EQ(Post(Url("/v1/attestation/attest"), {{"report_data", "00"}}).Reason(),
            "attest.request.bad_report_data");
  EXPECT_EQ(Post(Url("/v1/attestation/attest"), {{"report_data", report_data}, {"x", 1}}).Reason(),
            "attest.request.unknown_field");

  running_.service->Stop(std::chrono::milliseconds(0));
  ServiceOptions options = Options();
  options.attester = nullptr;
  Serve(std::move(options));
  Reply none = Post(Url("/v1/attestation/attest"), {{"report_data", report_data}});
  EXPECT_EQ(none.status, 503);
  EXPECT_EQ(none.Reason(), "attest.unavailable");
}

TEST_F(ServiceHttpTest, CollateralListsWhatTheSourceHolds) {
  Serve(Options());
  Reply r = Call("GET", Url("/v1/attestation/collateral"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json["as_of"], "2026-03-01T12:00:00Z");
  ASSERT_EQ(r.json["documents"].size(), 2u);
  EXPECT_EQ(r.json["documents"][0], (Json{{"kind", "tdx_tcb_info"},
                                          {"key", "fmspc=50806f000000"},
                                          {"source", "pcs:http://127.0.0.1:1"},
                                          {"issued", "2026-02-01T00:00:00Z"},
                                          {"next_update", "2026-04-01T00:00:00Z"},
                                          {"fetched", "2026-02-01T00:05:00Z"},
                                          {"valid", true}}));
  EXPECT_EQ(r.json["documents"][1]["valid"], false);
  EXPECT_FALSE(r.json["documents"][1].contains("issued"));
}
}  // namespace
}  // namespace lunal::attest::service
