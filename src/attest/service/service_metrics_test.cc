// /metrics over real HTTP: the Prometheus text exposition, strictly parsed by
// exposition_check.h (promtool is not installable without the Prometheus server: README.md), and
// the counts it reports; and the checker itself against bad expositions.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "exposition_check.h"
#include "lunal/net/client.h"
#include "service_http_fixture.h"

namespace lunal::attest::service {
namespace {

using testing::Call;
using testing::kToken;
using testing::Post;
using testing::Reply;
using testing::Scripted;
using testing::ServiceHttpTest;

TEST_F(ServiceHttpTest, MetricsAreStrictExpositionAndCountWhatHappened) {
  Serve(Options());
  const std::string url = Url("/v1/attestation/verify");
  for (int i = 0; i < 3; ++i) Post(url, {{"evidence", Scripted("verified")}});
  Post(url, {{"evidence", Scripted("rejected")}});
  Post(url, {{"evidence", Scripted("failed")}});
  Post(url, {{"evidence", Scripted("bad-request")}});
  Post(url, {{"evidence", Scripted("verified")}}, std::nullopt);  // 401
  Call("POST", url, "{");                                         // 400 before the verifier
  Call("GET", Url("/healthz"), "", std::nullopt);
  // Answered by the server before any handler: still counted, and paths that are not the
  // service's share one label.
  EXPECT_EQ(Call("GET", Url("/no/such/path")).status, 404);
  EXPECT_EQ(Call("GET", Url("/another/unknown")).status, 404);
  EXPECT_EQ(Call("GET", url).status, 405);
  EXPECT_EQ(Call("POST", url, std::string((std::size_t{1} << 20) + 1, 'x')).status, 413);
  Reply r = Call("GET", Url("/metrics"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(net::FindHeader(r.headers, "Content-Type").value_or(""),
            "text/plain; version=0.0.4; charset=utf-8");
  auto m = testing::ParseExposition(r.text);
  ASSERT_TRUE(m.ok()) << m.error() << "\n" << r.text;
  auto at = [&](const std::string& key) {
    auto it = m->find(key);
    EXPECT_NE(it, m->end()) << key << " missing in\n" << r.text;
    return it == m->end() ? -1.0 : it->second;
  };
  const std::string v = "lunal_attestation_http_requests_total{code=\"";
  EXPECT_EQ(at(v + "200\",endpoint=\"/v1/attestation/verify\"}"), 5);
  EXPECT_EQ(at(v + "400\",endpoint=\"/v1/attestation/verify\"}"), 2);
  EXPECT_EQ(at(v + "401\",endpoint=\"/v1/attestation/verify\"}"), 1);
  EXPECT_EQ(at(v + "200\",endpoint=\"/healthz\"}"), 1);
  EXPECT_EQ(at(v + "404\",endpoint=\"other\"}"), 2);
  EXPECT_EQ(at(v + "405\",endpoint=\"/v1/attestation/verify\"}"), 1);
  EXPECT_EQ(at(v + "413\",endpoint=\"/v1/attestation/verify\"}"), 1);
  const std::string d = "lunal_attestation_verifications_total{reason=\"";
  EXPECT_EQ(at(d + "none\",tee=\"tdx\",verdict=\"verified\"}"), 3);
  EXPECT_EQ(at(d + "policy.debug_forbidden\",tee=\"tdx\",verdict=\"rejected\"}"), 1);
  EXPECT_EQ(at(d + "tdx.quote.signature_invalid\",tee=\"tdx\",verdict=\"failed\"}"), 1);
  // Six calls reached the verifier (the bad-request one too); the malformed body did not.
  EXPECT_EQ(at("lunal_attestation_verify_duration_seconds_count"), 6);
  EXPECT_EQ(at("lunal_attestation_verify_duration_seconds_bucket{le=\"+Inf\"}"), 6);
  EXPECT_EQ(at("lunal_attestation_collateral_documents{state=\"valid\"}"), 1);
  EXPECT_EQ(at("lunal_attestation_collateral_documents{state=\"expired\"}"), 1);
  EXPECT_EQ(at("lunal_attestation_token_keys{state=\"current\"}"), 1);
  EXPECT_EQ(at("lunal_attestation_token_keys{state=\"retired\"}"), 0);
  EXPECT_EQ(at("lunal_attestation_auth_disabled"), 0);
  // After a rotation the old key stays published while its token lives.
  Post(url, {{"evidence", Scripted("verified")}, {"issue_token", true}});
  ASSERT_TRUE(issuer_->Rotate().ok());
  auto after = testing::ParseExposition(Call("GET", Url("/metrics")).text);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->at("lunal_attestation_token_keys{state=\"retired\"}"), 1);
}

TEST_F(ServiceHttpTest, ConcurrentClientsOnKeptAliveConnectionsAreAllCounted) {
  Serve(Options());
  const std::string url = Url("/v1/attestation/verify");
  const std::string body = Json{{"evidence", Scripted("verified")}}.dump();
  constexpr int kThreads = 4, kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      net::HttpClient client;  // one kept-alive connection per thread
      for (int i = 0; i < kRequests; ++i) {
        auto r = client.Send({.method = "POST",
                              .url = url,
                              .headers = {{"Authorization", "Bearer " + std::string(kToken)}},
                              .body = body});
        if (r.ok() && r->status == 200 && r->body.find("\"verified\"") != std::string::npos) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
  auto m = testing::ParseExposition(Call("GET", Url("/metrics")).text);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->at("lunal_attestation_http_requests_total{code=\"200\",endpoint=\"/v1/attestation/"
                  "verify\"}"),
            kThreads * kRequests);
  EXPECT_EQ(m->at("lunal_attestation_verify_duration_seconds_count"), kThreads * kRequests);
}

// The checker itself must refuse what promtool would (a checker that accepts anything proves
// nothing about the service's output).
TEST(ExpositionCheckTest, RefusesMalformedExpositions) {
  const std::string good =
      "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n"
      "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
      "h_sum 0.3\nh_count 2\n";
  ASSERT_TRUE(testing::ParseExposition(good).ok()) << testing::ParseExposition(good).error();
  const std::vector<std::string> bad = {
      "# TYPE a counter\na 1\n",                                           // counter without _total
      "# TYPE a_total counter\na_total 1",                                 // no final line feed
      "# TYPE a_total counter\na_total{x=\"1\"} 1\na_total{x=\"1\"} 2\n",  // repeated
      "# TYPE a_total counter\na_total{x=\"\\t\"} 1\n",                    // bad escape
      "# TYPE a_total counter\na_total{x=1} 1\n",                          // unquoted
      "# TYPE a_total counter\na_total one\n",                             // bad value
      "# TYPE a_total counter\n# TYPE a_total counter\na_total 1\n",       // two TYPEs
      "# TYPE a_total counter\na_total 1\n# TYPE b gauge\nb 1\na_total{y=\"2\"} 1\n",
      "# TYPE a_total counter\n\na_total 1\n",  // empty line
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",  // no +Inf
      "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
      "# TYPE a_total bogus\na_total 1\n",
      "# comment\n",
  };
  for (const std::string& text : bad) {
    EXPECT_FALSE(testing::ParseExposition(text).ok()) << text;
  }
}
}  // namespace
}  // namespace lunal::attest::service
