// ParseTpmQuote over the real vTPM quotes, and every way a TPMS_ATTEST can be wrong.
#include "lunal/attest/azure/tpm_quote.h"

#include <gtest/gtest.h>

#include "lunal/common/encoding.h"
#include "test_evidence.h"

namespace lunal::attest::azure {
namespace {

using testing::ReadEvidence;

Bytes SnpQuote() { return ReadEvidence(std::string(testing::kRs) + "az_snp/tpm-quote.msg"); }

TEST(TpmQuoteTest, ParsesTheRealQuote) {
  const Bytes bytes = SnpQuote();
  ASSERT_EQ(bytes.size(), 122u);
  auto quote = ParseTpmQuote(bytes);
  ASSERT_TRUE(quote.ok()) << quote.error();
  EXPECT_EQ(AsStringView(quote->extra_data), "challenge");
  EXPECT_EQ(quote->qualified_signer.size(), 34u);  // nameAlg SHA-256 + digest
  EXPECT_EQ(quote->qualified_signer[1], 0x0B);
  ASSERT_EQ(quote->pcr_selections.size(), 1u);
  EXPECT_EQ(quote->pcr_selections[0].hash_alg, kTpmAlgSha256);
  // pcrSelect ff 40 00: PCRs 0-7 (firmware and boot) and 14 (shim's MOK list).
  EXPECT_EQ(quote->pcr_selections[0].pcrs, (std::vector<unsigned>{0, 1, 2, 3, 4, 5, 6, 7, 14}));
  EXPECT_EQ(quote->pcr_digest.size(), 32u);
  EXPECT_TRUE(quote->safe);
}

TEST(TpmQuoteTest, RefusesWrongMagicTypeAndTrailingBytes) {
  Bytes magic = SnpQuote();
  magic[3] ^= 1;
  EXPECT_EQ(ParseTpmQuote(magic).error().reason(), "azure.tpm.magic");
  Bytes type = SnpQuote();
  type[5] = 0x17;  // TPM_ST_ATTEST_CERTIFY
  EXPECT_EQ(ParseTpmQuote(type).error().reason(), "azure.tpm.type");
  Bytes trailing = SnpQuote();
  trailing.push_back(0);
  EXPECT_EQ(ParseTpmQuote(trailing).error().reason(), "azure.tpm.trailing_bytes");
}

TEST(TpmQuoteTest, EveryTruncationFails) {
  const Bytes bytes = SnpQuote();
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto parsed = ParseTpmQuote(ByteSpan(bytes).first(n));
    ASSERT_FALSE(parsed.ok()) << n;
    EXPECT_EQ(parsed.error().code(), Code::kMalformed) << n;
  }
}

TEST(TpmQuoteTest, RefusesHostileSelections) {
  // Offsets from the parsed structure: magic 4, type 2, name 2+34, extraData 2+9, clock 17, fw 8.
  const Bytes bytes = SnpQuote();
  const std::size_t count = 4 + 2 + 2 + 34 + 2 + 9 + 17 + 8;
  ASSERT_EQ(bytes[count + 3], 1);  // one bank
  Bytes banks = bytes;
  banks[count] = 0xFF;  // 4 billion banks
  EXPECT_EQ(ParseTpmQuote(banks).error().reason(), "azure.tpm.pcr_select");
  Bytes select = bytes;
  select[count + 4 + 2] = 9;  // sizeofSelect 9
  EXPECT_EQ(ParseTpmQuote(select).error().reason(), "azure.tpm.pcr_select");
  Bytes safe = bytes;
  safe[count - 9] = 2;  // clockInfo.safe
  EXPECT_EQ(ParseTpmQuote(safe).error().reason(), "azure.tpm.clock_info");
}

}  // namespace
}  // namespace lunal::attest::azure
