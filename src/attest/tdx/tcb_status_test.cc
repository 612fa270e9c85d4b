// The TCB status rules on a real TCB Info (FMSPC 90c06f000000: three levels and TDX module
// identities TDX_01, TDX_03) and real quotes whose TEE_TCB_SVN, TDX module fields and QE report
// are edited to reach each rule. The same rules on the unedited evidence: tcb_evidence_test.cc.
#include "lunal/attest/tdx/tcb_status.h"

#include <gtest/gtest.h>

#include "lunal/attest/tdx/collateral.h"
#include "lunal/attest/tdx/pck_extensions.h"
#include "lunal/common/encoding.h"
#include "test_collateral.h"
#include "test_quotes.h"

namespace lunal::attest::tdx {
namespace {

using testing::OffsetsOf;
using testing::ReadCollateral;

constexpr std::size_t kMrSignerSeam = 64;  // TD report body offsets [QL]
constexpr std::size_t kSeamAttributes = 112;
constexpr std::size_t kTeeTcbSvn2 = 584;   // TD1.5 only
constexpr std::size_t kQeMiscSelect = 16;  // QE report offsets [SDK]

class TcbStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto info = ParseTcbInfo(ReadCollateral(testing::kTcbInfo90c06f));
    ASSERT_TRUE(info.ok()) << info.error();
    info_ = *info;
    auto qe = ParseQeIdentity(ReadCollateral(testing::kQeIdentity));
    ASSERT_TRUE(qe.ok()) << qe.error();
    qe_identity_ = *qe;
    // The platform of go-tdx-guest's quote_v5_sample.dat: at the top level.
    pck_.fmspc = {0x90, 0xC0, 0x6F, 0x00, 0x00, 0x00};
    pck_.pce_id = {0, 0};
    pck_.sgx_tcb_components = {4, 4, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0};
    pck_.pce_svn = 13;
    UseQuote(testing::Quote4Path());
    SetTee({11, 1, 4});
  }

  void UseQuote(std::string_view path) {
    bytes_ = testing::ReadEvidence(path);
    auto view = ParseQuote(bytes_);
    ASSERT_TRUE(view.ok()) << view.error();
    body_ = OffsetsOf(*view, bytes_).body;
    qe_report_ = OffsetsOf(*view, bytes_).qe_report;
  }
  void SetTee(std::initializer_list<std::uint8_t> first, std::size_t at = 0) {
    std::size_t i = body_ + at;
    for (std::uint8_t b : first) bytes_[i++] = b;
  }
  QuoteView Quote() {
    auto view = ParseQuote(bytes_);
    EXPECT_TRUE(view.ok());
    return *view;
  }
  Result<TcbMatch> Platform() { return EvaluatePlatformTcb(info_, pck_, Quote()); }
  Result<QeMatch> Qe() { return EvaluateQeIdentity(qe_identity_, Quote().qe_report); }
  void ExpectStatus(TcbStatus want) {
    auto m = Platform();
    ASSERT_TRUE(m.ok()) << m.error();
    EXPECT_EQ(TcbStatusName(m->status), TcbStatusName(want));
  }
  void ExpectError(std::string_view reason) {
    auto m = Platform();
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code(), Code::kVerificationFailed);
    EXPECT_EQ(m.error().reason(), reason) << m.error();
  }

  TcbInfo info_;
  QeIdentity qe_identity_;
  PckExtensions pck_{};
  Bytes bytes_;
  std::size_t body_ = 0;
  std::size_t qe_report_ = 0;
};

TEST_F(TcbStatusTest, TopLevelWithModuleIdentityIsUpToDate) {
  auto m = Platform();
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->status, TcbStatus::kUpToDate);
  EXPECT_EQ(m->sgx_level_index, 0u);
  EXPECT_EQ(m->tdx_level_index, 0u);
  EXPECT_EQ(m->tdx_module_id, std::optional<std::string>("TDX_01"));
  EXPECT_EQ(m->tdx_module_status, std::optional<TcbStatus>(TcbStatus::kUpToDate));
  EXPECT_TRUE(m->advisory_ids.empty());
  EXPECT_EQ(FormatRfc3339(m->tcb_date), "2024-11-13T00:00:00Z");
  EXPECT_FALSE(m->relaunch_status.has_value());
}

TEST_F(TcbStatusTest, LowerTdxComponentFallsToALowerLevel) {
  SetTee({11, 1, 2});  // TDX late microcode 2 < 3
  auto m = Platform();
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->sgx_level_index, 0u);
  EXPECT_EQ(m->tdx_level_index, 1u);
  EXPECT_EQ(m->status, TcbStatus::kOutOfDate);
  EXPECT_EQ(m->advisory_ids.size(), 5u);
  EXPECT_EQ(m->advisory_ids.front(), "INTEL-SA-01036");
}

TEST_F(TcbStatusTest, LowerPceSvnFallsToTheLevelItMeets) {
  pck_.pce_svn = 12;
  auto m = Platform();
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->sgx_level_index, 2u);
  EXPECT_EQ(m->tdx_level_index, 2u);
  EXPECT_EQ(m->status, TcbStatus::kOutOfDate);
  EXPECT_EQ(m->advisory_ids.size(), 19u);
  EXPECT_EQ(FormatRfc3339(m->tcb_date), "2018-01-04T00:00:00Z");
}

TEST_F(TcbStatusTest, BelowEveryLevelIsNotSupported) {
  pck_.sgx_tcb_components[0] = 1;  // tdx_quote_5.dat's platform
  ExpectError("tdx.tcb.not_supported");
  SetUp();
  SetTee({11, 1, 1});  // TEE_TCB_SVN[2] below every level's
  ExpectError("tdx.tcb.not_supported");
}

// Bytes 0-1 are the module's: with TEE_TCB_SVN[1] > 0 they are not compared with the levels'
// tdxtcbcomponents (5, 0), but judged by the TDX_01 identity.
TEST_F(TcbStatusTest, ModuleVersionBytesAreJudgedByTheModuleIdentity) {
  SetTee({5, 1, 3});  // module SVN 5: TDX_01 level isvsvn 4, OutOfDate
  auto m = Platform();
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->tdx_level_index, 0u);
  EXPECT_EQ(m->tdx_level_status, TcbStatus::kUpToDate);
  EXPECT_EQ(m->tdx_module_status, std::optional<TcbStatus>(TcbStatus::kOutOfDate));
  EXPECT_EQ(m->status, TcbStatus::kOutOfDate);
  EXPECT_EQ(m->advisory_ids, (std::vector<std::string>{"INTEL-SA-01036", "INTEL-SA-01099"}));
  EXPECT_EQ(FormatRfc3339(*m->module_tcb_date), "2024-03-13T00:00:00Z");
  SetTee({1, 1, 3});  // below every TDX_01 level
  ExpectError("tdx.tdx_module.tcb_not_supported");
  SetTee({3, 3, 3});  // TDX_03 level isvsvn 3
  ExpectStatus(TcbStatus::kUpToDate);
  SetTee({9, 2, 3});  // no TDX_02 identity
  ExpectError("tdx.tdx_module.identity_not_found");
}

TEST_F(TcbStatusTest, ModuleMajorZeroComparesEveryByte) {
  SetTee({5, 0, 3});
  ExpectStatus(TcbStatus::kUpToDate);
  auto m = Platform();
  EXPECT_FALSE(m->tdx_module_status.has_value());
  SetTee({4, 0, 3});  // byte 0 below every level's 5
  ExpectError("tdx.tcb.not_supported");
}

TEST_F(TcbStatusTest, ModuleSignerAndAttributes) {
  bytes_[body_ + kMrSignerSeam + 47] = 1;
  ExpectError("tdx.tdx_module.mrsigner_mismatch");
  SetTee({5, 0, 3});  // tdxModule (not an identity) is checked the same way
  ExpectError("tdx.tdx_module.mrsigner_mismatch");
  bytes_[body_ + kMrSignerSeam + 47] = 0;
  bytes_[body_ + kSeamAttributes] = 0x80;
  ExpectError("tdx.tdx_module.attributes_mismatch");
  info_.tdx_module.attributes_mask[0] = 0x7F;  // a bit outside the mask is not compared
  ExpectStatus(TcbStatus::kUpToDate);
}

TEST_F(TcbStatusTest, TcbInfoMustMatchThePlatform) {
  pck_.fmspc[5] = 1;
  ExpectError("tdx.tcb_info.fmspc_mismatch");
  SetUp();
  pck_.pce_id[1] = 1;
  ExpectError("tdx.tcb_info.pceid_mismatch");
}

struct ModuleConvergence {
  TcbStatus level;
  TcbStatus module;
  TcbStatus want;
};

// QVL convergeTcbStatusWithTdxModuleStatus.
TEST_F(TcbStatusTest, LevelStatusConvergesWithTheModuleStatus) {
  using S = TcbStatus;
  const ModuleConvergence table[] = {
      {S::kUpToDate, S::kUpToDate, S::kUpToDate},
      {S::kSWHardeningNeeded, S::kUpToDate, S::kSWHardeningNeeded},
      {S::kUpToDate, S::kOutOfDate, S::kOutOfDate},
      {S::kSWHardeningNeeded, S::kOutOfDate, S::kOutOfDate},
      {S::kConfigurationNeeded, S::kOutOfDate, S::kOutOfDateConfigurationNeeded},
      {S::kConfigurationAndSWHardeningNeeded, S::kOutOfDate, S::kOutOfDateConfigurationNeeded},
      {S::kOutOfDateConfigurationNeeded, S::kOutOfDate, S::kOutOfDateConfigurationNeeded},
      {S::kRevoked, S::kOutOfDate, S::kRevoked},
      {S::kUpToDate, S::kRevoked, S::kRevoked},
      {S::kConfigurationNeeded, S::kRevoked, S::kRevoked},
  };
  for (const ModuleConvergence& row : table) {
    SetUp();
    info_.tcb_levels[0].status = row.level;
    info_.tdx_module_identities[1].tcb_levels[0].status = row.module;  // TDX_01, isvsvn 6
    SCOPED_TRACE(fmt::format("{} + {}", TcbStatusName(row.level), TcbStatusName(row.module)));
    ExpectStatus(row.want);
  }
}

// TD1.5: TEE_TCB_SVN decides the level; TEE_TCB_SVN_2 only says whether a relaunch would help.
TEST_F(TcbStatusTest, TdRelaunchAdviceForTd15) {
  UseQuote(testing::Quote5Path());
  SetTee({4, 1, 3});               // module SVN 4: OutOfDate
  SetTee({6, 1, 3}, kTeeTcbSvn2);  // the latest TDX_01 level (6) and microcode (3) are loaded
  auto m = Platform();
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->status, TcbStatus::kOutOfDate);
  EXPECT_EQ(m->relaunch_status, std::optional<TcbStatus>(TcbStatus::kTDRelaunchAdvised));
  auto qe = Qe();
  ASSERT_TRUE(qe.ok()) << qe.error();
  EXPECT_EQ(ConvergeTcbStatus(*m, *qe).status, TcbStatus::kTDRelaunchAdvised);
  qe->status = TcbStatus::kOutOfDate;  // no advice unless the QE is up to date
  EXPECT_EQ(ConvergeTcbStatus(*m, *qe).status, TcbStatus::kOutOfDate);

  SetTee({5, 1, 3}, kTeeTcbSvn2);  // the new module is not the latest either
  EXPECT_FALSE(Platform()->relaunch_status.has_value());
  SetTee({5, 0, 3}, kTeeTcbSvn2);  // major 0: compared with the top level's byte 0 (5)
  EXPECT_EQ(Platform()->relaunch_status, std::optional<TcbStatus>(TcbStatus::kTDRelaunchAdvised));
  SetTee({6, 2, 3}, kTeeTcbSvn2);
  ExpectError("tdx.tdx_module.identity_not_found");
  SetTee({6, 1, 3}, kTeeTcbSvn2);
  info_.tcb_levels[0].status = TcbStatus::kConfigurationNeeded;
  EXPECT_EQ(Platform()->relaunch_status,
            std::optional<TcbStatus>(TcbStatus::kTDRelaunchAdvisedConfigurationNeeded));
}

TEST_F(TcbStatusTest, NoRelaunchAdviceForTd10) {
  SetTee({4, 1, 3});
  ExpectStatus(TcbStatus::kOutOfDate);
  EXPECT_FALSE(Platform()->relaunch_status.has_value());
}

TEST_F(TcbStatusTest, QeIdentityMatches) {
  auto qe = Qe();
  ASSERT_TRUE(qe.ok()) << qe.error();
  EXPECT_EQ(qe->status, TcbStatus::kUpToDate);
  EXPECT_EQ(qe->level_isv_svn, 4);
  EXPECT_EQ(FormatRfc3339(qe->tcb_date), "2024-11-13T00:00:00Z");
}

TEST_F(TcbStatusTest, QeIdentityMismatches) {
  struct Row {
    const char* name;
    void (*edit)(QeIdentity&);
    std::string_view reason;
  };
  const Row rows[] = {
      {"miscselect", [](QeIdentity& q) { q.miscselect[3] = 1; },
       "tdx.qe_identity.miscselect_mismatch"},
      {"attributes", [](QeIdentity& q) { q.attributes[0] = 0x15; },
       "tdx.qe_identity.attributes_mismatch"},
      {"mrsigner", [](QeIdentity& q) { q.mrsigner[31] ^= 1; }, "tdx.qe_identity.mrsigner_mismatch"},
      {"isvprodid", [](QeIdentity& q) { q.isv_prod_id = 1; }, "tdx.qe_identity.isvprodid_mismatch"},
      {"isvsvn_below_every_level", [](QeIdentity& q) { q.tcb_levels[0].isv_svn = 5; },
       "tdx.qe_identity.tcb_not_supported"},
      {"not_td_qe", [](QeIdentity& q) { q.id = "QE"; }, "tdx.qe_identity.not_td_qe"},
      // QVL's order: MISCSELECT is checked first.
      {"all_at_once",
       [](QeIdentity& q) {
         q.mrsigner[0] ^= 1;
         q.isv_prod_id = 9;
         q.miscselect_mask[0] = 0;
         q.miscselect[0] = 1;
       },
       "tdx.qe_identity.miscselect_mismatch"},
  };
  for (const Row& row : rows) {
    SetUp();
    row.edit(qe_identity_);
    auto qe = Qe();
    ASSERT_FALSE(qe.ok()) << row.name;
    EXPECT_EQ(qe.error().code(), Code::kVerificationFailed) << row.name;
    EXPECT_EQ(qe.error().reason(), row.reason) << row.name << ": " << qe.error();
  }
}

TEST_F(TcbStatusTest, QeMaskedBitsAndByteOrder) {
  // Bit 2 of ATTRIBUTES byte 0 is outside Intel's mask (FB): setting it changes nothing.
  bytes_[qe_report_ + 48] |= 0x04;
  EXPECT_TRUE(Qe().ok());
  // MISCSELECT is compared in the report's byte order: value 1 is "01000000".
  bytes_[qe_report_ + kQeMiscSelect] = 0x01;
  EXPECT_EQ(Qe().error().reason(), "tdx.qe_identity.miscselect_mismatch");
  qe_identity_.miscselect = {0x01, 0, 0, 0};
  EXPECT_TRUE(Qe().ok()) << Qe().error();
}

TEST_F(TcbStatusTest, QeLevelIsTheHighestAtOrBelowItsIsvSvn) {
  IsvTcbLevel old = qe_identity_.tcb_levels[0];
  qe_identity_.tcb_levels = {old, old, old};
  qe_identity_.tcb_levels[0].isv_svn = 6;
  qe_identity_.tcb_levels[1].isv_svn = 3;
  qe_identity_.tcb_levels[1].status = TcbStatus::kOutOfDate;
  qe_identity_.tcb_levels[1].advisory_ids = {"INTEL-SA-00001"};
  qe_identity_.tcb_levels[2].isv_svn = 1;
  qe_identity_.tcb_levels[2].status = TcbStatus::kRevoked;
  auto qe = Qe();  // the QE's ISVSVN is 4
  ASSERT_TRUE(qe.ok()) << qe.error();
  EXPECT_EQ(qe->level_index, 1u);
  EXPECT_EQ(qe->status, TcbStatus::kOutOfDate);
  EXPECT_EQ(qe->advisory_ids, (std::vector<std::string>{"INTEL-SA-00001"}));
}

struct QeConvergence {
  TcbStatus platform;
  TcbStatus qe;
  TcbStatus want;
};

// QVL convergeTcbStatusWithQeTcbStatus.
TEST(ConvergeTcbStatus, Table) {
  using S = TcbStatus;
  const QeConvergence table[] = {
      {S::kUpToDate, S::kUpToDate, S::kUpToDate},
      {S::kSWHardeningNeeded, S::kUpToDate, S::kSWHardeningNeeded},
      {S::kConfigurationNeeded, S::kUpToDate, S::kConfigurationNeeded},
      {S::kConfigurationAndSWHardeningNeeded, S::kUpToDate, S::kConfigurationAndSWHardeningNeeded},
      {S::kOutOfDate, S::kUpToDate, S::kOutOfDate},
      {S::kOutOfDateConfigurationNeeded, S::kUpToDate, S::kOutOfDateConfigurationNeeded},
      {S::kRevoked, S::kUpToDate, S::kRevoked},
      {S::kUpToDate, S::kOutOfDate, S::kOutOfDate},
      {S::kSWHardeningNeeded, S::kOutOfDate, S::kOutOfDate},
      {S::kConfigurationNeeded, S::kOutOfDate, S::kOutOfDateConfigurationNeeded},
      {S::kConfigurationAndSWHardeningNeeded, S::kOutOfDate, S::kOutOfDateConfigurationNeeded},
      {S::kOutOfDate, S::kOutOfDate, S::kOutOfDate},
      {S::kRevoked, S::kOutOfDate, S::kRevoked},
      {S::kUpToDate, S::kRevoked, S::kRevoked},
      {S::kOutOfDate, S::kRevoked, S::kRevoked},
      // QE levels other than UpToDate and Revoked count as out of date (EnclaveReportVerifier).
      {S::kUpToDate, S::kConfigurationNeeded, S::kOutOfDate},
      {S::kConfigurationNeeded, S::kOutOfDateConfigurationNeeded, S::kOutOfDateConfigurationNeeded},
  };
  for (const QeConvergence& row : table) {
    TcbMatch platform{};
    platform.status = row.platform;
    platform.tcb_date = FromUnixSeconds(2000);
    QeMatch qe{};
    qe.status = row.qe;
    qe.tcb_date = FromUnixSeconds(1000);
    TcbVerdict v = ConvergeTcbStatus(platform, qe);
    EXPECT_EQ(TcbStatusName(v.status), TcbStatusName(row.want))
        << TcbStatusName(row.platform) << " + QE " << TcbStatusName(row.qe);
    EXPECT_EQ(v.platform_status, row.platform);
    EXPECT_EQ(v.qe_status, row.qe);
    EXPECT_EQ(v.tcb_date, FromUnixSeconds(1000));
  }
}

TEST(ConvergeTcbStatus, AdvisoriesAreMergedWithoutDuplicates) {
  TcbMatch platform{};
  platform.status = TcbStatus::kOutOfDate;
  platform.advisory_ids = {"INTEL-SA-1", "INTEL-SA-2"};
  platform.tcb_date = FromUnixSeconds(3000);
  platform.module_tcb_date = FromUnixSeconds(500);
  QeMatch qe{};
  qe.status = TcbStatus::kUpToDate;
  qe.advisory_ids = {"INTEL-SA-2", "INTEL-SA-3"};
  qe.tcb_date = FromUnixSeconds(1000);
  TcbVerdict v = ConvergeTcbStatus(platform, qe);
  EXPECT_EQ(v.advisory_ids, (std::vector<std::string>{"INTEL-SA-1", "INTEL-SA-2", "INTEL-SA-3"}));
  EXPECT_EQ(v.tcb_date, FromUnixSeconds(500));
}

}  // namespace
}  // namespace lunal::attest::tdx
