// ConfigfsTsmAttester against a fake configfs-tsm tree (fake_tsm_provider.h) serving real
// evidence from ../shared/evidence with REPORT_DATA patched to what was asked.
#include "lunal/attest/configfs_tsm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <thread>
#include <vector>

#include "fake_tsm_provider.h"
#include "lunal/attest/snp/report.h"
#include "lunal/attest/tdx/quote.h"
#include "lunal/testing/testing.h"

namespace lunal::attest {
namespace {

namespace fs = std::filesystem;
using testing::FakeTsmOptions;
using testing::FakeTsmProvider;

const fs::path kData = "evidence/lunal-attestation-rs/crates/attestation/test_data";
constexpr std::size_t kTdxV4ReportDataOffset = 48 + 520;  // header + TD report body offset
constexpr std::size_t kSnpReportDataOffset = 0x50;

Bytes Evidence(const fs::path& name) {
  return lunal::testing::ReadFileBytes(lunal::testing::SharedDir() / kData / name);
}

std::array<std::uint8_t, kReportDataSize> ReportData(std::uint8_t seed) {
  std::array<std::uint8_t, kReportDataSize> data{};
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(seed + i * 7);
  return data;
}

FakeTsmOptions TdxFake() {
  FakeTsmOptions fake;
  fake.provider = "tdx_guest";
  fake.evidence = Evidence("tdx_quote_4.dat");
  fake.report_data_offset = kTdxV4ReportDataOffset;
  return fake;
}

// A GHCB certificate table (GHCB 2.03 §4.1.8.1) holding the test VCEK: one entry, the all-zero
// terminator, then the certificate. The GUID bytes are the VCEK's GUID in EFI (guid_t) order;
// the attester treats them as opaque.
Bytes CertTable(const Bytes& vcek) {
  const std::array<std::uint8_t, 16> guid = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45,
                                             0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
  Bytes table(guid.begin(), guid.end());
  auto put32 = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) table.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  put32(48);  // offset: after this entry and the terminator
  put32(static_cast<std::uint32_t>(vcek.size()));
  table.resize(48, 0);
  table.insert(table.end(), vcek.begin(), vcek.end());
  return table;
}

FakeTsmOptions SnpFake() {
  FakeTsmOptions fake;
  fake.provider = "sev_guest";
  fake.evidence = Evidence("snp/test-report.bin");
  fake.report_data_offset = kSnpReportDataOffset;
  fake.auxblob = CertTable(Evidence("snp/test-vcek.der"));
  return fake;
}

ConfigfsTsmOptions Options(const fs::path& root) {
  ConfigfsTsmOptions options;
  options.root = root;
  options.ccel_path.clear();
  options.attribute_wait = std::chrono::milliseconds(5000);
  return options;
}

bool Empty(const fs::path& root) { return fs::is_empty(root); }

class ConfigfsTsmTest : public ::testing::Test {
 protected:
  ConfigfsTsmTest() : root_(temp_ / "report") { fs::create_directory(root_); }
  lunal::testing::TempDir temp_;
  fs::path root_;
};

TEST_F(ConfigfsTsmTest, TdxRoundTrip) {
  FakeTsmProvider fake(root_, TdxFake());
  ConfigfsTsmOptions options = Options(root_);
  options.ccel_path = lunal::testing::SharedDir() / kData / "tdx_ccel_live.bin";
  auto attester = ConfigfsTsmAttester::Open(options);
  ASSERT_TRUE(attester.ok()) << attester.error();
  EXPECT_EQ((*attester)->Name(), "configfs-tsm");
  EXPECT_EQ((*attester)->Tee(), TeeType::kTdx);
  EXPECT_EQ((*attester)->provider(), "tdx_guest");

  auto report_data = ReportData(3);
  auto evidence = (*attester)->Attest(report_data);
  ASSERT_TRUE(evidence.ok()) << evidence.error();
  EXPECT_EQ(evidence->tee, TeeType::kTdx);
  EXPECT_EQ(evidence->provider, "tdx_guest");
  EXPECT_EQ(evidence->generation, 1u);
  EXPECT_FALSE(evidence->simulated);
  EXPECT_TRUE(evidence->aux_blob.empty());  // tdx_guest exposes no auxblob
  EXPECT_EQ(evidence->event_log, lunal::testing::ReadFileBytes(options.ccel_path));

  auto quote = tdx::ParseQuote(evidence->quote);
  ASSERT_TRUE(quote.ok()) << quote.error();
  EXPECT_TRUE(std::equal(quote->body.report_data.begin(), quote->body.report_data.end(),
                         report_data.begin(), report_data.end()));
  // Everything else is the served quote, byte for byte.
  Bytes expected = Evidence("tdx_quote_4.dat");
  std::copy(report_data.begin(), report_data.end(),
            expected.begin() + static_cast<std::ptrdiff_t>(kTdxV4ReportDataOffset));
  EXPECT_EQ(evidence->quote, expected);

  EXPECT_EQ(fake.entries_seen(), 2);  // the probe in Open, then the report
  EXPECT_EQ(fake.reports_served(), 1);
  EXPECT_TRUE(Empty(root_));
}

TEST_F(ConfigfsTsmTest, SnpRoundTripWithCertificateTable) {
  FakeTsmOptions fake_options = SnpFake();
  Bytes served_aux = *fake_options.auxblob;
  FakeTsmProvider fake(root_, std::move(fake_options));
  auto attester = ConfigfsTsmAttester::Open(Options(root_));
  ASSERT_TRUE(attester.ok()) << attester.error();
  EXPECT_EQ((*attester)->Tee(), TeeType::kSnp);

  auto report_data = ReportData(200);
  auto evidence = (*attester)->Attest(report_data);
  ASSERT_TRUE(evidence.ok()) << evidence.error();
  EXPECT_EQ(evidence->tee, TeeType::kSnp);
  EXPECT_EQ(evidence->provider, "sev_guest");
  auto report = snp::ParseReport(evidence->quote);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_TRUE(std::equal(report->report_data.begin(), report->report_data.end(),
                         report_data.begin(), report_data.end()));
  EXPECT_EQ(evidence->aux_blob, served_aux);
  EXPECT_TRUE(evidence->event_log.empty());
  EXPECT_TRUE(Empty(root_));
}

TEST_F(ConfigfsTsmTest, EachAttestIsItsOwnEntryAndReport) {
  FakeTsmProvider fake(root_, TdxFake());
  auto attester = ConfigfsTsmAttester::Open(Options(root_));
  ASSERT_TRUE(attester.ok()) << attester.error();
  for (int seed : {1, 2, 3}) {
    auto report_data = ReportData(static_cast<std::uint8_t>(seed));
    auto evidence = (*attester)->Attest(report_data);
    ASSERT_TRUE(evidence.ok()) << evidence.error();
    auto quote = tdx::ParseQuote(evidence->quote);
    ASSERT_TRUE(quote.ok());
    EXPECT_TRUE(std::equal(quote->body.report_data.begin(), quote->body.report_data.end(),
                           report_data.begin()));
  }
  EXPECT_EQ(fake.entries_seen(), 4);
  EXPECT_EQ(fake.reports_served(), 3);
  EXPECT_TRUE(Empty(root_));
}

TEST_F(ConfigfsTsmTest, TwoAttestersInParallelGetTheirOwnReportData) {
  FakeTsmProvider fake(root_, TdxFake());
  auto a = ConfigfsTsmAttester::Open(Options(root_));
  auto b = ConfigfsTsmAttester::Open(Options(root_));
  ASSERT_TRUE(a.ok() && b.ok());
  auto run = [](ConfigfsTsmAttester& attester, std::uint8_t seed, int& good) {
    for (int i = 0; i < 3; ++i) {
      auto report_data = ReportData(static_cast<std::uint8_t>(seed + i));
      auto evidence = attester.Attest(report_data);
      if (!evidence.ok()) continue;
      auto quote = tdx::ParseQuote(evidence->quote);
      if (quote.ok() && std::equal(quote->body.report_data.begin(), quote->body.report_data.end(),
                                   report_data.begin())) {
        ++good;
      }
    }
  };
  int good_a = 0, good_b = 0;
  std::thread ta(run, std::ref(**a), std::uint8_t{10}, std::ref(good_a));
  std::thread tb(run, std::ref(**b), std::uint8_t{100}, std::ref(good_b));
  ta.join();
  tb.join();
  EXPECT_EQ(good_a, 3);
  EXPECT_EQ(good_b, 3);
  EXPECT_TRUE(Empty(root_));
}

TEST_F(ConfigfsTsmTest, GenerationRaceOnceIsRetriedInAFreshEntry) {
  FakeTsmOptions fake_options = TdxFake();
  fake_options.race = FakeTsmOptions::Race::kOnce;
  FakeTsmProvider fake(root_, std::move(fake_options));
  auto attester = ConfigfsTsmAttester::Open(Options(root_));
  ASSERT_TRUE(attester.ok()) << attester.error();
  auto report_data = ReportData(9);
  auto evidence = (*attester)->Attest(report_data);
  ASSERT_TRUE(evidence.ok()) << evidence.error();
  EXPECT_EQ(evidence->generation, 1u);
  EXPECT_EQ(fake.races_injected(), 1);
  EXPECT_EQ(fake.reports_served(), 2);  // the raced report was discarded
  EXPECT_EQ(fake.entries_seen(), 3);    // probe, raced entry, fresh entry
  EXPECT_TRUE(Empty(root_));
}

TEST_F(ConfigfsTsmTest, GenerationRaceEveryTimeFailsAfterBoundedAttempts) {
  FakeTsmOptions fake_options = TdxFake();
  fake_options.race = FakeTsmOptions::Race::kAlways;
  FakeTsmProvider fake(root_, std::move(fake_options));
  ConfigfsTsmOptions options = Options(root_);
  options.max_attempts = 3;
  auto attester = ConfigfsTsmAttester::Open(options);
  ASSERT_TRUE(attester.ok()) << attester.error();
  auto evidence = (*attester)->Attest(ReportData(1));
  ASSERT_FALSE(evidence.ok());
  EXPECT_EQ(evidence.error().code(), Code::kUnavailable);
  EXPECT_EQ(evidence.error().reason(), "attest.configfs.generation_race");
  EXPECT_NE(evidence.error().message().find("generation 0 before our write and 2 after"),
            std::string::npos)
      << evidence.error();
  EXPECT_EQ(fake.reports_served(), 3);
  EXPECT_TRUE(Empty(root_));
}

// Generation 1 before our write means someone wrote to the entry first (a privlevel, say): the
// report would not be ours alone even though our write moves the counter by exactly one.
TEST_F(ConfigfsTsmTest, AnEntryWrittenBeforeUsIsARace) {
  FakeTsmOptions fake_options = TdxFake();
  fake_options.initial_generation = 1;
  FakeTsmProvider fake(root_, std::move(fake_options));
  auto attester = ConfigfsTsmAttester::Open(Options(root_));
  ASSERT_TRUE(attester.ok()) << attester.error();
  auto evidence = (*attester)->Attest(ReportData(1));
  ASSERT_FALSE(evidence.ok());
  EXPECT_EQ(evidence.error().reason(), "attest.configfs.generation_race");
  EXPECT_NE(evidence.error().message().find("generation 1 before our write and 2 after"),
            std::string::npos)
      << evidence.error();
  EXPECT_TRUE(Empty(root_));
}

TEST_F(ConfigfsTsmTest, MissingRootIsUnavailableNamingThePath) {
  ConfigfsTsmOptions options = Options(temp_ / "no" / "such" / "report");
  auto attester = ConfigfsTsmAttester::Open(options);
  ASSERT_FALSE(attester.ok());
  EXPECT_EQ(attester.error().code(), Code::kUnavailable);
  EXPECT_EQ(attester.error().reason(), "attest.configfs.unavailable");
  EXPECT_NE(attester.error().message().find(options.root.string()), std::string::npos);
}

TEST_F(ConfigfsTsmTest, RootRemovedAfterOpenIsUnavailable) {
  std::unique_ptr<ConfigfsTsmAttester> attester;
  {
    FakeTsmProvider fake(root_, TdxFake());
    auto opened = ConfigfsTsmAttester::Open(Options(root_));
    ASSERT_TRUE(opened.ok()) << opened.error();
    attester = std::move(*opened);
  }
  fs::remove(root_);
  auto evidence = attester->Attest(ReportData(1));
  ASSERT_FALSE(evidence.ok());
  EXPECT_EQ(evidence.error().reason(), "attest.configfs.unavailable");
}

TEST_F(ConfigfsTsmTest, PlainDirectoryIsNotATsmTreeAndIsLeftEmpty) {
  ConfigfsTsmOptions options = Options(root_);
  options.attribute_wait = std::chrono::milliseconds(20);
  auto attester = ConfigfsTsmAttester::Open(options);
  ASSERT_FALSE(attester.ok());
  EXPECT_EQ(attester.error().code(), Code::kUnavailable);
  EXPECT_EQ(attester.error().reason(), "attest.configfs.not_tsm_entry");
  EXPECT_TRUE(Empty(root_));
}

TEST_F(ConfigfsTsmTest, UnknownProviderIsUnsupported) {
  FakeTsmOptions fake_options = TdxFake();
  fake_options.provider = "arm_cca_guest";
  FakeTsmProvider fake(root_, std::move(fake_options));
  auto attester = ConfigfsTsmAttester::Open(Options(root_));
  ASSERT_FALSE(attester.ok());
  EXPECT_EQ(attester.error().code(), Code::kUnsupported);
  EXPECT_EQ(attester.error().reason(), "attest.configfs.unknown_provider");
  EXPECT_NE(attester.error().message().find("arm_cca_guest"), std::string::npos);
  EXPECT_TRUE(Empty(root_));
}

TEST_F(ConfigfsTsmTest, OutblobOverTheBoundIsRefusedAndTheEntryRemoved) {
  FakeTsmOptions fake_options = TdxFake();
  fake_options.outblob_size = 64 * 1024 + 1;
  FakeTsmProvider fake(root_, std::move(fake_options));
  auto attester = ConfigfsTsmAttester::Open(Options(root_));
  ASSERT_TRUE(attester.ok()) << attester.error();
  auto evidence = (*attester)->Attest(ReportData(1));
  ASSERT_FALSE(evidence.ok());
  EXPECT_EQ(evidence.error().code(), Code::kResourceExhausted);
  EXPECT_EQ(evidence.error().reason(), "attest.configfs.outblob_too_large");
  EXPECT_NE(evidence.error().message().find("outblob"), std::string::npos);
  EXPECT_TRUE(Empty(root_));
}

TEST_F(ConfigfsTsmTest, OutblobExactlyAtTheBoundIsAccepted) {
  FakeTsmOptions fake_options = TdxFake();
  fake_options.outblob_size = 64 * 1024;  // the quote, then zero padding
  FakeTsmProvider fake(root_, std::move(fake_options));
  auto attester = ConfigfsTsmAttester::Open(Options(root_));
  ASSERT_TRUE(attester.ok()) << attester.error();
  auto evidence = (*attester)->Attest(ReportData(1));
  ASSERT_TRUE(evidence.ok()) << evidence.error();
  EXPECT_EQ(evidence->quote.size(), 64u * 1024);
}

TEST_F(ConfigfsTsmTest, AuxblobOverTheBoundIsRefused) {
  FakeTsmOptions fake_options = SnpFake();
  fake_options.auxblob = Bytes(101, 0xAB);
  FakeTsmProvider fake(root_, std::move(fake_options));
  ConfigfsTsmOptions options = Options(root_);
  options.max_auxblob = 100;
  auto attester = ConfigfsTsmAttester::Open(options);
  ASSERT_TRUE(attester.ok()) << attester.error();
  auto evidence = (*attester)->Attest(ReportData(1));
  ASSERT_FALSE(evidence.ok());
  EXPECT_EQ(evidence.error().reason(), "attest.configfs.auxblob_too_large");
  EXPECT_TRUE(Empty(root_));
}

TEST_F(ConfigfsTsmTest, EmptyOutblobIsUnavailable) {
  FakeTsmOptions fake_options = TdxFake();
  fake_options.outblob_size = 0;
  FakeTsmProvider fake(root_, std::move(fake_options));
  auto attester = ConfigfsTsmAttester::Open(Options(root_));
  ASSERT_TRUE(attester.ok()) << attester.error();
  auto evidence = (*attester)->Attest(ReportData(1));
  ASSERT_FALSE(evidence.ok());
  EXPECT_EQ(evidence.error().reason(), "attest.configfs.empty_outblob");
  EXPECT_TRUE(Empty(root_));
}

TEST_F(ConfigfsTsmTest, ReportWithOtherReportDataIsRefused) {
  FakeTsmOptions fake_options = SnpFake();
  fake_options.patch_report_data = false;  // a provider answering for some other request
  FakeTsmProvider fake(root_, std::move(fake_options));
  auto attester = ConfigfsTsmAttester::Open(Options(root_));
  ASSERT_TRUE(attester.ok()) << attester.error();
  auto evidence = (*attester)->Attest(ReportData(1));
  ASSERT_FALSE(evidence.ok());
  EXPECT_EQ(evidence.error().reason(), "attest.configfs.report_data_mismatch");
  EXPECT_TRUE(Empty(root_));
}

TEST_F(ConfigfsTsmTest, OutblobThatIsNotEvidenceOfTheProvidersKindIsMalformed) {
  FakeTsmOptions fake_options = TdxFake();
  fake_options.provider = "sev_guest";  // a TDX quote where an SNP report belongs
  FakeTsmProvider fake(root_, std::move(fake_options));
  auto attester = ConfigfsTsmAttester::Open(Options(root_));
  ASSERT_TRUE(attester.ok()) << attester.error();
  auto evidence = (*attester)->Attest(ReportData(1));
  ASSERT_FALSE(evidence.ok());
  EXPECT_NE(evidence.error().code(), Code::kOk);
  EXPECT_EQ(evidence.error().reason().rfind("snp.", 0), 0u) << evidence.error();
  EXPECT_NE(evidence.error().message().find("configfs-tsm outblob"), std::string::npos);
  EXPECT_TRUE(Empty(root_));
}

TEST_F(ConfigfsTsmTest, ExtendRtmrIsUnsupported) {
  FakeTsmProvider fake(root_, TdxFake());
  auto attester = ConfigfsTsmAttester::Open(Options(root_));
  ASSERT_TRUE(attester.ok()) << attester.error();
  Bytes digest(48, 1);
  Status status = (*attester)->ExtendRtmr(3, digest, AsBytes("event"));
  EXPECT_EQ(status.code(), Code::kUnsupported);
  EXPECT_EQ(status.reason(), "attest.rtmr.unsupported");
}

TEST(TeeForProviderTest, MapsTheKernelsProviderNames) {
  EXPECT_EQ(TeeForProvider("tdx_guest").value(), TeeType::kTdx);
  EXPECT_EQ(TeeForProvider("sev_guest").value(), TeeType::kSnp);
  for (std::string_view other : {"", "tdx", "sev-guest", "tdx_guest\n", "arm-cca-guest"}) {
    auto tee = TeeForProvider(other);
    ASSERT_FALSE(tee.ok()) << other;
    EXPECT_EQ(tee.error().reason(), "attest.configfs.unknown_provider");
  }
}

}  // namespace
}  // namespace lunal::attest
