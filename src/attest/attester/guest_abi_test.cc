// The /dev/tdx_guest and /dev/sev-guest marshalling: no device exists here, so these are the
// parts that can be tested (request layouts, response parsing, the certificate table).
#include "guest_abi.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "lunal/attest/tdx/quote.h"
#include "lunal/testing/testing.h"

namespace lunal::attest::guest_abi {
namespace {

namespace fs = std::filesystem;
const fs::path kData = "evidence/lunal-attestation-rs/crates/attestation/test_data";

Bytes Evidence(const fs::path& name) {
  return lunal::testing::ReadFileBytes(lunal::testing::SharedDir() / kData / name);
}

bool Same(ByteSpan a, ByteSpan b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

std::array<std::uint8_t, kReportDataSize> ReportData() {
  std::array<std::uint8_t, kReportDataSize> data{};
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(0xA0 + i);
  return data;
}

TEST(TdxReportReqTest, CarriesReportDataAndAZeroedReportBuffer) {
  auto data = ReportData();
  TdxReportReq req = MakeTdxReportReq(data);
  EXPECT_TRUE(Same(req.reportdata, data));
  EXPECT_TRUE(std::all_of(std::begin(req.tdreport), std::end(req.tdreport),
                          [](std::uint8_t b) { return b == 0; }));
}

TEST(SnpReportReqTest, LayoutIsUserDataThenVmplThenZeroes) {
  auto data = ReportData();
  SnpReportReq req = MakeSnpReportReq(data, 2);
  std::array<std::uint8_t, sizeof(SnpReportReq)> raw{};
  std::memcpy(raw.data(), &req, sizeof(req));
  EXPECT_TRUE(Same(ByteSpan(raw).first(64), data));
  EXPECT_EQ(raw[64], 2);  // vmpl, little-endian u32 at offset 64
  EXPECT_TRUE(std::all_of(raw.begin() + 65, raw.end(), [](std::uint8_t b) { return b == 0; }));
}

TEST(SnpExtReportReqTest, CertificateFieldsFollowTheReportRequest) {
  EXPECT_EQ(offsetof(SnpExtReportReq, certs_address), 96u);
  EXPECT_EQ(offsetof(SnpExtReportReq, certs_len), 104u);
  EXPECT_EQ(offsetof(SnpGuestRequestIoctl, req_data), 8u);
  EXPECT_EQ(offsetof(SnpGuestRequestIoctl, resp_data), 16u);
  EXPECT_EQ(offsetof(SnpGuestRequestIoctl, exitinfo2), 24u);
}

// snp_report_resp.data as the driver returns it: the 32-byte MSG_REPORT_RSP header, the report.
Bytes Response(std::uint32_t status, std::uint32_t size, const Bytes& report) {
  Bytes resp(sizeof(SnpReportResp), 0);
  for (int i = 0; i < 4; ++i) {
    resp[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(status >> (8 * i));
    resp[static_cast<std::size_t>(4 + i)] = static_cast<std::uint8_t>(size >> (8 * i));
  }
  std::copy(report.begin(), report.end(), resp.begin() + kSnpRespHeaderSize);
  return resp;
}

TEST(SnpReportResponseTest, ReturnsTheReportAfterTheHeader) {
  Bytes report = Evidence("snp/test-report.bin");
  ASSERT_EQ(report.size(), kSnpReportSize);
  Bytes resp = Response(0, 1184, report);
  auto parsed = ParseSnpReportResponse(resp);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_TRUE(Same(*parsed, report));
}

TEST(SnpReportResponseTest, FirmwareErrorsAreNamed) {
  Bytes report = Evidence("snp/test-report.bin");
  for (auto [status, name] : {std::pair<std::uint32_t, const char*>{0x16, "INVALID_PARAM"},
                              {0x27, "INVALID_KEY"},
                              {0x99, "unknown"}}) {
    auto parsed = ParseSnpReportResponse(Response(status, 1184, report));
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code(), Code::kUnavailable);
    EXPECT_EQ(parsed.error().reason(), "attest.sev_guest.firmware_error");
    EXPECT_NE(parsed.error().message().find(name), std::string::npos) << parsed.error();
  }
}

TEST(SnpReportResponseTest, ReportSizeMustHoldAReportAndFitTheBuffer) {
  Bytes report = Evidence("snp/test-report.bin");
  for (std::uint32_t size : {0u, 1183u, 4000u - 32u + 1u, 0xFFFFFFFFu}) {
    auto parsed = ParseSnpReportResponse(Response(0, size, report));
    ASSERT_FALSE(parsed.ok()) << size;
    EXPECT_EQ(parsed.error().reason(), "attest.sev_guest.bad_report_size");
  }
  auto largest = ParseSnpReportResponse(Response(0, 4000 - 32, report));
  ASSERT_TRUE(largest.ok());
  EXPECT_EQ(largest->size(), 4000u - 32u);
  auto short_buffer = ParseSnpReportResponse(ByteSpan(report).first(20));
  ASSERT_FALSE(short_buffer.ok());
  EXPECT_EQ(short_buffer.error().reason(), "attest.sev_guest.response.reserved.truncated");
}

// A table: `entries` of (offset, length) with a non-zero GUID, the terminator, padding to `size`.
Bytes Table(std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> entries,
            std::size_t size) {
  Bytes table;
  for (auto [offset, length] : entries) {
    for (int i = 0; i < 16; ++i) table.push_back(static_cast<std::uint8_t>(i + 1));
    for (std::uint32_t v : {offset, length}) {
      for (int i = 0; i < 4; ++i) table.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }
  table.resize(table.size() + kCertEntrySize, 0);  // terminator
  table.resize(std::max(table.size(), size), 0);
  return table;
}

TEST(CertTableTest, UsedSizeCoversTheTableAndEveryCertificate) {
  // Two entries and the terminator take 72 bytes; certificates at 72..1072 and 1072..1572.
  auto used = CertTableUsedSize(Table({{72, 1000}, {1072, 500}}, kSnpCertsMax));
  ASSERT_TRUE(used.ok()) << used.error();
  EXPECT_EQ(*used, 1572u);
  // Out of order entries: the furthest end counts.
  used = CertTableUsedSize(Table({{1072, 500}, {72, 1000}}, kSnpCertsMax));
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 1572u);
}

TEST(CertTableTest, AnAllZeroBufferMeansNoCertificates) {
  auto used = CertTableUsedSize(Bytes(kSnpCertsMax, 0));
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 0u);
}

TEST(CertTableTest, MalformedTables) {
  auto out_of_range = CertTableUsedSize(Table({{72, 4096}}, 4096));
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_EQ(out_of_range.error().reason(), "attest.sev_guest.cert_table.entry_out_of_range");

  Bytes unterminated = Table({{0, 1}, {0, 1}}, 0);
  unterminated.resize(48);  // drop the terminator
  auto result = CertTableUsedSize(unterminated);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason(), "attest.sev_guest.cert_table.unterminated");

  Bytes many;
  for (std::size_t i = 0; i <= kMaxCertEntries; ++i) {
    Bytes one = Table({{0, 1}}, 0);
    many.insert(many.end(), one.begin(), one.begin() + kCertEntrySize);
  }
  many.resize(many.size() + kCertEntrySize, 0);
  result = CertTableUsedSize(many);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason(), "attest.sev_guest.cert_table.too_many_entries");
}

TEST(SnpExitInfoTest, SplitsFirmwareAndVmmErrors) {
  std::string text = DescribeSnpExitInfo((std::uint64_t{1} << 32) | 0x16);
  EXPECT_NE(text.find("firmware error 0x16 (INVALID_PARAM)"), std::string::npos) << text;
  EXPECT_NE(text.find("VMM error 1 (INVALID_LEN)"), std::string::npos) << text;
}

}  // namespace
}  // namespace lunal::attest::guest_abi
