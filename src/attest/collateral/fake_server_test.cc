// The fake PCS/KDS itself: response shapes and headers as the real services give them, choice by
// time, the test PKI left out, counting, overrides, stop and restart on the same port.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lunal/attest/collateral/fake_pcs_kds_server.h"
#include "lunal/attest/tdx/collateral.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/x509.h"
#include "lunal/net/client.h"
#include "test_rows.h"

namespace lunal::attest::collateral::testing {
namespace {

using ::testing::HasSubstr;

Result<net::HttpResponse> Get(const std::string& url) {
  net::HttpClient client({.connect_timeout = std::chrono::milliseconds(2'000),
                          .request_timeout = std::chrono::milliseconds(5'000)});
  return client.Send({.method = "GET", .url = url, .headers = {}, .body = {}});
}

TEST(FakePcsKdsServer, ServesTcbInfoWithAnIntelEncodedIssuerChain) {
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  const Timestamp t = T("2026-03-31T22:25:04Z");
  fake->ServeValidAt(t);
  auto r = Get(fake->BaseUrl() + "/tdx/certification/v4/tcb?fmspc=50806F000000");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Type"), "application/json");
  auto doc = tdx::ParseTcbInfo(r->body);
  ASSERT_TRUE(doc.ok()) << doc.error();
  EXPECT_EQ(doc->FmspcHex(), "50806f000000");
  EXPECT_LE(doc->issue_date, t);
  EXPECT_LT(t, doc->next_update);

  const std::string header(*r->Header("TCB-Info-Issuer-Chain"));
  EXPECT_THAT(header, ::testing::StartsWith("-----BEGIN%20CERTIFICATE-----%0A"));
  EXPECT_EQ(header.find_first_of(" \n+/="), std::string::npos);  // all percent-encoded
  auto decoded = net::PercentDecode(header, false);
  ASSERT_TRUE(decoded.has_value());
  auto chain = crypto::ParsePemChain(*decoded);
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[0].SubjectCommonName(), "Intel SGX TCB Signing");
  EXPECT_EQ((*chain)[1].SubjectCommonName(), "Intel SGX Root CA");
  // The signing certificate that was valid when the document was issued (2025-2032).
  EXPECT_LE(FromSeconds((*chain)[0].NotBefore()), doc->issue_date);
  EXPECT_EQ(HexEncode((*chain)[1].Sha256OfDer()),
            "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3");
}

TEST(FakePcsKdsServer, ChoosesTheNewestDocumentValidAtTheGivenTime) {
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  auto next_update_at = [&](std::optional<Timestamp> t) -> std::string {
    fake->ServeValidAt(t);
    auto r = Get(fake->BaseUrl() + "/tdx/certification/v4/tcb?fmspc=90c06f000000");
    if (!r.ok() || r->status != 200) return "none";
    return FormatRfc3339(tdx::ParseTcbInfo(r->body)->next_update);
  };
  EXPECT_EQ(next_update_at(T("2025-10-01T00:00:00Z")), "2025-10-29T18:29:22Z");
  EXPECT_EQ(next_update_at(T("2026-02-10T00:00:00Z")), "2026-03-03T14:49:26Z");
  EXPECT_EQ(next_update_at(T("2026-03-01T00:00:00Z")), "2026-03-20T10:58:51Z");
  EXPECT_EQ(next_update_at(T("2026-03-31T00:00:00Z")), "2026-04-15T22:06:09Z");
  EXPECT_EQ(next_update_at(T("2026-05-01T00:00:00Z")), "none");
  EXPECT_EQ(next_update_at(std::nullopt), "2026-04-15T22:06:09Z");  // the newest
}

TEST(FakePcsKdsServer, LeavesOutIntelsTestPki) {
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  // ed742af8adf5 exists only as Intel QVL sample data, signed under the test root.
  auto r = Get(fake->BaseUrl() + "/tdx/certification/v4/tcb?fmspc=ed742af8adf5");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  auto processor = Get(fake->BaseUrl() + "/sgx/certification/v4/pckcrl?ca=processor");
  ASSERT_TRUE(processor.ok());
  EXPECT_EQ(processor->status, 404);
}

TEST(FakePcsKdsServer, PckCrlIsPemUnlessDerIsAskedFor) {
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  auto pem = Get(fake->BaseUrl() + "/sgx/certification/v4/pckcrl?ca=platform");
  auto der = Get(fake->BaseUrl() + "/sgx/certification/v4/pckcrl?ca=platform&encoding=der");
  ASSERT_TRUE(pem.ok() && der.ok());
  EXPECT_THAT(pem->body, ::testing::StartsWith("-----BEGIN X509 CRL-----"));
  EXPECT_EQ(pem->Header("Content-Type"), "application/x-pem-file");
  EXPECT_EQ(der->Header("Content-Type"), "application/pkix-crl");
  auto crl = crypto::Crl::FromDer(AsBytes(der->body));
  ASSERT_TRUE(crl.ok());
  EXPECT_THAT(crl->IssuerName(), HasSubstr("Intel SGX PCK Platform CA"));
  auto chain = net::PercentDecode(*der->Header("SGX-PCK-CRL-Issuer-Chain"), false);
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ(crypto::ParsePemChain(*chain)->front().SubjectCommonName(),
            "Intel SGX PCK Platform CA");
  auto root = Get(fake->RootCaCrlUrl());
  ASSERT_TRUE(root.ok());
  EXPECT_THAT(crypto::Crl::FromDer(AsBytes(root->body))->IssuerName(),
              HasSubstr("Intel SGX Root CA"));
}

TEST(FakePcsKdsServer, IndexesRealVceksAndLeavesOutForgedOnes) {
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  bool milan = false;
  for (const FakeVcek& v : fake->vceks()) {
    EXPECT_EQ(v.file.find("invalid"), std::string::npos) << v.file;
    milan = milan || v.file.ends_with("snp/test-vcek.der");
  }
  EXPECT_TRUE(milan);
  const FakeVcek& v = fake->vceks().front();
  const bool turin = v.product == snp::Product::kTurin;
  std::string url = fake->BaseUrl() + v.path + "?" +
                    (turin ? fmt::format("fmcSPL={}&", *v.tcb.fmc) : std::string()) +
                    fmt::format("blSPL={}&teeSPL={}&snpSPL={}&ucodeSPL={}", v.tcb.boot_loader,
                                v.tcb.tee, v.tcb.snp, v.tcb.microcode);
  auto r = Get(url);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(ToBytes(r->body), v.der);
  auto missing = Get(fake->BaseUrl() + v.path + "?blSPL=0");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 400);
  auto chain = Get(fake->BaseUrl() + "/vcek/v1/Genoa/cert_chain");
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(crypto::ParsePemChain(chain->body)->size(), 2u);
  auto crl = Get(fake->BaseUrl() + "/vcek/v1/Genoa/crl");
  ASSERT_TRUE(crl.ok());
  EXPECT_EQ(crl->status, 404);
}

TEST(FakePcsKdsServer, CountsOverridesStopsAndRestartsOnTheSamePort) {
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  const std::string path = "/tdx/certification/v4/qe/identity";
  ASSERT_EQ(Get(fake->BaseUrl() + path)->status, 200);
  ASSERT_EQ(Get(fake->BaseUrl() + path)->status, 200);
  EXPECT_EQ(fake->Requests(path), 2u);
  EXPECT_EQ(fake->TotalRequests(), 2u);

  net::HttpResponse teapot;
  teapot.status = 429;
  teapot.AddHeader("Retry-After", "7");
  fake->Override(path, teapot);
  auto r = Get(fake->BaseUrl() + path);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->Header("Retry-After"), "7");
  fake->Override(path, std::nullopt);

  const std::uint16_t port = fake->port();
  fake->Stop();
  auto refused = Get(fake->BaseUrl() + path);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason(), "net.connect_failed");
  ASSERT_TRUE(fake->Restart().ok());
  EXPECT_EQ(fake->port(), port);
  EXPECT_EQ(Get(fake->BaseUrl() + path)->status, 200);
  EXPECT_EQ(fake->Requests(path), 4u);
  fake->ResetCounts();
  EXPECT_EQ(fake->TotalRequests(), 0u);
}

TEST(FakePcsKdsServer, UrlEncodeIsEncodeUriComponent) {
  EXPECT_EQ(FakePcsKdsServer::UrlEncode("-----BEGIN CERTIFICATE-----\nab+/=\n"),
            "-----BEGIN%20CERTIFICATE-----%0Aab%2B%2F%3D%0A");
  EXPECT_EQ(FakePcsKdsServer::UrlEncode("A-Z_a.z~0!9*'()"), "A-Z_a.z~0!9*'()");
}

}  // namespace
}  // namespace lunal::attest::collateral::testing
