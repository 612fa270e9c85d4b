// The TCB status of every TDX quote in ../shared/evidence/README.md, from the quote, its PCK
// certificate's SGX extension and the collateral the pool selects at the README's as-of time.
#include <gtest/gtest.h>

#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/attest/tdx/evidence_input.h"
#include "lunal/attest/tdx/pck_extensions.h"
#include "lunal/attest/tdx/quote.h"
#include "lunal/attest/tdx/tcb_status.h"
#include "lunal/crypto/x509.h"
#include "test_collateral.h"
#include "test_quotes.h"

namespace lunal::attest::tdx {
namespace {

struct Expected {
  std::string_view file;    // as in the README table
  std::string_view as_of;   // empty: no as-of time has collateral (README: "—")
  std::string_view status;  // TcbStatusName, or "NotSupported"
  std::string_view level;   // tcbDate of the TDX TCB level the quote matches
};

// The README's "TDX TCB status" column.
constexpr Expected kTable[] = {
    {"lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat", "2026-03-31T22:25:04Z",
     "OutOfDate", "2023-02-15T00:00:00Z"},
    {"lunal-attestation-rs/crates/attestation/test_data/tdx_quote_5.dat", "2026-03-31T22:20:07Z",
     "NotSupported", ""},
    {"lunal-attestation-rs/crates/attestation/test_data/tdx_quote_live.dat", "", "", ""},
    {"lunal-attestation-rs/crates/attestation/test_data/az_tdx/td-quote.bin",
     "2025-10-01T00:34:24Z", "OutOfDate", "2023-08-09T00:00:00Z"},
    {"lunal-attestation-rs/crates/attestation/test_data/az_tdx/evidence-v1.json",
     "2025-10-01T00:34:24Z", "OutOfDate", "2023-08-09T00:00:00Z"},
    {"lunal-attestation-rs/crates/attestation/test_data/az_tdx/live-evidence.json",
     "2026-03-31T22:20:07Z", "UpToDate", "2024-11-13T00:00:00Z"},
    {"trustee/deps/verifier/test_data/tdx_quote_4.dat", "2026-03-31T22:25:04Z", "OutOfDate",
     "2023-02-15T00:00:00Z"},
    {"trustee/deps/verifier/test_data/tdx_quote_5.dat", "2026-03-31T22:20:07Z", "NotSupported", ""},
    {"trustee/deps/verifier/test_data/tdx_quote_6.dat", "", "", ""},
    {"trustee/deps/verifier/test_data/az-tdx-vtpm/evidence-v0.json", "2025-10-01T00:34:24Z",
     "OutOfDate", "2023-08-09T00:00:00Z"},
    {"trustee/deps/verifier/test_data/az-tdx-vtpm/evidence-v1.json", "2025-10-01T00:34:24Z",
     "OutOfDate", "2023-08-09T00:00:00Z"},
    {"go-tdx-guest/testing/testdata/quote_v5_sample.dat", "2026-03-31T22:20:07Z", "UpToDate",
     "2024-11-13T00:00:00Z"},
    {"go-tdx-guest/testing/testdata/tdx_prod_quote_SPR_E4.dat", "2026-03-31T22:25:04Z",
     "NotSupported", ""},
    {"go-tdx-guest/testing/testdata/ccel/cos-113-tdx-quote.dat", "2025-10-01T00:34:24Z", "UpToDate",
     "2024-03-13T00:00:00Z"},
};

class EvidenceTcb : public ::testing::TestWithParam<Expected> {
 protected:
  static void SetUpTestSuite() {
    auto pool = CollateralPool::LoadDirectory(testing::CollateralDir());
    ASSERT_TRUE(pool.ok()) << pool.error();
    pool_ = new std::shared_ptr<const CollateralPool>(*pool);
  }
  static void TearDownTestSuite() {
    delete pool_;
    pool_ = nullptr;
  }
  static std::shared_ptr<const CollateralPool>* pool_;
};
std::shared_ptr<const CollateralPool>* EvidenceTcb::pool_ = nullptr;

void PrintTo(const Expected& e, std::ostream* os) { *os << e.file; }

TEST_P(EvidenceTcb, MatchesTheReadme) {
  const Expected& e = GetParam();
  Bytes file = testing::ReadEvidence(e.file);
  auto decoded = DecodeQuoteContainer(file);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  auto quote = ParseQuote(decoded->quote, {.trailing = ParseOptions::Trailing::kIgnore});
  ASSERT_TRUE(quote.ok()) << quote.error();

  // The PCK certificate (first in the chain) and its SGX extension.
  auto chain = crypto::ParsePemChain(quote->pck_cert_chain_pem);
  ASSERT_TRUE(chain.ok()) << chain.error();
  ASSERT_EQ(chain->size(), 3u);
  const crypto::Certificate& pck_cert = chain->front();
  std::optional<Bytes> der = pck_cert.Extension(kSgxExtensionOid);
  ASSERT_TRUE(der.has_value());
  auto pck = ParsePckExtensions(*der);
  ASSERT_TRUE(pck.ok()) << pck.error();
  auto ca = PckCaFromIssuerName(pck_cert.IssuerName());
  ASSERT_TRUE(ca.ok()) << ca.error();
  EXPECT_EQ(*ca, PckCa::kPlatform);

  if (e.as_of.empty()) {  // README: collateral unavailable at any time
    Timestamp issued = FromSeconds(pck_cert.NotBefore());
    auto c = (*pool_)->Select(pck->fmspc, *ca, issued);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code(), Code::kUnavailable) << c.error();
    return;
  }
  auto as_of = ParseRfc3339(e.as_of);
  ASSERT_TRUE(as_of.ok());
  auto c = (*pool_)->Select(pck->fmspc, *ca, *as_of);
  ASSERT_TRUE(c.ok()) << c.error();

  auto platform = EvaluatePlatformTcb(*c->tcb_info, *pck, *quote);
  if (e.status == "NotSupported") {
    ASSERT_FALSE(platform.ok());
    EXPECT_EQ(platform.error().reason(), "tdx.tcb.not_supported") << platform.error();
    return;
  }
  ASSERT_TRUE(platform.ok()) << platform.error();
  EXPECT_EQ(FormatRfc3339(c->tcb_info->tcb_levels[platform->tdx_level_index].tcb_date), e.level);
  auto qe = EvaluateQeIdentity(*c->qe_identity, quote->qe_report);
  ASSERT_TRUE(qe.ok()) << qe.error();
  EXPECT_EQ(qe->status, TcbStatus::kUpToDate);
  TcbVerdict verdict = ConvergeTcbStatus(*platform, *qe);
  EXPECT_EQ(TcbStatusName(verdict.status), e.status);
  if (verdict.status == TcbStatus::kOutOfDate) {
    EXPECT_FALSE(verdict.advisory_ids.empty());
  } else {
    EXPECT_TRUE(verdict.advisory_ids.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Readme, EvidenceTcb, ::testing::ValuesIn(kTable));

TEST(EvidenceTcbTable, CoversEveryTdxRowOfTheReadme) {
  ASSERT_EQ(std::size(kTable), testing::EvidenceQuotes().size());
  for (std::size_t i = 0; i < std::size(kTable); ++i) {
    EXPECT_EQ(kTable[i].file, testing::EvidenceQuotes()[i].path);
  }
}

}  // namespace
}  // namespace lunal::attest::tdx
