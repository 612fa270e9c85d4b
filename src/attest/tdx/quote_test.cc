// ParseQuote over every TDX quote in ../shared/evidence/README.md's table: the values the README
// gives (version, body type, MRTD prefix, debug) and values from other documents (Intel's TD_QE
// identity collateral) prove that the layout is read at the right offsets.
#include "lunal/attest/tdx/quote.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "lunal/attest/tdx/evidence_input.h"
#include "lunal/attest/tdx/quote_layout.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/testing/testing.h"
#include "test_quotes.h"

namespace lunal::attest::tdx {
namespace {

using testing::EvidenceQuote;
using testing::EvidenceQuotes;
using testing::ReadEvidence;

bool Within(ByteSpan inner, ByteSpan outer) {
  return !inner.empty() && inner.data() >= outer.data() &&
         inner.data() + inner.size() <= outer.data() + outer.size();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

class EvidenceQuoteTest : public ::testing::TestWithParam<EvidenceQuote> {};

TEST_P(EvidenceQuoteTest, ParsesWithTheReadmeValues) {
  const EvidenceQuote& want = GetParam();
  Bytes file = ReadEvidence(want.path);
  auto decoded = DecodeQuoteContainer(file);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(decoded->container, want.container) << ContainerName(decoded->container);

  auto strict = ParseQuote(decoded->quote);
  ParseOptions lenient{.trailing = ParseOptions::Trailing::kIgnore};
  if (want.nonzero_trailing) {
    ASSERT_FALSE(strict.ok());
    EXPECT_EQ(strict.error().reason(), "tdx.quote.trailing_bytes") << strict.error();
  } else {
    ASSERT_TRUE(strict.ok()) << strict.error();
  }
  auto parsed = ParseQuote(decoded->quote, lenient);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  const QuoteView& q = *parsed;

  EXPECT_EQ(q.header.version, want.version);
  EXPECT_EQ(q.header.att_key_type, layout::kAttKeyTypeEcdsaP256);
  EXPECT_EQ(q.header.tee_type, layout::kTeeTypeTdx);
  EXPECT_TRUE(std::ranges::equal(q.header.qe_vendor_id, layout::kIntelQeVendorId));
  EXPECT_EQ(q.body.type, want.body_type);
  EXPECT_EQ(HexEncode(q.body.mr_td).substr(0, 16), want.mr_td_prefix);
  EXPECT_EQ(q.body.td_attributes.debug(), want.debug);
  EXPECT_EQ(q.body.tee_tcb_svn_2.has_value(), want.body_type == BodyType::kTd15);
  EXPECT_EQ(q.body.mr_service_td.has_value(), want.body_type == BodyType::kTd15);

  // The signed region is header ‖ [descriptor] ‖ body and ends at the signature data length.
  const std::size_t body_offset = want.version == 5 ? 54 : 48;
  EXPECT_EQ(q.body.raw.data(), q.quote.data() + body_offset);
  EXPECT_EQ(q.signed_region.size(), body_offset + q.body.raw.size());
  EXPECT_EQ(q.quote.size(), q.signed_region.size() + 4 + q.signature_data_len);
  EXPECT_EQ(q.quote.size() + q.trailing.size(), decoded->quote.size());
  if (!want.nonzero_trailing) {
    EXPECT_TRUE(std::ranges::all_of(q.trailing, [](std::uint8_t b) { return b == 0; }));
  }

  // The QE report, read at its offset, matches Intel's TD_QE identity (a separate document).
  Json identity = *ParseJson(lunal::testing::ReadFileText(
      lunal::testing::SharedDir() / "evidence" /
      "lunal-attestation-rs/crates/attestation/test_data/collateral/td_qe_identity.json"));
  EXPECT_EQ(HexEncode(q.qe_report.mr_signer),
            Lower(identity["enclaveIdentity"]["mrsigner"].get<std::string>()));
  EXPECT_EQ(q.qe_report.isv_prod_id, identity["enclaveIdentity"]["isvprodid"].get<int>());
  EXPECT_EQ(q.qe_report.raw.size(), 384u);

  // A PEM chain of three certificates (PCK, PCK platform/processor CA, root), no NUL in the text.
  EXPECT_EQ(testing::CountPemCertificates(q.pck_cert_chain_pem), 3u);
  EXPECT_TRUE(q.pck_cert_chain_pem.starts_with("-----BEGIN CERTIFICATE-----"));
  EXPECT_EQ(q.pck_cert_chain_pem.find('\0'), std::string_view::npos);
  EXPECT_EQ(q.qe_auth_data.size(), 32u);

  // Everything borrows the decoded buffer.
  const ByteSpan buffer(decoded->quote);
  for (ByteSpan s : {q.signed_region, q.header.raw, q.body.raw, ByteSpan(q.signature),
                     ByteSpan(q.attestation_key), q.qe_cert_data, q.qe_report.raw,
                     ByteSpan(q.qe_report_signature), q.qe_auth_data, q.pck_cert_chain_data}) {
    EXPECT_TRUE(Within(s, buffer));
  }
}

INSTANTIATE_TEST_SUITE_P(Readme, EvidenceQuoteTest, ::testing::ValuesIn(EvidenceQuotes()),
                         [](const auto& param_info) {
                           std::string name = param_info.param.path;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(QuoteTest, TheTableHasEveryTdxRow) {
  // 14 TDX rows in ../shared/evidence/README.md; guard against an accidental deletion here.
  EXPECT_EQ(EvidenceQuotes().size(), 14u);
}

TEST(QuoteTest, TdAttributesNamesEverySetBit) {
  auto q4 = ParseQuote(ReadEvidence(testing::Quote4Path()));
  ASSERT_TRUE(q4.ok()) << q4.error();
  // tdx_quote_4.dat: DEBUG and SEPT_VE_DISABLE.
  EXPECT_EQ(q4->body.td_attributes.FlagNames(),
            (std::vector<std::string>{"DEBUG", "SEPT_VE_DISABLE"}));
  EXPECT_TRUE(q4->body.td_attributes.sept_ve_disable());
  EXPECT_FALSE(q4->body.td_attributes.pks());

  TdAttributes unnamed{.raw = q4->body.td_attributes.raw, .bits = (1ull << 1) | (1ull << 63)};
  EXPECT_EQ(unnamed.FlagNames(), (std::vector<std::string>{"BIT1", "PERFMON"}));
  EXPECT_TRUE(unnamed.perfmon());
  EXPECT_FALSE(unnamed.debug());
}

TEST(QuoteTest, Td15FieldsFollowTheTd10Body) {
  Bytes bytes = ReadEvidence(testing::Quote5Path());
  auto q = ParseQuote(bytes);
  ASSERT_TRUE(q.ok()) << q.error();
  ASSERT_TRUE(q->body.tee_tcb_svn_2.has_value() && q->body.mr_service_td.has_value());
  EXPECT_EQ(q->body.tee_tcb_svn_2->data(), q->body.report_data.data() + 64);
  EXPECT_EQ(q->body.mr_service_td->data(), q->body.tee_tcb_svn_2->data() + 16);
  EXPECT_EQ(q->body.raw.size(), 648u);
  EXPECT_EQ(BodyTypeName(q->body.type), "TD1.5");
}

TEST(QuoteTest, HeaderFieldsOfARealQuote) {
  Bytes bytes = ReadEvidence(testing::Quote4Path());
  auto q = ParseQuote(bytes);
  ASSERT_TRUE(q.ok()) << q.error();
  EXPECT_EQ(q->header.raw.size(), 48u);
  EXPECT_EQ(q->header.qe_svn, 0);
  EXPECT_EQ(q->header.pce_svn, 0);
  EXPECT_EQ(q->header.user_data.data(), bytes.data() + 28);
  EXPECT_EQ(q->signed_region.size(), 632u);
  EXPECT_EQ(BodyTypeName(q->body.type), "TD1.0");
  // The QE report's reserved ranges are exposed, and zero for Intel's QE.
  for (ByteSpan r : q->qe_report.reserved) {
    EXPECT_TRUE(std::ranges::all_of(r, [](std::uint8_t b) { return b == 0; }));
  }
  EXPECT_EQ(q->qe_report.reserved[0].size() + q->qe_report.reserved[1].size() +
                q->qe_report.reserved[2].size() + q->qe_report.reserved[3].size(),
            12u + 32u + 32u + 42u);
}

}  // namespace
}  // namespace lunal::attest::tdx
