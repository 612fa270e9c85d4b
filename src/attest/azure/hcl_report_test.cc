// ParseHclReport / ParseHclTdReport / ParseRuntimeData over the real HCL reports, and a mutation
// table over them: every header field, the runtime header, the padding and truncation at every
// part.
#include "lunal/attest/azure/hcl_report.h"

#include <gtest/gtest.h>

#include <functional>

#include "lunal/common/encoding.h"
#include "test_evidence.h"

namespace lunal::attest::azure {
namespace {

using testing::ReadEvidence;

const std::string kSnpHcl = std::string(testing::kRs) + "az_snp/hcl-report.bin";
const std::string kTdxHcl = std::string(testing::kRs) + "az_tdx/hcl-report.bin";

TEST(HclReportTest, ParsesTheSnpReport) {
  const Bytes bytes = ReadEvidence(kSnpHcl);
  auto view = ParseHclReport(bytes);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->version, 1u);
  EXPECT_EQ(view->report_type, HclReportType::kSnp);
  EXPECT_EQ(view->hash_type, HclHashType::kSha256);
  EXPECT_EQ(view->report_size, 2346u);
  EXPECT_EQ(view->hw_report.size(), 1184u);
  EXPECT_EQ(view->runtime_data.size(), 1110u);
  EXPECT_EQ(view->report_size + view->padding, bytes.size());
  // The SNP report's own version field (2) opens the hardware area.
  EXPECT_EQ(view->hw_report[0], 2);
  EXPECT_EQ(AsStringView(view->runtime_data).substr(0, 9), "{\"keys\":[");
}

TEST(HclReportTest, ParsesTheTdxReportAndItsTdReport) {
  const Bytes bytes = ReadEvidence(kTdxHcl);
  auto view = ParseHclReport(bytes);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->version, 2u);
  EXPECT_EQ(view->report_type, HclReportType::kTdx);
  EXPECT_EQ(view->runtime_data.size(), 1201u);
  auto td = ParseHclTdReport(view->hw_report);
  ASSERT_TRUE(td.ok()) << td.error();
  // The MRTD column of the README row for this capture.
  EXPECT_TRUE(HexEncode(td->mr_td).starts_with("024a32b070383331"));
}

TEST(HclReportTest, RuntimeDataCarriesTheAttestationKey) {
  const Bytes bytes = ReadEvidence(kTdxHcl);
  auto view = ParseHclReport(bytes);
  ASSERT_TRUE(view.ok());
  auto runtime = ParseRuntimeData(view->runtime_data);
  ASSERT_TRUE(runtime.ok()) << runtime.error();
  EXPECT_EQ(runtime->attestation_key.kid, "HCLAkPub");
  EXPECT_EQ(runtime->attestation_key.n.size(), 256u);  // RSA-2048
  EXPECT_EQ(HexEncode(runtime->attestation_key.e), "010001");
  ASSERT_TRUE(runtime->endorsement_key.has_value());
  EXPECT_EQ(runtime->vm_configuration["secure-boot"], true);
  EXPECT_EQ(runtime->user_data.size(), 128u);
}

void PutU32(Bytes& b, std::size_t offset, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) b[offset + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

struct Mutation {
  std::string name;
  std::function<void(Bytes&)> edit;
  std::string reason;
};
void PrintTo(const Mutation& m, std::ostream* os) { *os << m.name; }

class HclMutationTest : public ::testing::TestWithParam<Mutation> {};

TEST_P(HclMutationTest, IsRefusedWithItsReason) {
  Bytes bytes = ReadEvidence(kSnpHcl);
  ASSERT_TRUE(ParseHclReport(bytes).ok());
  GetParam().edit(bytes);
  auto view = ParseHclReport(bytes);
  ASSERT_FALSE(view.ok()) << GetParam().name;
  EXPECT_EQ(view.error().reason(), GetParam().reason) << view.error();
}

constexpr std::size_t kRt = layout::kRuntimeOffset;

INSTANTIATE_TEST_SUITE_P(
    Fields, HclMutationTest,
    ::testing::Values(
        Mutation{"magic", [](Bytes& b) { b[0] = 'X'; }, "azure.hcl.magic"},
        Mutation{"report_size_plus_one", [](Bytes& b) { PutU32(b, 0x08, 2347); },
                 "azure.hcl.report_size"},
        Mutation{"report_size_minus_one", [](Bytes& b) { PutU32(b, 0x08, 2345); },
                 "azure.hcl.report_size"},
        Mutation{"status", [](Bytes& b) { PutU32(b, 0x10, 1); }, "azure.hcl.status"},
        Mutation{"reserved", [](Bytes& b) { b[0x1F] = 1; }, "azure.hcl.reserved.not_zero"},
        Mutation{"data_size", [](Bytes& b) { PutU32(b, kRt, 1131); },
                 "azure.hcl.runtime.data_size"},
        Mutation{"runtime_version", [](Bytes& b) { PutU32(b, kRt + 4, 2); },
                 "azure.hcl.runtime.version"},
        Mutation{"report_type_vbs", [](Bytes& b) { PutU32(b, kRt + 8, 1); },
                 "azure.hcl.report_type"},
        Mutation{"hash_type_zero", [](Bytes& b) { PutU32(b, kRt + 12, 0); }, "azure.hcl.hash_type"},
        Mutation{"hash_type_four", [](Bytes& b) { PutU32(b, kRt + 12, 4); }, "azure.hcl.hash_type"},
        Mutation{"variable_size_larger",
                 [](Bytes& b) {
                   PutU32(b, kRt, 1131);
                   PutU32(b, kRt + 16, 1111);
                 },
                 "azure.hcl.report_size"},
        Mutation{"variable_size_huge",
                 [](Bytes& b) {
                   PutU32(b, kRt, 0xFFFFFFFF);
                   PutU32(b, kRt + 16, 0xFFFFFFEB);
                 },
                 "azure.hcl.runtime.truncated"},
        Mutation{"padding", [](Bytes& b) { b.back() = 1; }, "azure.hcl.padding.not_zero"},
        Mutation{"truncated_header", [](Bytes& b) { b.resize(0x10); },
                 "azure.hcl.header.truncated"},
        Mutation{"truncated_hw_report", [](Bytes& b) { b.resize(0x400); },
                 "azure.hcl.hw_report.truncated"},
        Mutation{"truncated_runtime_header", [](Bytes& b) { b.resize(kRt + 10); },
                 "azure.hcl.runtime.truncated"},
        Mutation{"truncated_runtime_data", [](Bytes& b) { b.resize(kRt + 100); },
                 "azure.hcl.runtime.truncated"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(HclReportTest, EveryTruncationFailsCleanly) {
  const Bytes bytes = ReadEvidence(kSnpHcl);
  auto full = ParseHclReport(bytes);
  ASSERT_TRUE(full.ok());
  // Shorter than report_size: always an error; at or beyond it, only padding is lost.
  for (std::size_t n = 0; n < full->report_size; n += 7) {
    EXPECT_FALSE(ParseHclReport(ByteSpan(bytes).first(n)).ok()) << n;
  }
  EXPECT_TRUE(ParseHclReport(ByteSpan(bytes).first(full->report_size)).ok());
}

TEST(TdReportTest, RefusesAnotherReportTypeAndNonZeroPadding) {
  const Bytes bytes = ReadEvidence(kTdxHcl);
  auto view = ParseHclReport(bytes);
  ASSERT_TRUE(view.ok());
  Bytes hw(view->hw_report.begin(), view->hw_report.end());
  Bytes wrong_type = hw;
  wrong_type[0] = 0x00;  // an SGX REPORT, not a TDREPORT
  EXPECT_EQ(ParseHclTdReport(wrong_type).error().reason(), "tdx.tdreport.bad_type");
  Bytes padded = hw;
  padded[1100] = 1;
  EXPECT_EQ(ParseHclTdReport(padded).error().reason(), "azure.hcl.tdreport.padding.not_zero");
  EXPECT_FALSE(ParseHclTdReport(ByteSpan(hw).first(1000)).ok());
}

struct RuntimeCase {
  std::string name;
  std::string json;
  std::string reason;
};
void PrintTo(const RuntimeCase& c, std::ostream* os) { *os << c.name; }

class RuntimeDataTest : public ::testing::TestWithParam<RuntimeCase> {};

TEST_P(RuntimeDataTest, IsRefused) {
  auto parsed = ParseRuntimeData(AsBytes(GetParam().json));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().reason(), GetParam().reason) << parsed.error();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RuntimeDataTest,
    ::testing::Values(
        RuntimeCase{"not_json", "{\"keys\":", "json.syntax"},
        RuntimeCase{"array", "[]", "azure.runtime.not_object"},
        RuntimeCase{"no_keys", "{}", "azure.runtime.keys"},
        RuntimeCase{"no_ak", R"({"keys":[{"kid":"HCLEkPub","kty":"RSA","n":"AQAB","e":"AQAB"}]})",
                    "azure.runtime.missing_ak"},
        RuntimeCase{"ec_key", R"({"keys":[{"kid":"HCLAkPub","kty":"EC","n":"AQAB","e":"AQAB"}]})",
                    "azure.runtime.key"},
        RuntimeCase{"bad_n", R"({"keys":[{"kid":"HCLAkPub","kty":"RSA","n":"*","e":"AQAB"}]})",
                    "azure.runtime.key"},
        RuntimeCase{"duplicate_kid",
                    R"({"keys":[{"kid":"HCLAkPub","kty":"RSA","n":"AQAB","e":"AQAB"},)"
                    R"({"kid":"HCLAkPub","kty":"RSA","n":"AQAB","e":"AQAB"}]})",
                    "azure.runtime.duplicate_kid"},
        RuntimeCase{"duplicate_member",
                    R"({"keys":[],"keys":[{"kid":"HCLAkPub","kty":"RSA","n":"AQAB","e":"AQAB"}]})",
                    "json.duplicate_key"},
        RuntimeCase{"vm_configuration_string",
                    R"({"keys":[{"kid":"HCLAkPub","kty":"RSA","n":"AQAB","e":"AQAB"}],)"
                    R"("vm-configuration":"x"})",
                    "azure.runtime.vm_configuration"}),
    [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace lunal::attest::azure
