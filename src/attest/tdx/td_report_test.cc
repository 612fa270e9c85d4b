// ParseTdReport over a real TDREPORT (lunal-attestation-rs's live capture), against the quote of
// the same TD.
#include "lunal/attest/tdx/td_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "lunal/attest/tdx/quote.h"
#include "lunal/testing/testing.h"

namespace lunal::attest::tdx {
namespace {

Bytes Evidence(const std::filesystem::path& name) {
  return lunal::testing::ReadFileBytes(lunal::testing::SharedDir() / "evidence" /
                                       "lunal-attestation-rs/crates/attestation/test_data" / name);
}

bool Same(ByteSpan a, ByteSpan b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

// A TDREPORT and a quote captured on the same live TD: the TDREPORT's fields must be the ones the
// quote's TD report body carries (the quote signs a copy of them). The two were not captured at
// the same moment: RTMR2 (runtime measurements) was extended in between, and only it differs.
TEST(TdReportTest, LiveTdReportMatchesTheQuoteFromTheSameTd) {
  Bytes report_bytes = Evidence("tdx_tdreport_live.bin");
  Bytes quote_bytes = Evidence("tdx_quote_live.dat");
  auto report = ParseTdReport(report_bytes);
  ASSERT_TRUE(report.ok()) << report.error();
  auto quote = ParseQuote(quote_bytes);
  ASSERT_TRUE(quote.ok()) << quote.error();
  const TdReportBody& body = quote->body;
  EXPECT_EQ(report->type, 0x81);
  EXPECT_TRUE(Same(report->mr_td, body.mr_td));
  EXPECT_TRUE(Same(report->rtmr[0], body.rtmr[0]));
  EXPECT_TRUE(Same(report->rtmr[1], body.rtmr[1]));
  EXPECT_FALSE(Same(report->rtmr[2], body.rtmr[2]));
  EXPECT_TRUE(Same(report->rtmr[3], body.rtmr[3]));
  EXPECT_TRUE(Same(report->report_data, body.report_data));
  EXPECT_TRUE(Same(report->mr_config_id, body.mr_config_id));
  EXPECT_TRUE(Same(report->mr_owner, body.mr_owner));
  EXPECT_TRUE(Same(report->mr_owner_config, body.mr_owner_config));
  EXPECT_TRUE(Same(report->xfam, body.xfam));
  EXPECT_TRUE(Same(report->tee_tcb_svn, body.tee_tcb_svn));
  EXPECT_TRUE(Same(report->mr_seam, body.mr_seam));
  EXPECT_TRUE(Same(report->mr_signer_seam, body.mr_signer_seam));
  EXPECT_TRUE(Same(report->seam_attributes, body.seam_attributes));
}

TEST(TdReportTest, RejectsWrongSizeAndType) {
  Bytes report = Evidence("tdx_tdreport_live.bin");
  for (std::size_t size : {std::size_t{0}, std::size_t{1023}, std::size_t{1025}}) {
    Bytes resized = report;
    resized.resize(size);
    auto parsed = ParseTdReport(resized);
    ASSERT_FALSE(parsed.ok()) << size;
    EXPECT_EQ(parsed.error().reason(), "tdx.tdreport.bad_size");
  }
  report[0] = 0x00;  // REPORTTYPE.TYPE: SGX, not TDX
  auto parsed = ParseTdReport(report);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().reason(), "tdx.tdreport.bad_type");
}

}  // namespace
}  // namespace lunal::attest::tdx
