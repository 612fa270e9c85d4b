// The expected digests below were computed with Python's hashlib from the byte layout written out
// in docs/protocols/report-data.md, not with this code.
#include "lunal/attest/report_data.h"

#include <gtest/gtest.h>

#include "lunal/common/encoding.h"

namespace lunal::attest {
namespace {

Bytes Spki() { return ToBytes("spki-bytes"); }
const std::string kBuildHash =
    "sha256:abababababababababababababababababababababababababababababababab";

TEST(ReportDataTest, InstanceBindingMatchesAnIndependentComputation) {
  Result<ReportData> rd =
      ReportDataFor({.key_spki_der = Spki(), .nonce = "n0nce", .build_hash = kBuildHash});
  ASSERT_TRUE(rd.ok()) << rd.status();
  EXPECT_EQ(HexEncode(*rd),
            "1527a892cfa2d27ede454e338000a04263148f9d6d76a29f9d7d790f7a2ee0532ccc9f8d14a0f6e1b512"
            "ff8e74a6db8cf3fb7dfc97393f28d0979b1de5fcf33a");
}

TEST(ReportDataTest, BuilderBindingMatchesAnIndependentComputation) {
  Result<ReportData> rd = BuilderReportData(Spki());
  ASSERT_TRUE(rd.ok()) << rd.status();
  EXPECT_EQ(HexEncode(*rd),
            "e206794c22a4d6b5827c9bc395c2c4003fb2986126d8f858044023e497a5d1285e2a5f41bf42cafed4d4"
            "0ec642abdec09b32d0b9b1418073837750cfdcd49e87");
}

TEST(ReportDataTest, EveryBoundValueChangesTheResult) {
  const InstanceBinding base{.key_spki_der = Spki(), .nonce = "n0nce", .build_hash = kBuildHash};
  const ReportData want = *ReportDataFor(base);
  InstanceBinding other_key = base;
  other_key.key_spki_der.back() ^= 1;
  InstanceBinding other_nonce = base;
  other_nonce.nonce = "n0ncf";
  InstanceBinding other_hash = base;
  other_hash.build_hash.back() = 'c';
  InstanceBinding no_hash = base;
  no_hash.build_hash.clear();
  for (const InstanceBinding& b : {other_key, other_nonce, other_hash, no_hash}) {
    Result<ReportData> rd = ReportDataFor(b);
    ASSERT_TRUE(rd.ok()) << rd.status();
    EXPECT_NE(*rd, want);
  }
  // The purpose is part of the preimage: the same payload under another purpose differs.
  Json payload = *InstancePayload(base);
  EXPECT_NE(*ComputeReportData(kPurposeBeacon, payload), want);
  EXPECT_EQ(*ComputeReportData(kPurposeInstance, payload), want);
}

TEST(ReportDataTest, PreimageIsDomainPurposeAndCanonicalJson) {
  Result<Bytes> pre = ReportDataPreimage("x", Json{{"b", 1}, {"a", "z"}});
  ASSERT_TRUE(pre.ok()) << pre.status();
  EXPECT_EQ(std::string(pre->begin(), pre->end()),
            std::string("lunal/report-data/v1\0x\0{\"a\":\"z\",\"b\":1}", 38));
}

TEST(ReportDataTest, RefusesWhatCannotBeBound) {
  EXPECT_EQ(ComputeReportData("", Json::object()).status().reason(), "binding.bad_purpose");
  EXPECT_EQ(ComputeReportData(std::string("a\0b", 3), Json::object()).status().reason(),
            "binding.bad_purpose");
  EXPECT_EQ(ComputeReportData("x", Json::array()).status().reason(), "binding.bad_payload");
  EXPECT_EQ(ReportDataFor({.key_spki_der = {}, .nonce = "n", .build_hash = ""}).status().reason(),
            "binding.empty_key");
  for (std::string bad : {"sha256:" + std::string(63, 'a'), "sha256:" + std::string(64, 'A'),
                          "sha384:" + std::string(64, 'a'), std::string(71, 'a')}) {
    EXPECT_EQ(
        ReportDataFor({.key_spki_der = Spki(), .nonce = "n", .build_hash = bad}).status().reason(),
        "binding.bad_build_hash")
        << bad;
  }
  EXPECT_TRUE(IsSha256Ref(kBuildHash));
}

}  // namespace
}  // namespace lunal::attest
