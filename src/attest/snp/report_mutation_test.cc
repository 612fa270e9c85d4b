// Mutations of real reports: truncation, padding, every must-be-zero range, unknown versions,
// algorithms, FLAGS and POLICY bits. Each case asserts the error code and the stable reason.
#include <gtest/gtest.h>

#include <string>

#include "lunal/attest/snp/report.h"
#include "lunal/attest/snp/report_layout.h"
#include "test_reports.h"

namespace lunal::attest::snp {
namespace {

namespace L = layout;
using testing::ReadEvidence;

void ExpectError(const Bytes& bytes, Code code, std::string_view reason) {
  auto report = ParseReport(bytes);
  ASSERT_FALSE(report.ok()) << "expected " << reason;
  EXPECT_EQ(report.error().code(), code) << report.error();
  EXPECT_EQ(report.error().reason(), reason) << report.error();
}

TEST(ReportMutationTest, BoundaryLengths) {
  Bytes bytes = ReadEvidence(testing::kReportV5);
  ASSERT_TRUE(ParseReport(bytes).ok());
  Bytes short_one(bytes.begin(), bytes.end() - 1);
  ExpectError(short_one, Code::kMalformed, "snp.report.truncated");
  ExpectError(Bytes{}, Code::kMalformed, "snp.report.truncated");
  Bytes padded = bytes;
  padded.resize(4000, 0);
  auto ok = ParseReport(padded);
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->trailing.size(), 4000u - L::kReportSize);
  padded.back() = 1;
  ExpectError(padded, Code::kMalformed, "snp.report.trailing_bytes");
}

struct ZeroRange {
  std::string_view path;
  std::size_t offset;
  std::string_view reason;
};

TEST(ReportMutationTest, EveryMustBeZeroRange) {
  const ZeroRange cases[] = {
      {testing::kReportV5, L::kReserved0.offset, "snp.report.reserved0.not_zero"},
      {testing::kReportV5, L::kReserved1.offset, "snp.report.reserved1.not_zero"},
      {testing::kReportV5, L::kReserved1.end() - 1, "snp.report.reserved1.not_zero"},
      {testing::kReportV2, L::kCpuidFamId.offset, "snp.report.reserved1.not_zero"},
      {testing::kReportV2, L::kCpuidStep.offset, "snp.report.reserved1.not_zero"},
      {testing::kReportV5, L::kReserved2.offset, "snp.report.reserved2.not_zero"},
      {testing::kReportV5, L::kReserved3.offset, "snp.report.reserved3.not_zero"},
      {testing::kReportV2, L::kLaunchMitVector.offset, "snp.report.mit_vector.not_zero"},
      {testing::kReportV3, L::kCurrentMitVector.offset + 7, "snp.report.mit_vector.not_zero"},
      {testing::kReportV5, L::kReserved4.offset, "snp.report.reserved4.not_zero"},
      {testing::kReportV3, L::kReserved4.end() - 1, "snp.report.reserved4.not_zero"},
      {testing::kReportV5, L::kSignatureReserved.offset, "snp.report.signature.reserved.not_zero"},
      {testing::kReportV2, L::kReportSize - 1, "snp.report.signature.reserved.not_zero"},
  };
  for (const ZeroRange& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.path << " @0x" << std::hex << c.offset);
    Bytes bytes = ReadEvidence(c.path);
    ASSERT_TRUE(ParseReport(bytes).ok());
    bytes.at(c.offset) = 0x01;
    ExpectError(bytes, Code::kMalformed, c.reason);
  }
}

TEST(ReportMutationTest, VersionsAndAlgorithm) {
  for (std::uint32_t version : {0u, 1u, 4u, 6u, 0xffffffffu}) {
    Bytes bytes = ReadEvidence(testing::kReportV5);
    testing::PutU32(bytes, L::kVersion.offset, version);
    ExpectError(bytes, Code::kUnsupported, "snp.report.unsupported_version");
  }
  Bytes bytes = ReadEvidence(testing::kReportV2);
  testing::PutU32(bytes, L::kSignatureAlgo.offset, 2);
  ExpectError(bytes, Code::kUnsupported, "snp.report.unsupported_signature_algo");
}

TEST(ReportMutationTest, Flags) {
  Bytes bytes = ReadEvidence(testing::kReportV2);
  testing::PutU32(bytes, L::kFlags.offset, 1u << 5);
  ExpectError(bytes, Code::kMalformed, "snp.report.flags.unknown_bits");
  for (std::uint32_t key : {2u, 3u, 6u}) {
    testing::PutU32(bytes, L::kFlags.offset, key << 2);
    ExpectError(bytes, Code::kMalformed, "snp.report.flags.unknown_signing_key");
  }
  testing::PutU32(bytes, L::kFlags.offset, (7u << 2) | 3u);
  auto report = ParseReport(bytes);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->signing_key, SigningKey::kNone);
  EXPECT_TRUE(report->author_key_en);
  EXPECT_TRUE(report->mask_chip_key);
}

struct PolicyCase {
  std::string_view path;
  unsigned bit;
  bool set;                 // set the bit (or clear it)
  std::string_view reason;  // empty: still parses
};

TEST(ReportMutationTest, PolicyBitsPerVersion) {
  const PolicyCase cases[] = {
      {testing::kReportV2, 20, true, ""},                         // SINGLE_SOCKET: defined in v2
      {testing::kReportV2, 21, true, "snp.policy.unknown_bits"},  // CXL_ALLOW: rev 1.55
      {testing::kReportV2, 63, true, "snp.policy.unknown_bits"},
      {testing::kReportV3, 24, true, ""},                         // CIPHERTEXT_HIDING
      {testing::kReportV3, 25, true, "snp.policy.unknown_bits"},  // PAGE_SWAP_DISABLE: rev 1.58
      {testing::kReportV5, 25, true, ""},
      {testing::kReportV5, 26, true, "snp.policy.unknown_bits"},
      {testing::kReportV5, 17, false, "snp.policy.reserved_must_be_one"},
  };
  for (const PolicyCase& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.path << " bit " << c.bit);
    Bytes bytes = ReadEvidence(c.path);
    std::uint64_t policy = testing::GetU64(bytes, L::kPolicy.offset);
    const std::uint64_t bit = std::uint64_t{1} << c.bit;
    testing::PutU64(bytes, L::kPolicy.offset, c.set ? (policy | bit) : (policy & ~bit));
    if (c.reason.empty()) {
      auto report = ParseReport(bytes);
      ASSERT_TRUE(report.ok()) << report.error();
      EXPECT_TRUE(report->policy.Bit(c.bit));
    } else {
      ExpectError(bytes, Code::kMalformed, c.reason);
    }
  }
}

}  // namespace
}  // namespace lunal::attest::snp
