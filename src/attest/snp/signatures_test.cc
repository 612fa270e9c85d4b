// The embedded AMD roots against the pins, VCEK/VLEK extensions of real certificates, and the
// certificate-vs-report checks on edited reports (no signature involved).
#include "lunal/attest/snp/signatures.h"

#include <gtest/gtest.h>

#include "lunal/attest/snp/report_layout.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/testing/testing.h"
#include "test_reports.h"

namespace lunal::attest::snp {
namespace {

using testing::ReadEvidence;
const std::string kSnp = "lunal-attestation-rs/crates/attestation/test_data/snp/";

TEST(SignaturesTest, EmbeddedRootsMatchThePinsOfTheEvidenceFolder) {
  Json pins = ParseJson(lunal::testing::ReadFileText(lunal::testing::SharedDir() /
                                                     "evidence/anchors/fingerprints.json"))
                  .value();
  for (auto [product, key] : {std::pair{Product::kMilan, "milan"},
                              {Product::kGenoa, "genoa"},
                              {Product::kTurin, "turin"}}) {
    SCOPED_TRACE(key);
    auto amd = AmdCertificatesFor(product);
    ASSERT_TRUE(amd.ok()) << amd.error();
    const std::string prefix = std::string("amd_") + key;
    EXPECT_EQ(HexEncode(ArkSha256(product)), pins[prefix + "_ark"][0].get<std::string>());
    EXPECT_EQ(HexEncode(amd->ark.Sha256OfDer()), pins[prefix + "_ark"][0].get<std::string>());
    EXPECT_EQ(HexEncode(amd->ask.Sha256OfDer()), pins[prefix + "_ask"][0].get<std::string>());
    EXPECT_EQ(HexEncode(amd->asvk.Sha256OfDer()), pins[prefix + "_asvk"][0].get<std::string>());
    EXPECT_TRUE(amd->ask.VerifySignedBy(amd->ark).ok());
    EXPECT_TRUE(amd->asvk.VerifySignedBy(amd->ark).ok());
    EXPECT_EQ(ProductFromName(amd->ask.SubjectCommonName()), product);
  }
}

TEST(SignaturesTest, ExtensionsOfRealCertificates) {
  auto vcek = crypto::Certificate::FromDer(ReadEvidence(kSnp + "live-vcek-genoa.der"));
  ASSERT_TRUE(vcek.ok());
  auto ext = ParseVcekExtensions(*vcek);
  ASSERT_TRUE(ext.ok()) << ext.error();
  EXPECT_EQ(ext->product_name, "Genoa");
  // live-report-v5-genoa.bin's REPORTED_TCB: boot loader 10, TEE 0, SNP 27, microcode 27.
  EXPECT_EQ(ext->bl_spl, 10);
  EXPECT_EQ(ext->tee_spl, 0);
  EXPECT_EQ(ext->snp_spl, 27);
  EXPECT_EQ(ext->ucode_spl, 27);
  ASSERT_TRUE(ext->hw_id.has_value());
  EXPECT_EQ(ext->hw_id->size(), 64u);

  auto vlek = crypto::Certificate::FromDer(ReadEvidence(kSnp + "test-vlek.der"));
  ASSERT_TRUE(vlek.ok());
  auto vlek_ext = ParseVcekExtensions(*vlek);
  ASSERT_TRUE(vlek_ext.ok()) << vlek_ext.error();
  EXPECT_FALSE(vlek_ext->hw_id.has_value());
}

class MatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = ReadEvidence(testing::kReportV5);
    auto cert = crypto::Certificate::FromDer(ReadEvidence(kSnp + "live-vcek-genoa.der"));
    ASSERT_TRUE(cert.ok());
    ext_ = ParseVcekExtensions(*cert).value();
  }
  Status Check(Product product = Product::kGenoa) {
    auto report = ParseReport(bytes_);
    if (!report.ok()) return report.error();
    return CheckCertificateMatchesReport(ext_, *report, product);
  }
  Bytes bytes_;
  VcekExtensions ext_;
};

TEST_F(MatchTest, RealPairMatches) { EXPECT_TRUE(Check().ok()) << Check(); }

TEST_F(MatchTest, EachSplAndTheChipId) {
  namespace L = layout;
  // Milan/Genoa byte positions of boot loader, TEE, SNP, microcode in REPORTED_TCB.
  for (std::size_t byte : {0u, 1u, 6u, 7u}) {
    SCOPED_TRACE(byte);
    SetUp();
    bytes_.at(L::kReportedTcb.offset + byte) ^= 0x01;
    Status s = Check();
    EXPECT_EQ(s.reason(), "snp.vcek.tcb_mismatch") << s;
  }
  SetUp();
  bytes_.at(L::kChipId.offset + 63) ^= 0x01;
  EXPECT_EQ(Check().reason(), "snp.vcek.chip_id_mismatch");
  // MASK_CHIP_KEY: the chip id is not compared.
  bytes_.at(L::kFlags.offset) |= 0x02;
  EXPECT_TRUE(Check().ok()) << Check();
}

TEST_F(MatchTest, TurinLayoutIsNotGenoas) {
  // Read with Turin's positions the same bytes give other SPLs, and Turin needs fmcSPL.
  EXPECT_FALSE(Check(Product::kTurin).ok());
}

}  // namespace
}  // namespace lunal::attest::snp
