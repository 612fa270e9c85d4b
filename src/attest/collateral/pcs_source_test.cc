// PcsSource against the fake PCS (fake_pcs_kds_server.h) over the shared collateral: cold fetch,
// cache, restart, outage, expiry, refresh inside the margin, single-flight, refused responses.
// Every clock is a FakeClock set to the evidence's as-of times; every server is on 127.0.0.1.
#include "lunal/attest/collateral/pcs_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "lunal/attest/tdx/verify.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/common/json.h"
#include "lunal/testing/testing.h"
#include "test_rows.h"

namespace lunal::attest::collateral {
namespace {

using testing::AcceptedTdxRows;
using testing::AsOf;
using ::testing::HasSubstr;
using testing::QuoteOf;
using testing::StartFake;
using testing::T;
using testing::TdxRow;

constexpr const char* kTcbPath = "/tdx/certification/v4/tcb";
constexpr const char* kQePath = "/tdx/certification/v4/qe/identity";
constexpr const char* kPckCrlPath = "/sgx/certification/v4/pckcrl";
constexpr const char* kRootCrlPath = "/IntelSGXRootCA.der";

PcsSourceOptions OptionsFor(const testing::FakePcsKdsServer& fake,
                            const std::filesystem::path& cache, const Clock& clock) {
  return {.base_url = fake.BaseUrl(),
          .root_ca_crl_url = fake.RootCaCrlUrl(),
          .cache_dir = cache,
          .connect_timeout = std::chrono::milliseconds(2'000),
          .request_timeout = std::chrono::milliseconds(5'000),
          .clock = &clock};
}

std::unique_ptr<PcsSource> OpenSource(PcsSourceOptions options) {
  auto source = PcsSource::Open(std::move(options));
  EXPECT_TRUE(source.ok()) << source.error();
  return source.ok() ? std::move(source).value() : nullptr;
}

TdxNeed NeedOf(const Bytes& quote) {
  auto need = TdxNeedOf(quote);
  EXPECT_TRUE(need.ok()) << need.error();
  return need.ok() ? *need : TdxNeed{};
}

Result<tdx::TdxVerification> VerifyWith(std::shared_ptr<const tdx::CollateralPool> pool,
                                        const Bytes& quote, Timestamp as_of) {
  tdx::Verifier verifier(std::move(pool));
  return verifier.Verify(quote, {.as_of = as_of});
}

// The earliest nextUpdate of the four documents the need selects at `as_of`.
Timestamp ValidUntil(const tdx::CollateralPool& pool, const TdxNeed& need, Timestamp as_of) {
  auto selected = pool.Select(need.fmspc, need.ca, as_of);
  EXPECT_TRUE(selected.ok()) << selected.error();
  return selected.ok() ? selected->valid_until : as_of;
}

class ColdSourceTest : public ::testing::TestWithParam<TdxRow> {};

TEST_P(ColdSourceTest, FetchesCachesAndTheVerifierAccepts) {
  const TdxRow& row = GetParam();
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  fake->ServeValidAt(AsOf(row));
  lunal::testing::TempDir cache;
  FakeClock clock(AsOf(row));
  auto source = OpenSource(OptionsFor(*fake, cache.path(), clock));
  ASSERT_NE(source, nullptr);
  const Bytes quote = QuoteOf(row);
  const TdxNeed need = NeedOf(quote);

  auto pool = source->TdxPool(need, AsOf(row));
  ASSERT_TRUE(pool.ok()) << pool.error();
  auto verified = VerifyWith(*pool, quote, AsOf(row));
  ASSERT_TRUE(verified.ok()) << verified.error();
  EXPECT_EQ(tdx::TcbStatusName(verified->tcb.status), row.tcb_status);
  EXPECT_EQ(HexEncode(verified->pck.fmspc), HexEncode(need.fmspc));

  // One request per document, the issuer chains from the headers made it into the pool.
  for (const char* path : {kTcbPath, kQePath, kPckCrlPath, kRootCrlPath}) {
    EXPECT_EQ(fake->Requests(path), 1u) << path;
  }
  // Cached: index.json names the four documents with their validity.
  auto index = ParseJson(lunal::testing::ReadFileText(cache / "pcs" / "index.json"));
  ASSERT_TRUE(index.ok());
  ASSERT_EQ((*index)["documents"].size(), 4u);
  for (const Json& entry : (*index)["documents"]) {
    EXPECT_EQ(entry["fetched"], FormatRfc3339(AsOf(row)));
    EXPECT_LE(*ParseRfc3339(entry["issued"].get<std::string>()), AsOf(row));
    EXPECT_GT(*ParseRfc3339(entry["next_update"].get<std::string>()), AsOf(row));
  }
  // Warm: nothing fetched again.
  ASSERT_TRUE(source->TdxPool(need, AsOf(row)).ok());
  EXPECT_EQ(fake->TotalRequests(), 4u);
}

INSTANTIATE_TEST_SUITE_P(Evidence, ColdSourceTest, ::testing::ValuesIn(AcceptedTdxRows()));

// The row the lifecycle tests use: tdx_quote_4.dat, verified at 2026-03-31T22:25:04Z with
// collateral that expires on 2026-04-15.
const TdxRow& Quote4() { return AcceptedTdxRows().front(); }

TEST(PcsSource, RestartServesTheCacheUntilNextUpdateThenFailsExpired) {
  const TdxRow& row = Quote4();
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  fake->ServeValidAt(AsOf(row));
  lunal::testing::TempDir cache;
  const Bytes quote = QuoteOf(row);
  const TdxNeed need = NeedOf(quote);
  Timestamp valid_until;
  {
    FakeClock clock(AsOf(row));
    auto cold = OpenSource(OptionsFor(*fake, cache.path(), clock));
    auto pool = cold->TdxPool(need, AsOf(row));
    ASSERT_TRUE(pool.ok()) << pool.error();
    valid_until = ValidUntil(**pool, need, AsOf(row));
  }
  // The first of the four to expire: mid-April 2026 (Intel's 30-day validity).
  EXPECT_GT(valid_until, T("2026-04-15T00:00:00Z"));
  EXPECT_LT(valid_until, T("2026-04-16T00:00:00Z"));

  // A restarted source with the server up: serves the cache, asks nothing.
  fake->ResetCounts();
  {
    FakeClock clock(AsOf(row));
    auto restarted = OpenSource(OptionsFor(*fake, cache.path(), clock));
    auto pool = restarted->TdxPool(need, AsOf(row));
    ASSERT_TRUE(pool.ok()) << pool.error();
    EXPECT_TRUE(VerifyWith(*pool, quote, AsOf(row)).ok());
    EXPECT_EQ(fake->TotalRequests(), 0u);
  }

  // The vendor is down from now on.
  fake->Stop();
  FakeClock clock(AsOf(row));
  auto source = OpenSource(OptionsFor(*fake, cache.path(), clock));
  // Inside the refresh margin: the refresh fails, the cached documents are still in date.
  const Timestamp late = valid_until - std::chrono::hours(1);
  clock.Set(late);
  auto pool = source->TdxPool(need, late);
  ASSERT_TRUE(pool.ok()) << pool.error();
  auto verified = VerifyWith(*pool, quote, late);
  EXPECT_TRUE(verified.ok()) << verified.error();

  // At nextUpdate the pool refuses the expired identity: collateral expired, never served.
  clock.Set(valid_until);
  pool = source->TdxPool(need, valid_until);
  ASSERT_TRUE(pool.ok()) << pool.error();
  verified = VerifyWith(*pool, quote, valid_until);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code(), Code::kUnavailable);
  EXPECT_EQ(verified.error().reason(), "tdx.collateral.expired");
  EXPECT_THAT(verified.error().message(), HasSubstr(FormatRfc3339(valid_until)));
  // And the source itself reports that document invalid then.
  std::size_t invalid = 0;
  for (const DocumentInfo& info : source->Describe(valid_until)) {
    if (!info.valid) {
      ++invalid;
      EXPECT_EQ(info.next_update, valid_until) << info.kind;
    }
  }
  EXPECT_GE(invalid, 1u);
}

TEST(PcsSource, ColdSourceWithTheVendorDownFailsWithTheFetchReason) {
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  fake->Stop();
  lunal::testing::TempDir cache;
  FakeClock clock(AsOf(Quote4()));
  auto source = OpenSource(OptionsFor(*fake, cache.path(), clock));
  auto pool = source->TdxPool(NeedOf(QuoteOf(Quote4())), AsOf(Quote4()));
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.error().code(), Code::kUnavailable);
  EXPECT_EQ(pool.error().reason(), "collateral.fetch_failed");
  EXPECT_THAT(pool.error().message(), HasSubstr("nothing cached"));
  EXPECT_THAT(pool.error().message(), HasSubstr(fake->BaseUrl()));
}

TEST(PcsSource, RefreshInsideTheMarginFetchesTheNewerDocuments) {
  // FMSPC 90c06f000000: on 2026-03-01 PCS serves documents valid until 2026-03-20; on
  // 2026-03-19 newer ones (valid until 2026-04-15) exist.
  TdxNeed need{.fmspc = {0x90, 0xc0, 0x6f, 0x00, 0x00, 0x00}, .ca = tdx::PckCa::kPlatform};
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  lunal::testing::TempDir cache;
  const Timestamp t1 = T("2026-03-01T00:00:00Z");
  FakeClock clock(t1);
  PcsSourceOptions options = OptionsFor(*fake, cache.path(), clock);
  auto source = OpenSource(options);
  fake->ServeValidAt(t1);
  ASSERT_TRUE(source->TdxPool(need, t1).ok());
  EXPECT_EQ(fake->TotalRequests(), 4u);

  // Two days before the TCB Info's nextUpdate (2026-03-20T10:58:51Z): still fresh.
  const Timestamp t2 = T("2026-03-18T10:00:00Z");
  clock.Set(t2);
  ASSERT_TRUE(source->TdxPool(need, t2).ok());
  EXPECT_EQ(fake->TotalRequests(), 4u);

  // Inside the 24 h margin of three of them (the Root CA CRL runs to 2027).
  const Timestamp t3 = T("2026-03-19T12:00:00Z");
  clock.Set(t3);
  fake->ServeValidAt(t3);
  auto pool = source->TdxPool(need, t3);
  ASSERT_TRUE(pool.ok()) << pool.error();
  EXPECT_EQ(fake->Requests(kTcbPath), 2u);
  EXPECT_EQ(fake->Requests(kQePath), 2u);
  EXPECT_EQ(fake->Requests(kPckCrlPath), 2u);
  EXPECT_EQ(fake->Requests(kRootCrlPath), 1u);
  auto tcb = (*pool)->SelectTcbInfo(need.fmspc, t3);
  ASSERT_TRUE(tcb.ok());
  EXPECT_EQ((*tcb)->next_update, T("2026-04-15T22:06:09Z"));
  bool described = false;
  for (const DocumentInfo& info : source->Describe(t3)) {
    if (info.kind != "tdx_tcb_info") continue;
    described = true;
    EXPECT_EQ(info.key, "fmspc=90c06f000000");
    EXPECT_EQ(info.next_update, T("2026-04-15T22:06:09Z"));
    EXPECT_EQ(info.fetched, t3);
    EXPECT_TRUE(info.valid);
    EXPECT_THAT(info.source, HasSubstr("/tdx/certification/v4/tcb?fmspc=90c06f000000"));
  }
  EXPECT_TRUE(described);

  // The same answer again inside the margin: asked once per retry interval, not per call.
  const Timestamp t4 = T("2026-04-15T00:00:00Z");
  clock.Set(t4);
  ASSERT_TRUE(source->TdxPool(need, t4).ok());
  const std::size_t after_first = fake->Requests(kTcbPath);
  EXPECT_EQ(after_first, 3u);
  ASSERT_TRUE(source->TdxPool(need, t4).ok());
  EXPECT_EQ(fake->Requests(kTcbPath), after_first);
  clock.Advance(options.retry_interval + std::chrono::seconds(1));
  ASSERT_TRUE(source->TdxPool(need, t4).ok());
  EXPECT_EQ(fake->Requests(kTcbPath), after_first + 1);
}

TEST(PcsSource, ConcurrentCallersShareOneFetch) {
  const TdxRow& row = Quote4();
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  fake->ServeValidAt(AsOf(row));
  fake->set_delay(std::chrono::milliseconds(150));
  lunal::testing::TempDir cache;
  FakeClock clock(AsOf(row));
  auto source = OpenSource(OptionsFor(*fake, cache.path(), clock));
  const Bytes quote = QuoteOf(row);
  const TdxNeed need = NeedOf(quote);

  constexpr int kThreads = 8;
  std::atomic<int> verified{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      auto pool = source->TdxPool(need, AsOf(row));
      if (pool.ok() && VerifyWith(*pool, quote, AsOf(row)).ok()) ++verified;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(verified.load(), kThreads);
  for (const char* path : {kTcbPath, kQePath, kPckCrlPath, kRootCrlPath}) {
    EXPECT_EQ(fake->Requests(path), 1u) << path;
  }
}

// One refused response for the TCB Info path, on a cold source.
struct RefusedCase {
  const char* name;
  net::HttpResponse response;
  const char* reason;
  const char* message;
};

net::HttpResponse Response(int status, std::string body, net::HttpHeaders headers = {}) {
  net::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(PcsSource, RefusesWhatIsNotTheDocumentAskedFor) {
  const TdxRow& row = Quote4();
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  fake->ServeValidAt(AsOf(row));
  const Bytes quote = QuoteOf(row);
  const TdxNeed need = NeedOf(quote);

  // The real answer, to edit.
  net::HttpClient client;
  auto real = client.Send({.method = "GET",
                           .url = fake->BaseUrl() + kTcbPath + "?fmspc=" + HexEncode(need.fmspc),
                           .headers = {},
                           .body = {}});
  ASSERT_TRUE(real.ok());
  ASSERT_EQ(real->status, 200);
  const std::string chain = std::string(*real->Header("TCB-Info-Issuer-Chain"));
  std::string altered = real->body;
  const std::size_t pos = altered.find("\"tcbEvaluationDataNumber\":");
  ASSERT_NE(pos, std::string::npos);
  // The number's last digit, 8 <-> 9 or 0 <-> 1: still JSON, but no longer what Intel signed.
  const std::size_t digits = altered.find_first_of("0123456789", pos);
  altered[altered.find_first_not_of("0123456789", digits) - 1] ^= 1;
  auto qe =
      client.Send({.method = "GET", .url = fake->BaseUrl() + kQePath, .headers = {}, .body = {}});
  ASSERT_TRUE(qe.ok());
  // A valid, Intel-signed TCB Info for another FMSPC.
  const std::string other = lunal::testing::ReadFileText(
      testing::IntelCollateralDir() /
      "tcb_info__teekit__packages__qvl__test__sampleTcbInfos__tcbInfo-tdx-00806f050000.json");

  const std::vector<RefusedCase> cases = {
      {"not JSON", Response(200, "{\"tcbInfo\": ", {{"TCB-Info-Issuer-Chain", chain}}),
       "collateral.bad_response", "refused"},
      {"no issuer chain header", Response(200, real->body), "collateral.bad_response",
       "no TCB-Info-Issuer-Chain header"},
      {"header not PEM", Response(200, real->body, {{"TCB-Info-Issuer-Chain", "hello%20world"}}),
       "collateral.bad_response", "not URL-encoded PEM"},
      {"signature broken", Response(200, altered, {{"TCB-Info-Issuer-Chain", chain}}),
       "collateral.bad_response", "tdx.collateral.untrusted_signature"},
      {"a QE identity instead", Response(200, qe->body, {{"TCB-Info-Issuer-Chain", chain}}),
       "collateral.bad_response", "asked for the TCB Info"},
      {"another FMSPC", Response(200, other, {{"TCB-Info-Issuer-Chain", chain}}),
       "collateral.bad_response", "fmspc=00806f050000"},
      {"oversize", Response(200, std::string(std::size_t{2} << 20, ' ')),
       "collateral.response_too_large", "larger than"},
      {"server error", Response(500, "oops"), "collateral.fetch_failed", "HTTP 500"},
      {"unknown FMSPC", Response(404, "Not Found"), "collateral.not_found", "HTTP 404"},
  };
  for (const RefusedCase& c : cases) {
    SCOPED_TRACE(c.name);
    fake->Override(kTcbPath, c.response);
    lunal::testing::TempDir cache;
    FakeClock clock(AsOf(row));
    auto source = OpenSource(OptionsFor(*fake, cache.path(), clock));
    auto pool = source->TdxPool(need, AsOf(row));
    ASSERT_FALSE(pool.ok());
    EXPECT_EQ(pool.error().code(), Code::kUnavailable);
    EXPECT_EQ(pool.error().reason(), c.reason) << pool.error();
    EXPECT_THAT(pool.error().message(), HasSubstr(c.message));
    // Nothing refused is cached: only the other three documents are.
    auto index = ParseJson(lunal::testing::ReadFileText(cache / "pcs" / "index.json"));
    ASSERT_TRUE(index.ok());
    EXPECT_EQ((*index)["documents"].size(), 3u);
    for (const Json& entry : (*index)["documents"]) EXPECT_NE(entry["kind"], "tdx_tcb_info");
  }
}

TEST(PcsSource, RateLimitedFailsFastUntilRetryAfter) {
  const TdxRow& row = Quote4();
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  fake->ServeValidAt(AsOf(row));
  fake->Override(kTcbPath, Response(429, "", {{"Retry-After", "120"}}));
  lunal::testing::TempDir cache;
  FakeClock clock(AsOf(row));
  PcsSourceOptions options = OptionsFor(*fake, cache.path(), clock);
  options.retry_interval = std::chrono::seconds(0);
  auto source = OpenSource(options);
  const TdxNeed need = NeedOf(QuoteOf(row));

  auto pool = source->TdxPool(need, AsOf(row));
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.error().reason(), "collateral.rate_limited");
  EXPECT_THAT(pool.error().message(), HasSubstr("2026-03-31T22:27:04Z"));  // as-of + 120 s
  // The other documents were not asked for either: the service said to wait.
  EXPECT_EQ(fake->TotalRequests(), 1u);

  clock.Advance(std::chrono::seconds(60));
  pool = source->TdxPool(need, AsOf(row));
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.error().reason(), "collateral.rate_limited");
  EXPECT_EQ(fake->TotalRequests(), 1u);  // failed fast, no request

  fake->Override(kTcbPath, std::nullopt);
  clock.Advance(std::chrono::seconds(61));
  pool = source->TdxPool(need, AsOf(row));
  ASSERT_TRUE(pool.ok()) << pool.error();
  EXPECT_EQ(fake->TotalRequests(), 5u);
}

TEST(PcsSource, FreshFolderCollateralNeedsNoFetch) {
  const TdxRow& row = Quote4();
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  lunal::testing::TempDir cache;
  FakeClock clock(AsOf(row));
  PcsSourceOptions options = OptionsFor(*fake, cache.path(), clock);
  options.folders = {testing::IntelCollateralDir()};
  auto source = OpenSource(options);
  const Bytes quote = QuoteOf(row);
  auto pool = source->TdxPool(NeedOf(quote), AsOf(row));
  ASSERT_TRUE(pool.ok()) << pool.error();
  EXPECT_TRUE(VerifyWith(*pool, quote, AsOf(row)).ok());
  EXPECT_EQ(fake->TotalRequests(), 0u);
  // Describe lists the folder's files as well.
  std::size_t folder_entries = 0;
  for (const DocumentInfo& info : source->Describe(AsOf(row))) {
    if (info.source.starts_with("folder:")) ++folder_entries;
  }
  EXPECT_GT(folder_entries, 40u);
}

TEST(PcsSource, DamagedCacheEntriesAreFetchedAgain) {
  const TdxRow& row = Quote4();
  auto fake = StartFake();
  ASSERT_NE(fake, nullptr);
  fake->ServeValidAt(AsOf(row));
  lunal::testing::TempDir cache;
  FakeClock clock(AsOf(row));
  const TdxNeed need = NeedOf(QuoteOf(row));
  ASSERT_TRUE(OpenSource(OptionsFor(*fake, cache.path(), clock))->TdxPool(need, AsOf(row)).ok());
  // Flip a byte of every cached document file.
  for (const auto& entry : std::filesystem::directory_iterator(cache / "pcs" / "docs")) {
    std::string text = lunal::testing::ReadFileText(entry.path());
    text[text.size() / 2] ^= 0x20;
    ASSERT_TRUE(WriteFileAtomically(entry.path(), text).ok());
  }
  fake->ResetCounts();
  auto source = OpenSource(OptionsFor(*fake, cache.path(), clock));
  auto pool = source->TdxPool(need, AsOf(row));
  ASSERT_TRUE(pool.ok()) << pool.error();
  EXPECT_EQ(fake->TotalRequests(), 4u);
  EXPECT_TRUE(VerifyWith(*pool, QuoteOf(row), AsOf(row)).ok());
}

TEST(PcsSource, OptionsAreChecked) {
  auto no_cache = PcsSource::Open({});
  ASSERT_FALSE(no_cache.ok());
  EXPECT_EQ(no_cache.error().reason(), "collateral.options");
  lunal::testing::TempDir cache;
  auto bad_url = PcsSource::Open({.base_url = "ftp://x", .cache_dir = cache.path()});
  ASSERT_FALSE(bad_url.ok());
  EXPECT_EQ(bad_url.error().reason(), "collateral.options");
}

}  // namespace
}  // namespace lunal::attest::collateral
