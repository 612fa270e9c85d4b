// End-to-end verification of every TDX quote in ../shared/evidence/README.md's table against the
// shared collateral pool, at the table's as-of times, with the table's verdicts.
#include "lunal/attest/tdx/verify.h"

#include <gtest/gtest.h>

#include "lunal/attest/tdx/evidence_input.h"
#include "lunal/common/encoding.h"
#include "lunal/testing/testing.h"
#include "test_pool.h"

namespace lunal::attest::tdx {
namespace {

struct Row {
  const char* path;
  const char* as_of;
  const char* reason;      // nullptr: accepted
  const char* tcb_status;  // when accepted
  const char* mr_td_prefix;
  bool debug;
};

// ../shared/evidence/README.md, "Expected results" (TDX rows). The two rows whose as-of is "—"
// ("collateral_unavailable") verify at no time: the pool's only TCB Info for their FMSPCs
// (b0c06f000000, 00a06d080000) expired in late 2025 with nothing newer. We say so precisely
// (tdx.collateral.expired, naming the date) under the code kUnavailable, checked below.
const Row kRows[] = {
    {"lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat", "2026-03-31T22:25:04Z",
     nullptr, "OutOfDate", "705ee9381b8633a9", true},
    {"lunal-attestation-rs/crates/attestation/test_data/tdx_quote_5.dat", "2026-03-31T22:20:07Z",
     "tdx.tcb.not_supported", nullptr, "dfba221b48a22af8", false},
    {"lunal-attestation-rs/crates/attestation/test_data/tdx_quote_live.dat", "2026-03-31T22:25:04Z",
     "tdx.collateral.expired", nullptr, "eea8b6a814569a52", false},
    {"lunal-attestation-rs/crates/attestation/test_data/az_tdx/td-quote.bin",
     "2025-10-01T00:34:24Z", nullptr, "OutOfDate", "024a32b070383331", false},
    {"lunal-attestation-rs/crates/attestation/test_data/az_tdx/evidence-v1.json",
     "2025-10-01T00:34:24Z", nullptr, "OutOfDate", "024a32b070383331", false},
    {"lunal-attestation-rs/crates/attestation/test_data/az_tdx/live-evidence.json",
     "2026-03-31T22:20:07Z", nullptr, "UpToDate", "273828c46252fcbd", false},
    {"trustee/deps/verifier/test_data/tdx_quote_4.dat", "2026-03-31T22:25:04Z", nullptr,
     "OutOfDate", "705ee9381b8633a9", true},
    {"trustee/deps/verifier/test_data/tdx_quote_5.dat", "2026-03-31T22:20:07Z",
     "tdx.tcb.not_supported", nullptr, "dfba221b48a22af8", false},
    {"trustee/deps/verifier/test_data/tdx_quote_6.dat", "2026-03-31T22:25:04Z",
     "tdx.collateral.expired", nullptr, "21e8dead92d6c69d", false},
    {"trustee/deps/verifier/test_data/az-tdx-vtpm/evidence-v0.json", "2025-10-01T00:34:24Z",
     nullptr, "OutOfDate", "024a32b070383331", false},
    {"trustee/deps/verifier/test_data/az-tdx-vtpm/evidence-v1.json", "2025-10-01T00:34:24Z",
     nullptr, "OutOfDate", "024a32b070383331", false},
    {"go-tdx-guest/testing/testdata/quote_v5_sample.dat", "2026-03-31T22:20:07Z", nullptr,
     "UpToDate", "7348651a34b2d2d3", false},
    {"go-tdx-guest/testing/testdata/tdx_prod_quote_SPR_E4.dat", "2026-03-31T22:25:04Z",
     "tdx.tcb.not_supported", nullptr, "6363b8043668a3ad", false},
    {"go-tdx-guest/testing/testdata/ccel/cos-113-tdx-quote.dat", "2025-10-01T00:34:24Z", nullptr,
     "UpToDate", "dae67181d3d65e07", false},
};

void PrintTo(const Row& row, std::ostream* os) { *os << row.path; }

std::shared_ptr<const CollateralPool> SharedPool() { return testing::SharedEvidencePool(); }

Bytes QuoteOf(const Row& row) {
  auto decoded = DecodeQuoteContainer(
      lunal::testing::ReadFileBytes(lunal::testing::SharedDir() / "evidence" / row.path));
  EXPECT_TRUE(decoded.ok()) << decoded.error();
  return decoded.ok() ? decoded->quote : Bytes();
}

class EvidenceVerdictTest : public ::testing::TestWithParam<Row> {};

TEST_P(EvidenceVerdictTest, GivesTheExpectedVerdictAtItsAsOfTime) {
  const Row& row = GetParam();
  ASSERT_NE(SharedPool(), nullptr);
  Verifier verifier(SharedPool());
  auto result = verifier.Verify(QuoteOf(row), {.as_of = *ParseRfc3339(row.as_of)});
  if (row.reason != nullptr) {
    ASSERT_FALSE(result.ok()) << "accepted: " << result->ToJson().dump();
    EXPECT_EQ(result.error().reason(), row.reason) << result.error();
    if (std::string_view(row.reason).starts_with("tdx.collateral.")) {
      EXPECT_EQ(result.error().code(), Code::kUnavailable);
    }
    return;
  }
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(TcbStatusName(result->tcb.status), row.tcb_status);
  EXPECT_EQ(HexEncode(result->mr_td).substr(0, 16), row.mr_td_prefix);
  EXPECT_EQ(result->debug, row.debug);
  Json j = result->ToJson();
  EXPECT_EQ(j["platform_verification"]["tcb_status"], row.tcb_status);
  EXPECT_EQ(j["measurements"]["td_attributes"]["debug"], row.debug);
  EXPECT_EQ(j["tee"]["simulated"], false);
  EXPECT_NE(j["platform_verification"]["certificate_chain"].get<std::string>().find(
                "Intel SGX Root CA (pinned)"),
            std::string::npos);
}

TEST_P(EvidenceVerdictTest, TodayEveryQuoteFailsOnExpiredOrMissingCollateral) {
  const Row& row = GetParam();
  ASSERT_NE(SharedPool(), nullptr);
  Verifier verifier(SharedPool());
  auto result = verifier.Verify(QuoteOf(row), {.as_of = *ParseRfc3339("2026-11-21T00:00:00Z")});
  ASSERT_FALSE(result.ok());
  const std::string& reason = result.error().reason();
  EXPECT_TRUE(reason == "tdx.collateral.expired" || reason == "tdx.collateral.unavailable")
      << result.error();
  if (reason == "tdx.collateral.expired") {
    EXPECT_NE(result.error().message().find("expired"), std::string::npos) << result.error();
  }
}

INSTANTIATE_TEST_SUITE_P(Evidence, EvidenceVerdictTest, ::testing::ValuesIn(kRows));

TEST(VerifierTest, WarmVerificationGivesTheSameAnswerAsCold) {
  for (const Row& row : kRows) {
    if (row.reason != nullptr) continue;  // only accepted quotes reach the caches' last step
    Verifier verifier(SharedPool());
    Bytes quote = QuoteOf(row);
    VerifyOptions options{.as_of = *ParseRfc3339(row.as_of)};
    auto cold = verifier.Verify(quote, options);
    auto warm = verifier.Verify(quote, options);
    ASSERT_TRUE(cold.ok() && warm.ok()) << row.path;
    EXPECT_EQ(cold->ToJson(), warm->ToJson()) << row.path;
  }
}

TEST(VerifierTest, ExpectedReportDataMustMatchExactly) {
  const Row& row = kRows[0];
  Verifier verifier(SharedPool());
  Bytes quote = QuoteOf(row);
  VerifyOptions options{.as_of = *ParseRfc3339(row.as_of)};
  auto ok = verifier.Verify(quote, options);
  ASSERT_TRUE(ok.ok()) << ok.error();
  options.expected_report_data = ok->report_data;
  EXPECT_TRUE(verifier.Verify(quote, options).ok());
  options.expected_report_data->back() ^= 1;
  EXPECT_EQ(verifier.Verify(quote, options).error().reason(), "tdx.report_data.mismatch");
}

TEST(VerifierTest, WarmCacheDoesNotOutliveTheChainsValidity) {
  // A chain verified at one time must be re-checked at a time outside its window.
  const Row& row = kRows[0];
  Verifier verifier(SharedPool());
  Bytes quote = QuoteOf(row);
  ASSERT_TRUE(verifier.Verify(quote, {.as_of = *ParseRfc3339(row.as_of)}).ok());
  auto later = verifier.Verify(quote, {.as_of = *ParseRfc3339("2040-01-01T00:00:00Z")});
  EXPECT_FALSE(later.ok());
}

TEST(VerifierTest, WithoutThePinnedIntelRootNothingVerifies) {
  const Row& row = kRows[0];
  auto other = crypto::TrustAnchor{.der_sha256 = {}, .label = "some other root"};
  Verifier verifier(SharedPool(), {other});
  auto result = verifier.Verify(QuoteOf(row), {.as_of = *ParseRfc3339(row.as_of)});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), Code::kVerificationFailed) << result.error();
  EXPECT_EQ(result.error().reason().rfind("tdx.pck_chain.", 0), 0u) << result.error();
}

}  // namespace
}  // namespace lunal::attest::tdx
