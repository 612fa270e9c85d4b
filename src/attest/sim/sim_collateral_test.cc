// Simulated collateral: the TDX collateral pool accepts exactly these documents, under exactly
// the simulation root, for exactly their validity window; signatures cover the served bytes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "lunal/attest/sim/platform.h"
#include "lunal/attest/tdx/collateral.h"
#include "lunal/crypto/signature.h"
#include "sim_test_support.h"

namespace lunal::attest::sim {
namespace {

using ::testing::HasSubstr;
using testing::TestStart;

class SimCollateral : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SimulationRoot::Open(dir_ / "state", clock_);
    ASSERT_TRUE(opened.ok()) << opened.error();
    root_ = *opened;
    auto files = root_->Collateral(clock_.Now());
    ASSERT_TRUE(files.ok()) << files.error();
    files_ = *files;
  }

  std::string Text(std::string_view name) const {
    for (const tdx::PoolInput& f : files_) {
      if (f.name == name) return ToString(f.bytes);
    }
    ADD_FAILURE() << "no " << name;
    return "";
  }

  lunal::testing::TempDir dir_;
  FakeClock clock_{TestStart()};
  std::shared_ptr<const SimulationRoot> root_;
  std::vector<tdx::PoolInput> files_;
};

TEST_F(SimCollateral, PoolAcceptsEveryFileAndSelectsThem) {
  ASSERT_EQ(files_.size(), 6u);
  auto pool = tdx::CollateralPool::Build(files_, root_->PoolOptions());
  for (const tdx::PoolFileReport& f : pool->files()) {
    EXPECT_TRUE(f.status.ok()) << f.name << ": " << f.status << " " << f.detail;
  }
  auto selected = pool->Select(kFmspc, tdx::PckCa::kPlatform, clock_.Now());
  ASSERT_TRUE(selected.ok()) << selected.error();
  const tdx::TcbInfo& tcb = *selected->tcb_info;
  EXPECT_EQ(tcb.id, "TDX");
  EXPECT_EQ(tcb.version, 3);
  EXPECT_EQ(tcb.fmspc, kFmspc);
  EXPECT_EQ(tcb.issue_date, FromSeconds(ToSeconds(TestStart())));
  EXPECT_EQ(tcb.next_update, tcb.issue_date + kCollateralValidity);
  ASSERT_EQ(tcb.tcb_levels.size(), 1u);
  EXPECT_EQ(tcb.tcb_levels[0].status, tdx::TcbStatus::kUpToDate);
  EXPECT_EQ(tcb.tcb_levels[0].sgx_components, kSgxTcbComponents);
  EXPECT_EQ(tcb.tcb_levels[0].tdx_components, kTeeTcbSvn);
  ASSERT_NE(tcb.FindModuleIdentity(kTeeTcbSvn[1]), nullptr);
  EXPECT_EQ(tcb.FindModuleIdentity(kTeeTcbSvn[1])->id, "TDX_01");
  const tdx::QeIdentity& qe = *selected->qe_identity;
  EXPECT_EQ(qe.id, "TD_QE");
  EXPECT_EQ(qe.isv_prod_id, kQeIsvProdId);
  EXPECT_EQ(qe.tcb_levels.at(0).isv_svn, kQeIsvSvn);
  const auto mrsigner = crypto::Sha256(AsBytes(kQeMrSignerSeed));
  EXPECT_TRUE(std::equal(qe.mrsigner.begin(), qe.mrsigner.end(), mrsigner.begin()));
  EXPECT_EQ(selected->valid_until, tcb.next_update);
  EXPECT_EQ(selected->root_ca_crl.IssuerName(), root_->root_certificate().SubjectName());
  EXPECT_EQ(selected->pck_crl.IssuerName(), root_->pck_platform_ca().SubjectName());
  EXPECT_TRUE(selected->root_ca_crl.RevokedSerials().empty());
  EXPECT_TRUE(selected->pck_crl.RevokedSerials().empty());
}

TEST_F(SimCollateral, DocumentsHaveIntelsShapeAndSignTheServedBytes) {
  const std::string tcb_text = Text("sim_tcb_info.json");
  EXPECT_TRUE(tcb_text.starts_with("{\"tcbInfo\":{\"id\":\"TDX\",\"version\":3,\"issueDate\":"))
      << tcb_text;
  auto tcb = tdx::ParseTcbInfo(tcb_text);
  ASSERT_TRUE(tcb.ok()) << tcb.error();
  // The signature covers the inner object exactly as served: the text between the member name
  // and ,"signature".
  const std::size_t begin = std::string_view("{\"tcbInfo\":").size();
  const std::size_t end = tcb_text.rfind(",\"signature\":");
  EXPECT_EQ(tcb->signed_bytes, tcb_text.substr(begin, end - begin));
  auto key = root_->tcb_signing_certificate().PublicKey();
  EXPECT_TRUE(crypto::VerifyEcdsaRaw(*key, crypto::DigestAlgorithm::kSha256,
                                     AsBytes(tcb->signed_bytes), tcb->signature)
                  .ok());
  auto qe = tdx::ParseQeIdentity(Text("sim_qe_identity.json"));
  ASSERT_TRUE(qe.ok()) << qe.error();
  EXPECT_TRUE(crypto::VerifyEcdsaRaw(*key, crypto::DigestAlgorithm::kSha256,
                                     AsBytes(qe->signed_bytes), qe->signature)
                  .ok());
}

TEST_F(SimCollateral, EditedDocumentsAreRefused) {
  // One character of the signed object changed (a later nextUpdate, same length).
  for (tdx::PoolInput& f : files_) {
    if (f.name != "sim_tcb_info.json") continue;
    std::string text = ToString(f.bytes);
    const std::size_t at = text.find("\"nextUpdate\":\"2026-");
    ASSERT_NE(at, std::string::npos) << text;
    text[at + 17] = '7';  // 2026 → 2027
    f.bytes = ToBytes(text);
  }
  auto pool = tdx::CollateralPool::Build(files_, root_->PoolOptions());
  for (const tdx::PoolFileReport& f : pool->files()) {
    if (f.name == "sim_tcb_info.json") {
      EXPECT_EQ(f.status.reason(), "tdx.collateral.untrusted_signature") << f.status;
    } else {
      EXPECT_TRUE(f.status.ok()) << f.name << ": " << f.status;
    }
  }
  auto selected = pool->Select(kFmspc, tdx::PckCa::kPlatform, clock_.Now());
  ASSERT_FALSE(selected.ok());
  EXPECT_EQ(selected.error().reason(), "tdx.collateral.unavailable");
}

TEST_F(SimCollateral, OnlyUnderTheSimulationRoot) {
  // Default options trust Intel's root only: nothing simulated is usable.
  auto intel_only = tdx::CollateralPool::Build(files_);
  for (const tdx::PoolFileReport& f : intel_only->files()) {
    if (f.kind == tdx::CollateralKind::kCertificates) continue;
    EXPECT_EQ(f.status.reason(), "tdx.collateral.untrusted_signature") << f.name;
  }
  EXPECT_FALSE(intel_only->Select(kFmspc, tdx::PckCa::kPlatform, clock_.Now()).ok());

  // Another installation's root does not vouch for this one's collateral.
  FakeClock clock(TestStart());
  auto other = SimulationRoot::Open(dir_ / "other", clock);
  ASSERT_TRUE(other.ok());
  auto wrong_root = tdx::CollateralPool::Build(files_, (*other)->PoolOptions());
  auto selected = wrong_root->Select(kFmspc, tdx::PckCa::kPlatform, clock_.Now());
  ASSERT_FALSE(selected.ok());
  EXPECT_EQ(selected.error().reason(), "tdx.collateral.unavailable");
}

TEST_F(SimCollateral, ValidityWindow) {
  auto pool = tdx::CollateralPool::Build(files_, root_->PoolOptions());
  const Timestamp issued = FromSeconds(ToSeconds(clock_.Now()));
  EXPECT_TRUE(pool->Select(kFmspc, tdx::PckCa::kPlatform, issued).ok());
  EXPECT_TRUE(pool->Select(kFmspc, tdx::PckCa::kPlatform,
                           issued + kCollateralValidity - std::chrono::seconds(1))
                  .ok());
  auto expired = pool->Select(kFmspc, tdx::PckCa::kPlatform, issued + kCollateralValidity);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().reason(), "tdx.collateral.expired");
  auto early = pool->Select(kFmspc, tdx::PckCa::kPlatform, issued - std::chrono::seconds(1));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().reason(), "tdx.collateral.not_yet_valid");

  // Regenerated later: a new window; the pool picks the current document.
  auto later = root_->Collateral(issued + kCollateralValidity + std::chrono::hours(1));
  ASSERT_TRUE(later.ok());
  std::vector<tdx::PoolInput> both = files_;
  for (tdx::PoolInput& f : *later) {
    f.name = "later_" + f.name;
    both.push_back(std::move(f));
  }
  auto pool2 = tdx::CollateralPool::Build(both, root_->PoolOptions());
  EXPECT_TRUE(pool2->Select(kFmspc, tdx::PckCa::kPlatform, issued).ok());
  auto renewed = pool2->Select(kFmspc, tdx::PckCa::kPlatform,
                               issued + kCollateralValidity + kCollateralValidity / 2);
  ASSERT_TRUE(renewed.ok()) << renewed.error();
  EXPECT_GT(renewed->tcb_info->issue_date, issued);
}

TEST_F(SimCollateral, WrittenFolderLoadsTheSame) {
  const auto folder = dir_ / "collateral";
  ASSERT_TRUE(root_->WriteCollateral(folder, clock_.Now()).ok());
  auto pool = tdx::CollateralPool::LoadDirectory(folder, root_->PoolOptions());
  ASSERT_TRUE(pool.ok()) << pool.error();
  EXPECT_EQ((*pool)->files().size(), 6u);
  for (const tdx::PoolFileReport& f : (*pool)->files()) {
    EXPECT_TRUE(f.status.ok()) << f.name << ": " << f.status;
  }
  EXPECT_TRUE((*pool)->Select(kFmspc, tdx::PckCa::kPlatform, clock_.Now()).ok());
}

}  // namespace
}  // namespace lunal::attest::sim
