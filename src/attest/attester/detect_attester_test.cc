#include "lunal/attest/detect_attester.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "fake_tsm_provider.h"
#include "lunal/testing/testing.h"

namespace lunal::attest {
namespace {

namespace fs = std::filesystem;

DetectOptions Paths(const lunal::testing::TempDir& dir) {
  DetectOptions options;
  options.configfs.root = dir / "tsm" / "report";
  options.configfs.ccel_path.clear();
  options.configfs.attribute_wait = std::chrono::milliseconds(5000);
  options.tdx_guest_device = dir / "tdx_guest";
  options.sev_guest.device = dir / "sev-guest";
  return options;
}

TEST(DetectAttesterTest, NothingPresentListsEverythingTried) {
  lunal::testing::TempDir dir;
  DetectOptions options = Paths(dir);
  auto attester = DetectAttester(options);
  ASSERT_FALSE(attester.ok());
  EXPECT_EQ(attester.error().code(), Code::kUnavailable);
  EXPECT_EQ(attester.error().reason(), "attest.detect.none");
  for (const fs::path& path :
       {options.configfs.root, options.tdx_guest_device, options.sev_guest.device}) {
    EXPECT_NE(attester.error().message().find(path.string()), std::string::npos) << path;
  }
}

TEST(DetectAttesterTest, ConfigfsTsmComesFirst) {
  lunal::testing::TempDir dir;
  DetectOptions options = Paths(dir);
  fs::create_directories(options.configfs.root);
  lunal::testing::WriteFile(options.tdx_guest_device, "");
  lunal::testing::WriteFile(options.sev_guest.device, "");
  testing::FakeTsmOptions fake_options;
  fake_options.provider = "sev_guest";
  testing::FakeTsmProvider fake(options.configfs.root, fake_options);
  auto attester = DetectAttester(options);
  ASSERT_TRUE(attester.ok()) << attester.error();
  EXPECT_EQ((*attester)->Name(), "configfs-tsm");
  EXPECT_EQ((*attester)->Tee(), TeeType::kSnp);
}

TEST(DetectAttesterTest, BrokenConfigfsIsReportedNotSkipped) {
  lunal::testing::TempDir dir;
  DetectOptions options = Paths(dir);
  options.configfs.attribute_wait = std::chrono::milliseconds(20);
  fs::create_directories(options.configfs.root);  // exists, but nothing serves it
  lunal::testing::WriteFile(options.tdx_guest_device, "");
  auto attester = DetectAttester(options);
  ASSERT_FALSE(attester.ok());
  EXPECT_EQ(attester.error().reason(), "attest.configfs.not_tsm_entry");
}

// Regular files stand in for the devices: detection picks them, and the ioctls then fail
// (ENOTTY) with the device named.
TEST(DetectAttesterTest, TdxGuestDeviceIsTheFirstFallback) {
  lunal::testing::TempDir dir;
  DetectOptions options = Paths(dir);
  lunal::testing::WriteFile(options.tdx_guest_device, "");
  lunal::testing::WriteFile(options.sev_guest.device, "");
  auto attester = DetectAttester(options);
  ASSERT_TRUE(attester.ok()) << attester.error();
  EXPECT_EQ((*attester)->Name(), "tdx-guest");
  EXPECT_EQ((*attester)->Tee(), TeeType::kTdx);
  std::array<std::uint8_t, kReportDataSize> report_data{};
  auto evidence = (*attester)->Attest(report_data);
  ASSERT_FALSE(evidence.ok());
  EXPECT_EQ(evidence.error().code(), Code::kUnsupported);
  EXPECT_EQ(evidence.error().reason(), "attest.tdx_guest.no_quote");
  auto* tdx = dynamic_cast<TdxGuestDeviceAttester*>(attester->get());
  ASSERT_NE(tdx, nullptr);
  auto report = tdx->GetTdReport(report_data);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().reason(), "attest.tdx_guest.io");
  EXPECT_NE(report.error().message().find(options.tdx_guest_device.string()), std::string::npos);
  EXPECT_EQ((*attester)->ExtendRtmr(3, Bytes(48, 0), {}).reason(), "attest.rtmr.unsupported");
}

TEST(DetectAttesterTest, SevGuestDeviceIsTheSecondFallback) {
  lunal::testing::TempDir dir;
  DetectOptions options = Paths(dir);
  lunal::testing::WriteFile(options.sev_guest.device, "");
  auto attester = DetectAttester(options);
  ASSERT_TRUE(attester.ok()) << attester.error();
  EXPECT_EQ((*attester)->Name(), "sev-guest");
  EXPECT_EQ((*attester)->Tee(), TeeType::kSnp);
  std::array<std::uint8_t, kReportDataSize> report_data{};
  auto evidence = (*attester)->Attest(report_data);
  ASSERT_FALSE(evidence.ok());
  EXPECT_EQ(evidence.error().reason(), "attest.sev_guest.io");
  EXPECT_NE(evidence.error().message().find("SNP_GET_EXT_REPORT"), std::string::npos);
  EXPECT_EQ((*attester)->ExtendRtmr(0, Bytes(48, 0), {}).reason(), "attest.rtmr.unsupported");
}

TEST(DeviceAttesterTest, MissingDevicesAreUnavailable) {
  lunal::testing::TempDir dir;
  std::array<std::uint8_t, kReportDataSize> report_data{};
  TdxGuestDeviceAttester tdx(dir / "tdx_guest");
  EXPECT_EQ(tdx.GetTdReport(report_data).error().reason(), "attest.tdx_guest.unavailable");
  SevGuestDeviceAttester sev({.device = dir / "sev-guest", .vmpl = 0, .extended = true});
  EXPECT_EQ(sev.Attest(report_data).error().reason(), "attest.sev_guest.unavailable");
}

}  // namespace
}  // namespace lunal::attest
