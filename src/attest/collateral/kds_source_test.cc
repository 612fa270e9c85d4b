// KdsSource against the fake KDS (fake_pcs_kds_server.h): a VCEK fetched for a real report that
// does not carry one verifies with the SNP verifier; caching, refusal, rate limits, CRLs, chains.
#include "lunal/attest/collateral/kds_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lunal/attest/snp/verify.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/x509_builder.h"
#include "lunal/testing/testing.h"
#include "test_rows.h"

namespace lunal::attest::collateral {
namespace {

using testing::EvidenceDir;
using ::testing::HasSubstr;
using testing::StartFake;
using testing::T;

// ../shared/evidence/README.md: test-report.bin (SNP v2, Milan, no VCEK in the file) verifies at
// this time with test-vcek.der, which KDS serves for its CHIP_ID and REPORTED_TCB.
constexpr const char* kReport =
    "lunal-attestation-rs/crates/attestation/test_data/snp/test-report.bin";
constexpr const char* kReportAsOf = "2026-07-26T05:58:26Z";
constexpr const char* kVcek = "lunal-attestation-rs/crates/attestation/test_data/snp/test-vcek.der";

Bytes Report() { return lunal::testing::ReadFileBytes(EvidenceDir() / kReport); }

SnpNeed NeedOf(const Bytes& report_bytes) {
  auto report = snp::ParseReport(report_bytes);
  EXPECT_TRUE(report.ok()) << report.error();
  if (!report.ok()) return {};
  return {.product = snp::Product::kMilan,
          .chip_id = Bytes(report->chip_id.begin(), report->chip_id.end()),
          .reported_tcb = report->reported_tcb.Decode(snp::Product::kMilan),
          .vlek = false};
}

KdsSourceOptions OptionsFor(const testing::FakePcsKdsServer& fake,
                            const std::filesystem::path& cache, const Clock& clock) {
  return {.base_url = fake.BaseUrl(),
          .cache_dir = cache,
          .connect_timeout = std::chrono::milliseconds(2'000),
          .request_timeout = std::chrono::milliseconds(5'000),
          .clock = &clock};
}

std::unique_ptr<KdsSource> OpenSource(KdsSourceOptions options) {
  auto source = KdsSource::Open(std::move(options));
  EXPECT_TRUE(source.ok()) << source.error();
  return source.ok() ? std::move(source).value() : nullptr;
}

std::string VcekPath(const SnpNeed& need) { return "/vcek/v1/Milan/" + HexEncode(need.chip_id); }

net::HttpResponse Response(int status, std::string body, net::HttpHeaders headers = {}) {
  net::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(KdsSource, FetchesTheVcekOfAReportWithoutOneAndTheSnpVerifierAccepts) {
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  lunal::testing::TempDir cache;
  FakeClock clock(T(kReportAsOf));
  auto source = OpenSource(OptionsFor(*fake, cache.path(), clock));
  const Bytes report = Report();
  const SnpNeed need = NeedOf(report);

  auto vcek = source->SnpVcek(need, T(kReportAsOf));
  ASSERT_TRUE(vcek.ok()) << vcek.error();
  EXPECT_EQ(*vcek, lunal::testing::ReadFileBytes(EvidenceDir() / kVcek));
  auto verified = snp::VerifyReport(report, {.as_of = T(kReportAsOf), .signing_cert = *vcek});
  ASSERT_TRUE(verified.ok()) << verified.error();
  EXPECT_EQ(HexEncode(verified->measurement).substr(0, 16), "a1f3930413247bb3");
  EXPECT_EQ(fake->Requests(VcekPath(need)), 1u);

  // Cached for good: no second request, and a new source with the vendor down still has it.
  ASSERT_TRUE(source->SnpVcek(need, T(kReportAsOf)).ok());
  EXPECT_EQ(fake->TotalRequests(), 1u);
  fake->Stop();
  auto restarted = OpenSource(OptionsFor(*fake, cache.path(), clock));
  auto again = restarted->SnpVcek(need, T("2027-01-01T00:00:00Z"));
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(*again, *vcek);
  bool described = false;
  for (const DocumentInfo& info : restarted->Describe(T(kReportAsOf))) {
    if (info.kind != "snp_vcek") continue;
    described = true;
    EXPECT_EQ(info.key, "Milan/" + HexEncode(need.chip_id) + "/" +
                            fmt::format("bl{}-tee{}-snp{}-ucode{}", need.reported_tcb.boot_loader,
                                        need.reported_tcb.tee, need.reported_tcb.snp,
                                        need.reported_tcb.microcode));
    EXPECT_TRUE(info.valid);
    EXPECT_EQ(info.fetched, T(kReportAsOf));
    EXPECT_THAT(info.source, HasSubstr("?blSPL="));
  }
  EXPECT_TRUE(described);
}

TEST(KdsSource, RequestsTheVcekByProductHwidAndTcb) {
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  lunal::testing::TempDir cache;
  FakeClock clock(T(kReportAsOf));
  auto source = OpenSource(OptionsFor(*fake, cache.path(), clock));
  SnpNeed need = NeedOf(Report());
  // Another TCB: KDS has no such certificate (the fake: 404).
  need.reported_tcb.microcode = static_cast<std::uint8_t>(need.reported_tcb.microcode + 1);
  auto vcek = source->SnpVcek(need, T(kReportAsOf));
  ASSERT_FALSE(vcek.ok());
  EXPECT_EQ(vcek.error().code(), Code::kUnavailable);
  EXPECT_EQ(vcek.error().reason(), "collateral.not_found");
  EXPECT_THAT(vcek.error().message(),
              HasSubstr(fmt::format("ucodeSPL={}", need.reported_tcb.microcode)));
}

TEST(KdsSource, RefusesACertificateThatIsNotTheOneAskedFor) {
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  const SnpNeed need = NeedOf(Report());
  const std::string genoa = ToString(lunal::testing::ReadFileBytes(
      EvidenceDir() / "lunal-attestation-rs/crates/attestation/test_data/snp/live-vcek-genoa.der"));
  const std::string forged = ToString(lunal::testing::ReadFileBytes(
      EvidenceDir() /
      "lunal-attestation-rs/crates/attestation/test_data/snp/test-vcek-invalid-new.der"));
  struct Case {
    const char* name;
    net::HttpResponse response;
    const char* reason;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"another product's VCEK", Response(200, genoa), "collateral.bad_response", "not issued by"},
      {"a forged VCEK", Response(200, forged), "collateral.bad_response", "VCEK"},
      {"not a certificate", Response(200, "hello"), "collateral.bad_response", "not a certificate"},
      {"oversize", Response(200, std::string(100'000, 'x')), "collateral.response_too_large",
       "larger than"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    fake->Override(VcekPath(need), c.response);
    lunal::testing::TempDir cache;
    FakeClock clock(T(kReportAsOf));
    auto source = OpenSource(OptionsFor(*fake, cache.path(), clock));
    auto vcek = source->SnpVcek(need, T(kReportAsOf));
    ASSERT_FALSE(vcek.ok());
    EXPECT_EQ(vcek.error().reason(), c.reason) << vcek.error();
    EXPECT_THAT(vcek.error().message(), HasSubstr(c.message));
    EXPECT_TRUE(source->Describe(T(kReportAsOf)).empty());  // nothing cached
  }
}

TEST(KdsSource, RateLimitFailsFastForEveryDocumentUntilRetryAfter) {
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  const SnpNeed need = NeedOf(Report());
  fake->Override(VcekPath(need), Response(429, "", {{"Retry-After", "30"}}));
  lunal::testing::TempDir cache;
  FakeClock clock(T(kReportAsOf));
  KdsSourceOptions options = OptionsFor(*fake, cache.path(), clock);
  options.retry_interval = std::chrono::seconds(0);
  auto source = OpenSource(options);

  auto vcek = source->SnpVcek(need, T(kReportAsOf));
  ASSERT_FALSE(vcek.ok());
  EXPECT_EQ(vcek.error().code(), Code::kUnavailable);
  EXPECT_EQ(vcek.error().reason(), "collateral.rate_limited");
  EXPECT_THAT(vcek.error().message(), HasSubstr("2026-07-26T05:58:56Z"));
  // Another document of the same service: refused without asking.
  auto crls = source->SnpCrls(snp::Product::kMilan, T(kReportAsOf));
  ASSERT_FALSE(crls.ok());
  EXPECT_EQ(crls.error().reason(), "collateral.rate_limited");
  EXPECT_EQ(fake->TotalRequests(), 1u);

  fake->Override(VcekPath(need), std::nullopt);
  clock.Advance(std::chrono::seconds(31));
  ASSERT_TRUE(source->SnpVcek(need, T(kReportAsOf)).ok());
  EXPECT_EQ(fake->TotalRequests(), 2u);
}

TEST(KdsSource, WhatKdsCannotServe) {
  lunal::testing::TempDir cache;
  FakeClock clock(T(kReportAsOf));
  // No server needed: nothing is requested.
  auto source =
      OpenSource({.base_url = "http://127.0.0.1:9", .cache_dir = cache.path(), .clock = &clock});
  SnpNeed need = NeedOf(Report());
  need.vlek = true;
  auto vlek = source->SnpVcek(need, T(kReportAsOf));
  ASSERT_FALSE(vlek.ok());
  EXPECT_EQ(vlek.error().reason(), "collateral.unavailable");
  EXPECT_THAT(vlek.error().message(), HasSubstr("VLEK"));
  need.vlek = false;
  need.chip_id = Bytes(64, 0);  // MASK_CHIP_ID
  auto masked = source->SnpVcek(need, T(kReportAsOf));
  ASSERT_FALSE(masked.ok());
  EXPECT_EQ(masked.error().reason(), "collateral.unavailable");
  EXPECT_THAT(masked.error().message(), HasSubstr("MASK_CHIP_ID"));
  auto pool = source->TdxPool({}, T(kReportAsOf));
  ASSERT_TRUE(pool.ok());
  EXPECT_TRUE((*pool)->files().empty());
}

TEST(KdsSource, NoCrlAtKdsIsAnEmptyListAskedOncePerRetryInterval) {
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  lunal::testing::TempDir cache;
  FakeClock clock(T(kReportAsOf));
  KdsSourceOptions options = OptionsFor(*fake, cache.path(), clock);
  auto source = OpenSource(options);
  for (int i = 0; i < 3; ++i) {
    auto crls = source->SnpCrls(snp::Product::kMilan, T(kReportAsOf));
    ASSERT_TRUE(crls.ok()) << crls.error();
    EXPECT_TRUE(crls->empty());
  }
  EXPECT_EQ(fake->Requests("/vcek/v1/Milan/crl"), 1u);
  clock.Advance(options.retry_interval);
  ASSERT_TRUE(source->SnpCrls(snp::Product::kMilan, T(kReportAsOf)).ok());
  EXPECT_EQ(fake->Requests("/vcek/v1/Milan/crl"), 2u);
}

// An AMD-shaped Milan root with a fresh key: AMD's own key signs the real CRLs, so a CRL "from the
// ARK" can only be made under a root the source is told to trust (KdsSourceOptions::roots).
struct FakeArk {
  crypto::PrivateKey key;
  snp::AmdCertificates roots;
};

Result<FakeArk> MakeFakeArk() {
  LUNAL_ASSIGN_OR_RETURN(crypto::PrivateKey key,
                         crypto::PrivateKey::Generate(crypto::KeyType::kEcP384));
  crypto::CertificateBuilder builder;
  builder.SubjectCommonName("ARK-Milan")
      .Serial({0x01})
      .Validity(ToSeconds(T("2020-01-01T00:00:00Z")), ToSeconds(T("2045-01-01T00:00:00Z")))
      .Ca(true)
      .Digest(crypto::DigestAlgorithm::kSha384);
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate ark, builder.SelfSign(key));
  LUNAL_ASSIGN_OR_RETURN(snp::AmdCertificates real, snp::AmdCertificatesFor(snp::Product::kMilan));
  snp::AmdCertificates roots{.product = snp::Product::kMilan,
                             .ark = ark,
                             .ask = real.ask,
                             .asvk = real.asvk,
                             .anchor = {ark.Sha256OfDer(), "fake ARK-Milan"}};
  return FakeArk{std::move(key), std::move(roots)};
}

std::string CrlDer(const FakeArk& ark, const char* this_update, const char* next_update) {
  auto crl = crypto::CrlBuilder()
                 .Updates(ToSeconds(T(this_update)), ToSeconds(T(next_update)))
                 .Digest(crypto::DigestAlgorithm::kSha384)
                 .Sign(ark.roots.ark, ark.key);
  EXPECT_TRUE(crl.ok()) << crl.error();
  return crl.ok() ? ToString(crl->Der()) : "";
}

TEST(KdsSource, CrlsAreCheckedCachedRefreshedAndNeverServedExpired) {
  auto ark = MakeFakeArk();
  ASSERT_TRUE(ark.ok()) << ark.error();
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  const std::string path = "/vcek/v1/Milan/crl";
  const std::string first = CrlDer(*ark, "2026-07-01T00:00:00Z", "2026-08-01T00:00:00Z");
  const std::string second = CrlDer(*ark, "2026-07-30T00:00:00Z", "2026-08-30T00:00:00Z");
  fake->Override(path, Response(200, first));
  lunal::testing::TempDir cache;
  FakeClock clock(T(kReportAsOf));
  KdsSourceOptions options = OptionsFor(*fake, cache.path(), clock);
  options.roots = {ark->roots};
  auto source = OpenSource(options);

  auto crls = source->SnpCrls(snp::Product::kMilan, T(kReportAsOf));
  ASSERT_TRUE(crls.ok()) << crls.error();
  ASSERT_EQ(crls->size(), 1u);
  EXPECT_EQ(ToString((*crls)[0]), first);
  ASSERT_TRUE(source->SnpCrls(snp::Product::kMilan, T("2026-07-30T00:00:00Z")).ok());
  EXPECT_EQ(fake->Requests(path), 1u);  // fresh: more than 24 h before nextUpdate

  // Inside the margin: fetched again, and the newer CRL replaces the cached one.
  fake->Override(path, Response(200, second));
  const Timestamp late = T("2026-07-31T12:00:00Z");
  clock.Set(late);
  crls = source->SnpCrls(snp::Product::kMilan, late);
  ASSERT_TRUE(crls.ok()) << crls.error();
  EXPECT_EQ(ToString((*crls)[0]), second);
  EXPECT_EQ(fake->Requests(path), 2u);

  // The vendor down: the cached CRL while in date; after its nextUpdate, an error, never the CRL.
  fake->Stop();
  auto restarted = OpenSource(options);
  clock.Set(T("2026-08-29T12:00:00Z"));
  crls = restarted->SnpCrls(snp::Product::kMilan, T("2026-08-29T12:00:00Z"));
  ASSERT_TRUE(crls.ok()) << crls.error();
  EXPECT_EQ(ToString((*crls)[0]), second);
  clock.Set(T("2026-08-30T00:00:00Z"));
  crls = restarted->SnpCrls(snp::Product::kMilan, T("2026-08-30T00:00:00Z"));
  ASSERT_FALSE(crls.ok());
  EXPECT_EQ(crls.error().reason(), "collateral.fetch_failed");
}

TEST(KdsSource, RefusesACrlNotSignedByTheArk) {
  auto ark = MakeFakeArk();
  auto other = MakeFakeArk();
  ASSERT_TRUE(ark.ok() && other.ok());
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  fake->Override("/vcek/v1/Milan/crl",
                 Response(200, CrlDer(*other, "2026-07-01T00:00:00Z", "2026-08-01T00:00:00Z")));
  lunal::testing::TempDir cache;
  FakeClock clock(T(kReportAsOf));
  KdsSourceOptions options = OptionsFor(*fake, cache.path(), clock);
  options.roots = {ark->roots};
  auto crls = OpenSource(options)->SnpCrls(snp::Product::kMilan, T(kReportAsOf));
  ASSERT_FALSE(crls.ok());
  EXPECT_EQ(crls.error().reason(), "collateral.bad_response");
  EXPECT_THAT(crls.error().message(), HasSubstr("not signed by ARK-Milan"));
  // With AMD's real roots, the fake ARK's CRL is refused too.
  fake->Override("/vcek/v1/Milan/crl",
                 Response(200, CrlDer(*ark, "2026-07-01T00:00:00Z", "2026-08-01T00:00:00Z")));
  lunal::testing::TempDir cache2;
  crls = OpenSource(OptionsFor(*fake, cache2.path(), clock))
             ->SnpCrls(snp::Product::kMilan, T(kReportAsOf));
  ASSERT_FALSE(crls.ok());
  EXPECT_EQ(crls.error().reason(), "collateral.bad_response");
}

TEST(KdsSource, CertChainsMatchTheEmbeddedRoots) {
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  lunal::testing::TempDir cache;
  FakeClock clock(T(kReportAsOf));
  auto source = OpenSource(OptionsFor(*fake, cache.path(), clock));
  for (snp::Product product : {snp::Product::kMilan, snp::Product::kGenoa, snp::Product::kTurin}) {
    for (bool vlek : {false, true}) {
      auto pem = source->CertChain(product, vlek, T(kReportAsOf));
      ASSERT_TRUE(pem.ok()) << pem.error();
      auto chain = crypto::ParsePemChain(*pem);
      ASSERT_TRUE(chain.ok());
      ASSERT_EQ(chain->size(), 2u);
      EXPECT_EQ((*chain)[1].Sha256OfDer(), snp::ArkSha256(product));
    }
  }
  EXPECT_EQ(fake->TotalRequests(), 6u);
  // A chain with someone else's ARK is refused.
  auto ark = MakeFakeArk();
  ASSERT_TRUE(ark.ok());
  auto real = snp::AmdCertificatesFor(snp::Product::kMilan);
  fake->Override("/vcek/v1/Milan/cert_chain",
                 Response(200, real->ask.ToPem() + ark->roots.ark.ToPem()));
  lunal::testing::TempDir cache2;
  auto refused = OpenSource(OptionsFor(*fake, cache2.path(), clock))
                     ->CertChain(snp::Product::kMilan, false, T(kReportAsOf));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason(), "collateral.bad_response");
}

}  // namespace
}  // namespace lunal::attest::collateral
