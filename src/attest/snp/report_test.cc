// ParseReport over every SNP report in ../shared/evidence/README.md's table: the README's values
// (version, MEASUREMENT prefix, debug, signing key) prove that the layout is read at the right
// offsets; the CPUID fields and TCB decoding are checked against facts stated elsewhere.
#include "lunal/attest/snp/report.h"

#include <gtest/gtest.h>

#include "lunal/attest/snp/evidence_input.h"
#include "lunal/attest/snp/report_layout.h"
#include "lunal/common/encoding.h"
#include "test_reports.h"

namespace lunal::attest::snp {
namespace {

using testing::EvidenceReport;
using testing::EvidenceReports;
using testing::ReadEvidence;

class EvidenceReportTest : public ::testing::TestWithParam<EvidenceReport> {};

TEST_P(EvidenceReportTest, ParsesWithTheReadmeValues) {
  const EvidenceReport& want = GetParam();
  Bytes file = ReadEvidence(want.path);
  auto decoded = DecodeReportContainer(file);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(decoded->container, want.container) << ContainerName(decoded->container);
  EXPECT_EQ(decoded->vcek.has_value(), want.carries_vcek);

  auto report = ParseReport(decoded->report);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->version, want.version);
  EXPECT_EQ(HexEncode(report->measurement).substr(0, 16), want.measurement_prefix);
  EXPECT_EQ(report->policy.debug(), want.debug);
  EXPECT_EQ(report->signing_key, want.signing_key);
  EXPECT_EQ(report->signature_algo, layout::kSignatureAlgoEcdsaP384Sha384);
  EXPECT_EQ(report->signed_region.size(), 0x2A0u);
  EXPECT_EQ(report->signed_region.data(), report->report.data());
  EXPECT_EQ(report->cpuid_fam_id.has_value(), want.version >= 3);
  EXPECT_EQ(report->launch_mit_vector.has_value(), want.version >= 5);
  EXPECT_TRUE(report->policy.Bit(17));
}

INSTANTIATE_TEST_SUITE_P(Readme, EvidenceReportTest, ::testing::ValuesIn(EvidenceReports()));

// The same bytes reach ParseReport whatever the container: Azure's HCL file and the JSON
// envelopes that carry it.
TEST(ReportTest, ContainersOfOneReportAgree) {
  auto hcl = DecodeReportContainer(
      ReadEvidence("lunal-attestation-rs/crates/attestation/test_data/az_snp/hcl-report.bin"));
  auto json = DecodeReportContainer(
      ReadEvidence("lunal-attestation-rs/crates/attestation/test_data/az_snp/evidence-v1.json"));
  auto raw = DecodeReportContainer(ReadEvidence(testing::kReportV5));
  auto rs = DecodeReportContainer(ReadEvidence(
      "lunal-attestation-rs/crates/attestation/test_data/snp/live-evidence-genoa.json"));
  ASSERT_TRUE(hcl.ok() && json.ok() && raw.ok() && rs.ok());
  EXPECT_EQ(hcl->report, json->report);
  EXPECT_TRUE(hcl->from_hcl_report);
  EXPECT_EQ(raw->report.size(), layout::kReportSize);
  EXPECT_EQ(HexEncode(ParseReport(raw->report)->measurement),
            HexEncode(ParseReport(rs->report)->measurement));
}

// Genoa v5 report (CPUID 19/A0/02): Genoa product, Milan/Genoa TCB layout. REPORTED_TCB bytes
// 0a 00 00 00 00 00 1b 1b = boot loader 10, TEE 0, SNP 27, microcode 27.
TEST(ReportTest, DecodesCpuidAndTcb) {
  Bytes file = ReadEvidence(testing::kReportV5);
  auto report = ParseReport(file);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->cpuid_fam_id, 0x19);
  EXPECT_EQ(report->cpuid_mod_id, 0xA0);
  EXPECT_EQ(report->cpuid_step, 0x02);
  ASSERT_EQ(report->product(), Product::kGenoa);
  TcbParts tcb = report->reported_tcb.Decode(Product::kGenoa);
  EXPECT_EQ(tcb, (TcbParts{.fmc = std::nullopt,
                           .boot_loader = 10,
                           .tee = 0,
                           .snp = 27,
                           .microcode = 27,
                           .reserved_zero = true}));
  // The same eight bytes read as Turin put SNP at byte 3 (zero) and report reserved bytes set.
  TcbParts turin = report->reported_tcb.Decode(Product::kTurin);
  EXPECT_EQ(turin.fmc, 10);
  EXPECT_EQ(turin.snp, 0);
  EXPECT_FALSE(turin.reserved_zero);
  EXPECT_EQ(report->launch_mit_vector, 0x0bu);
  // The VLEK report is Milan (CPUID 19/01/01).
  auto vlek = ParseReport(ReadEvidence(testing::kReportV3));
  ASSERT_TRUE(vlek.ok());
  EXPECT_EQ(vlek->product(), Product::kMilan);
  EXPECT_EQ(vlek->vmpl, 1u);
}

TEST(ReportTest, ProductFromCpuidAndName) {
  EXPECT_EQ(ProductFromCpuid(0x19, 0x01), Product::kMilan);
  EXPECT_EQ(ProductFromCpuid(0x19, 0x11), Product::kGenoa);
  EXPECT_EQ(ProductFromCpuid(0x19, 0xA0), Product::kGenoa);
  EXPECT_EQ(ProductFromCpuid(0x1A, 0x02), Product::kTurin);
  EXPECT_EQ(ProductFromCpuid(0x17, 0x31), std::nullopt);
  EXPECT_EQ(ProductFromName("SEV-Genoa"), Product::kGenoa);
  EXPECT_EQ(ProductFromName("ARK-Turin"), Product::kTurin);
  EXPECT_EQ(ProductFromName("SEV-VLEK-Milan"), Product::kMilan);
  EXPECT_EQ(ProductFromName("Intel"), std::nullopt);
}

TEST(ReportTest, PolicyFlagNames) {
  GuestPolicy policy{.bits = 0xb0000};  // go-sev-guest's attestation.bin: SMT, bit 17, DEBUG
  EXPECT_EQ(policy.FlagNames(), (std::vector<std::string>{"SMT", "DEBUG"}));
  EXPECT_TRUE(policy.debug());
  EXPECT_FALSE(policy.migrate_ma());
  GuestPolicy all{.bits = (std::uint64_t{1} << 26) - 1};
  EXPECT_TRUE(all.cxl_allow() && all.mem_aes_256_xts() && all.rapl_dis() &&
              all.ciphertext_hiding() && all.page_swap_disable() && all.single_socket());
  EXPECT_EQ(all.abi_major(), 0xff);
}

}  // namespace
}  // namespace lunal::attest::snp
