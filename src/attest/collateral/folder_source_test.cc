// FolderSource over the shared Intel collateral and a folder of KDS-named AMD files; TdxNeedOf.
#include "lunal/attest/collateral/folder_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lunal/attest/snp/report.h"
#include "lunal/attest/tdx/verify.h"
#include "lunal/common/encoding.h"
#include "lunal/testing/testing.h"
#include "test_rows.h"

namespace lunal::attest::collateral {
namespace {

namespace fs = std::filesystem;
using testing::AcceptedTdxRows;
using testing::AsOf;
using testing::EvidenceDir;
using ::testing::HasSubstr;
using testing::IntelCollateralDir;
using testing::QuoteOf;
using testing::T;

std::unique_ptr<FolderSource> OpenFolders(std::vector<fs::path> folders) {
  auto source = FolderSource::Open({.folders = std::move(folders)});
  EXPECT_TRUE(source.ok()) << source.error();
  return source.ok() ? std::move(source).value() : nullptr;
}

TEST(FolderSource, ThePoolVerifiesEveryAcceptedRowAtItsAsOf) {
  auto source = OpenFolders({IntelCollateralDir()});
  ASSERT_NE(source, nullptr);
  for (const testing::TdxRow& row : AcceptedTdxRows()) {
    SCOPED_TRACE(row.path);
    const Bytes quote = QuoteOf(row);
    auto need = TdxNeedOf(quote);
    ASSERT_TRUE(need.ok()) << need.error();
    auto pool = source->TdxPool(*need, AsOf(row));
    ASSERT_TRUE(pool.ok());
    tdx::Verifier verifier(*pool);
    auto verified = verifier.Verify(quote, {.as_of = AsOf(row)});
    ASSERT_TRUE(verified.ok()) << verified.error();
    // The hint TdxNeedOf read without verifying is what the verifier derived from the chain.
    EXPECT_EQ(verified->pck.fmspc, need->fmspc);
    EXPECT_EQ(verified->pck_ca, need->ca);
  }
}

TEST(FolderSource, DescribeListsEveryFileWithItsValidity) {
  auto source = OpenFolders({IntelCollateralDir()});
  ASSERT_NE(source, nullptr);
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(IntelCollateralDir())) {
    if (entry.is_regular_file()) ++files;
  }
  const Timestamp as_of = T("2026-03-31T22:25:04Z");
  const std::vector<DocumentInfo> infos = source->Describe(as_of);
  EXPECT_EQ(infos.size(), files);

  auto find = [&](std::string_view name_part) -> const DocumentInfo* {
    for (const DocumentInfo& info : infos) {
      if (info.source.find(name_part) != std::string::npos) return &info;
    }
    return nullptr;
  };
  const DocumentInfo* lunal_tcb = find("collateral__tcb_info_50806f000000.json");
  ASSERT_NE(lunal_tcb, nullptr);
  EXPECT_EQ(lunal_tcb->kind, "tdx_tcb_info");
  EXPECT_EQ(lunal_tcb->key, "fmspc=50806f000000");
  EXPECT_EQ(lunal_tcb->issued, T("2026-03-16T22:21:30Z"));
  EXPECT_EQ(lunal_tcb->next_update, T("2026-04-15T22:21:30Z"));
  EXPECT_TRUE(lunal_tcb->valid);
  EXPECT_THAT(lunal_tcb->source, ::testing::StartsWith("folder:/"));
  EXPECT_FALSE(
      source
          ->Describe(T("2026-04-15T22:21:30Z"))[static_cast<std::size_t>(lunal_tcb - infos.data())]
          .valid);

  const DocumentInfo* root_crl = find("collateral__root_ca_crl.der");
  ASSERT_NE(root_crl, nullptr);
  EXPECT_EQ(root_crl->kind, "root_ca_crl");
  EXPECT_EQ(root_crl->key, "root_ca");
  EXPECT_EQ(root_crl->next_update, T("2027-02-26T13:04:00Z"));
  const DocumentInfo* pck_crl = find("collateral__pck_crl_platform.der");
  ASSERT_NE(pck_crl, nullptr);
  EXPECT_EQ(pck_crl->kind, "pck_crl");
  EXPECT_EQ(pck_crl->key, "ca=platform");

  // Intel's test PKI: parsed, dated, never valid (the teekit sample QE identity is valid
  // 2021-2041, signed under a test root).
  const DocumentInfo* test_pki =
      find("qe_identity__teekit__packages__qvl__test__sampleQuotes__tdx__qeIdentity.json");
  ASSERT_NE(test_pki, nullptr);
  EXPECT_EQ(test_pki->kind, "tdx_qe_identity");
  EXPECT_EQ(test_pki->next_update, T("2041-08-06T13:55:15Z"));
  EXPECT_FALSE(test_pki->valid);
  EXPECT_THAT(test_pki->detail, HasSubstr("tdx.collateral.untrusted_signature"));
  // A document the parser refuses: listed with the reason.
  const DocumentInfo* malformed = find("intel-qvl__Src__AttestationApp__sampleData__tdx__tcbInfo");
  ASSERT_NE(malformed, nullptr);
  EXPECT_FALSE(malformed->valid);
  EXPECT_THAT(malformed->detail, HasSubstr("not used: malformed"));
  const DocumentInfo* chain = find("chain__go-tdx-qpl__blobs__tcbSigningChain.pem");
  ASSERT_NE(chain, nullptr);
  EXPECT_EQ(chain->kind, "certificates");
  EXPECT_FALSE(chain->valid);
}

// A folder as snpguest leaves it: vcek.der, ark.pem, ask.pem, and more.
class SnpFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path rs = EvidenceDir() / "lunal-attestation-rs/crates/attestation/test_data/snp";
    fs::copy_file(rs / "test-vcek.der", tmp_ / "VCEK.der");
    fs::copy_file(EvidenceDir() / "anchors/amd_milan_ark.pem", tmp_ / "ark.pem");
    fs::copy_file(EvidenceDir() / "anchors/amd_milan_ask.pem", tmp_ / "ask.pem");
    lunal::testing::WriteFile(tmp_ / "crl.der", "not a CRL");
    lunal::testing::WriteFile(tmp_ / "notes.txt", "hello");
    auto report = snp::ParseReport(report_);
    ASSERT_TRUE(report.ok());
    need_ = {.product = snp::Product::kMilan,
             .chip_id = Bytes(report->chip_id.begin(), report->chip_id.end()),
             .reported_tcb = report->reported_tcb.Decode(snp::Product::kMilan),
             .vlek = false};
  }
  lunal::testing::TempDir tmp_;
  Bytes report_ = lunal::testing::ReadFileBytes(
      EvidenceDir() / "lunal-attestation-rs/crates/attestation/test_data/snp/test-report.bin");
  SnpNeed need_;
};

TEST_F(SnpFolderTest, ServesTheMatchingVcekOnly) {
  auto source = OpenFolders({tmp_.path()});
  ASSERT_NE(source, nullptr);
  const Timestamp as_of = T("2026-07-26T05:58:26Z");
  auto vcek = source->SnpVcek(need_, as_of);
  ASSERT_TRUE(vcek.ok()) << vcek.error();
  EXPECT_EQ(*vcek, lunal::testing::ReadFileBytes(tmp_ / "VCEK.der"));

  SnpNeed other = need_;
  other.reported_tcb.snp = static_cast<std::uint8_t>(other.reported_tcb.snp + 1);
  auto none = source->SnpVcek(other, as_of);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), Code::kUnavailable);
  EXPECT_EQ(none.error().reason(), "collateral.unavailable");
  other = need_;
  other.chip_id[0] ^= 1;
  EXPECT_FALSE(source->SnpVcek(other, as_of).ok());
  other = need_;
  other.product = snp::Product::kGenoa;  // not issued by SEV-Genoa
  EXPECT_FALSE(source->SnpVcek(other, as_of).ok());
  other = need_;
  other.vlek = true;
  EXPECT_FALSE(source->SnpVcek(other, as_of).ok());

  // The unparsable crl.der is never offered.
  auto crls = source->SnpCrls(snp::Product::kMilan, as_of);
  ASSERT_TRUE(crls.ok());
  EXPECT_TRUE(crls->empty());

  std::map<std::string, DocumentInfo> by_name;
  for (const DocumentInfo& info : source->Describe(as_of)) {
    by_name[fs::path(info.source.substr(7)).filename().string()] = info;
  }
  ASSERT_EQ(by_name.size(), 5u);
  EXPECT_EQ(by_name["VCEK.der"].kind, "snp_vcek");
  EXPECT_EQ(by_name["VCEK.der"].key,
            fmt::format("Milan/{}/bl{}-tee{}-snp{}-ucode{}", HexEncode(need_.chip_id),
                        need_.reported_tcb.boot_loader, need_.reported_tcb.tee,
                        need_.reported_tcb.snp, need_.reported_tcb.microcode));
  EXPECT_TRUE(by_name["VCEK.der"].valid);
  EXPECT_EQ(by_name["crl.der"].kind, "snp_crl");
  EXPECT_FALSE(by_name["crl.der"].valid);
  EXPECT_THAT(by_name["crl.der"].detail, HasSubstr("not used"));
  EXPECT_THAT(by_name["ark.pem"].detail, HasSubstr("ignored"));
  EXPECT_EQ(by_name["notes.txt"].kind, "unknown");
}

TEST(FolderSource, AMissingFolderIsAnError) {
  lunal::testing::TempDir tmp;
  auto source = FolderSource::Open({.folders = {tmp / "absent"}});
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().code(), Code::kUnavailable);
  EXPECT_EQ(source.error().reason(), "collateral.folder.unreadable");
  EXPECT_THAT(source.error().message(), HasSubstr("absent"));
}

TEST(TdxNeedOf, RefusesWhatIsNotAQuote) {
  const Bytes quote = QuoteOf(AcceptedTdxRows().front());
  auto truncated = TdxNeedOf(ByteSpan(quote).first(100));
  ASSERT_FALSE(truncated.ok());
  EXPECT_TRUE(truncated.error().reason().starts_with("tdx.")) << truncated.error();
  EXPECT_FALSE(TdxNeedOf(Bytes()).ok());
}

TEST(DocumentInfoToJson, RendersEveryMember) {
  DocumentInfo info{.kind = "tdx_tcb_info",
                    .key = "fmspc=50806f000000",
                    .source = "pcs:https://x",
                    .issued = T("2026-03-16T22:21:30Z"),
                    .next_update = std::nullopt,
                    .fetched = std::nullopt,
                    .valid = true,
                    .detail = "d"};
  const Json json = DocumentInfoToJson(info);
  EXPECT_EQ(json["kind"], "tdx_tcb_info");
  EXPECT_EQ(json["issued"], "2026-03-16T22:21:30Z");
  EXPECT_TRUE(json["next_update"].is_null());
  EXPECT_EQ(json["valid"], true);
  EXPECT_EQ(json.size(), 8u);
}

}  // namespace
}  // namespace lunal::attest::collateral
