#include "lunal/attest/tdx/collateral.h"

#include <gtest/gtest.h>

#include <string>

#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "test_collateral.h"

namespace lunal::attest::tdx {
namespace {

using testing::CollateralFiles;
using testing::ReadCollateral;

struct Expected {
  std::string_view file_part;  // a unique part of the file name
  std::string_view fmspc;      // empty for QE identities
  std::uint32_t evaluation_number;
  std::size_t levels;
  std::size_t module_identities;
  std::string_view reason;  // non-empty: the parse must fail with this reason
};

// Every TCB Info and QE identity in ../shared/evidence/collateral/intel, with what it holds.
const Expected kTcbInfos[] = {
    {"dcap-qvl__sample__tdx_quote_collateral", "b0c06f000000", 17, 2, 2, ""},
    {"dcap-qvl__sample__tdx_quote_outdated", "90c06f000000", 18, 3, 2, ""},
    {"dcap-qvl__tests__near", "20a06f000000", 17, 2, 2, ""},
    {"go-tdx-guest__testing__testdata__sample_tcbInfo_response", "50806f000000", 15, 2, 0, ""},
    {"go-tdx-guest__testing__testdata__sample_tcbinfo_response_v5", "90c06f000000", 18, 3, 2, ""},
    {"go-tdx-qpl", "00806f050000", 14, 2, 0, ""},
    // Intel's test data: SVNs such as 65473, which are not bytes (and a test-PKI signature).
    {"intel-qvl", "", 0, 0, 0, "tdx.tcb_info.out_of_range"},
    {"tcb_info_50806f000000", "50806f000000", 18, 5, 2, ""},
    {"tcb_info_90c06f000000", "90c06f000000", 18, 3, 2, ""},
    {"teekit__packages__qvl__test__sampleQuotes", "", 0, 0, 0, "tdx.tcb_info.out_of_range"},
    {"tcbInfo-tdx-00806f050000", "00806f050000", 17, 4, 2, ""},
    {"tcbInfo-tdx-50806f000000", "50806f000000", 17, 4, 2, ""},
    {"tcbInfo-tdx-90c06f000000", "90c06f000000", 17, 2, 2, ""},
    {"tcbInfo-tdx-b0c06f000000", "b0c06f000000", 17, 2, 2, ""},
    {"trustee", "00a06d080000", 17, 2, 2, ""},
};

const Expected kQeIdentities[] = {
    {"dcap-qvl__sample__tdx_quote_collateral", "", 17, 1, 0, ""},
    {"dcap-qvl__sample__tdx_quote_outdated", "", 18, 1, 0, ""},
    {"dcap-qvl__tests__near", "", 17, 1, 0, ""},
    {"go-tdx-guest", "", 15, 1, 0, ""},
    {"go-tdx-qpl", "", 14, 1, 0, ""},
    {"intel-qvl", "", 0, 1, 0, ""},
    {"lunal-attestation-rs", "", 18, 1, 0, ""},
    {"teekit", "", 0, 1, 0, ""},
    {"trustee", "", 17, 1, 0, ""},
};

const Expected* Find(std::span<const Expected> table, const std::string& name) {
  const Expected* found = nullptr;
  for (const Expected& e : table) {
    if (name.find(e.file_part) != std::string::npos) {
      EXPECT_EQ(found, nullptr) << name << " matches two table rows";
      found = &e;
    }
  }
  return found;
}

TEST(Collateral, EveryTcbInfoInThePoolParsesOrIsRefusedWithAReason) {
  std::vector<std::string> names = CollateralFiles("tcb_info__");
  ASSERT_EQ(names.size(), std::size(kTcbInfos));
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const Expected* e = Find(kTcbInfos, name);
    ASSERT_NE(e, nullptr);
    auto info = ParseTcbInfo(ReadCollateral(name));
    if (!e->reason.empty()) {
      ASSERT_FALSE(info.ok());
      EXPECT_EQ(info.error().reason(), e->reason);
      continue;
    }
    ASSERT_TRUE(info.ok()) << info.error();
    EXPECT_EQ(info->id, "TDX");
    EXPECT_EQ(info->version, 3);
    EXPECT_EQ(info->FmspcHex(), e->fmspc);
    EXPECT_EQ(info->pce_id, (std::array<std::uint8_t, 2>{0, 0}));
    EXPECT_EQ(info->tcb_evaluation_data_number, e->evaluation_number);
    EXPECT_EQ(info->tcb_levels.size(), e->levels);
    EXPECT_EQ(info->tdx_module_identities.size(), e->module_identities);
    EXPECT_LT(info->issue_date, info->next_update);
  }
}

TEST(Collateral, EveryQeIdentityInThePoolParses) {
  std::vector<std::string> names = CollateralFiles("qe_identity__");
  ASSERT_EQ(names.size(), std::size(kQeIdentities));
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const Expected* e = Find(kQeIdentities, name);
    ASSERT_NE(e, nullptr);
    auto qe = ParseQeIdentity(ReadCollateral(name));
    ASSERT_TRUE(qe.ok()) << qe.error();
    EXPECT_EQ(qe->id, "TD_QE");
    EXPECT_EQ(qe->version, 2);
    EXPECT_EQ(qe->tcb_evaluation_data_number, e->evaluation_number);
    EXPECT_EQ(qe->tcb_levels.size(), e->levels);
  }
}

TEST(Collateral, TcbInfoFields) {
  std::string text = ReadCollateral(testing::kTcbInfo90c06f);
  auto info = ParseTcbInfo(text);
  ASSERT_TRUE(info.ok()) << info.error();
  EXPECT_EQ(FormatRfc3339(info->issue_date), "2026-03-16T22:06:09Z");
  EXPECT_EQ(FormatRfc3339(info->next_update), "2026-04-15T22:06:09Z");
  EXPECT_EQ(info->tcb_type, 0);
  EXPECT_EQ(info->tdx_module.mrsigner, (std::array<std::uint8_t, 48>{}));
  EXPECT_EQ(HexEncode(info->tdx_module.attributes_mask), "ffffffffffffffff");
  // Levels, highest first.
  ASSERT_EQ(info->tcb_levels.size(), 3u);
  const TdxTcbLevel& top = info->tcb_levels[0];
  EXPECT_EQ(HexEncode(top.sgx_components), "03030202040100050000000000000000");
  EXPECT_EQ(top.pce_svn, 13);
  EXPECT_EQ(HexEncode(top.tdx_components), "05000300000000000000000000000000");
  EXPECT_EQ(top.status, TcbStatus::kUpToDate);
  EXPECT_TRUE(top.advisory_ids.empty());
  EXPECT_EQ(info->tcb_levels[1].status, TcbStatus::kOutOfDate);
  EXPECT_EQ(info->tcb_levels[1].advisory_ids.size(), 5u);
  EXPECT_EQ(info->tcb_levels[2].pce_svn, 5);
  EXPECT_EQ(info->tcb_levels[2].advisory_ids.size(), 19u);
  EXPECT_EQ(FormatRfc3339(info->tcb_levels[2].tcb_date), "2018-01-04T00:00:00Z");
  // Module identities.
  const TdxModuleIdentity* m1 = info->FindModuleIdentity(1);
  ASSERT_NE(m1, nullptr);
  EXPECT_EQ(m1->id, "TDX_01");
  ASSERT_EQ(m1->tcb_levels.size(), 3u);
  EXPECT_EQ(m1->tcb_levels[0].isv_svn, 6);
  EXPECT_EQ(m1->tcb_levels[2].isv_svn, 2);
  EXPECT_EQ(m1->tcb_levels[1].advisory_ids,
            (std::vector<std::string>{"INTEL-SA-01036", "INTEL-SA-01099"}));
  ASSERT_NE(info->FindModuleIdentity(3), nullptr);
  EXPECT_EQ(info->FindModuleIdentity(2), nullptr);
  EXPECT_EQ(info->FindModuleIdentity(0), nullptr);
  // The signed bytes are the served text of the tcbInfo value, and the signature its r‖s.
  std::size_t start = text.find("{\"id\"");
  EXPECT_EQ(info->signed_bytes, text.substr(start, text.rfind(",\"signature\"") - start));
  EXPECT_EQ(HexEncode(info->signature).substr(0, 8), "bfca7771");
}

TEST(Collateral, ModuleIdentityIdsCompareCaseInsensitively) {
  std::string text = testing::ReplaceOnce(ReadCollateral(testing::kTcbInfo90c06f),
                                          R"("id":"TDX_01")", R"("id":"tdx_01")");
  auto info = ParseTcbInfo(text);
  ASSERT_TRUE(info.ok()) << info.error();
  ASSERT_NE(info->FindModuleIdentity(1), nullptr);
  EXPECT_EQ(info->FindModuleIdentity(1)->id, "tdx_01");
}

TEST(Collateral, QeIdentityFields) {
  auto qe = ParseQeIdentity(ReadCollateral(testing::kQeIdentity));
  ASSERT_TRUE(qe.ok()) << qe.error();
  EXPECT_EQ(HexEncode(qe->mrsigner),
            "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
  EXPECT_EQ(qe->isv_prod_id, 2);
  EXPECT_EQ(HexEncode(qe->miscselect), "00000000");
  EXPECT_EQ(HexEncode(qe->miscselect_mask), "ffffffff");
  EXPECT_EQ(HexEncode(qe->attributes), "11000000000000000000000000000000");
  EXPECT_EQ(HexEncode(qe->attributes_mask), "fbffffffffffffff0000000000000000");
  ASSERT_EQ(qe->tcb_levels.size(), 1u);
  EXPECT_EQ(qe->tcb_levels[0].isv_svn, 4);
  EXPECT_EQ(qe->tcb_levels[0].status, TcbStatus::kUpToDate);
  EXPECT_EQ(FormatRfc3339(qe->next_update), "2026-04-15T22:16:03Z");
  EXPECT_TRUE(qe->signed_bytes.starts_with("{\"id\":\"TD_QE\""));
  EXPECT_TRUE(qe->signed_bytes.ends_with("}]}"));
}

// Intel serves levels highest first; the parser orders them as QVL does, which must not move
// any level of a real document.
TEST(Collateral, RealDocumentsAreAlreadyInQvlOrder) {
  for (const std::string& name : CollateralFiles("tcb_info__")) {
    std::string text = ReadCollateral(name);
    auto info = ParseTcbInfo(text);
    if (!info.ok()) continue;
    auto json = ParseJson(text);
    ASSERT_TRUE(json.ok());
    const Json& levels = (*json)["tcbInfo"]["tcbLevels"];
    ASSERT_EQ(levels.size(), info->tcb_levels.size()) << name;
    for (std::size_t i = 0; i < levels.size(); ++i) {
      EXPECT_EQ(levels[i]["tcb"]["pcesvn"].get<int>(), info->tcb_levels[i].pce_svn) << name;
      EXPECT_EQ(levels[i]["tcbDate"].get<std::string>(),
                FormatRfc3339(info->tcb_levels[i].tcb_date))
          << name;
    }
  }
}

TEST(Collateral, LevelsOutOfOrderAreSortedHighestFirst) {
  // Swap the first two levels of a real document: matching must not depend on served order.
  std::string text = ReadCollateral(testing::kTcbInfo90c06f);
  constexpr std::string_view kLevelStart = R"({"tcb":{"sgxtcbcomponents")";
  std::size_t l0 = text.find(kLevelStart);
  std::size_t l1 = text.find(kLevelStart, l0 + 1);
  std::size_t l2 = text.find(kLevelStart, l1 + 1);
  ASSERT_NE(l2, std::string::npos);
  std::string level0 = text.substr(l0, l1 - 1 - l0);  // without the comma
  std::string level1 = text.substr(l1, l2 - 1 - l1);
  std::string swapped = text.substr(0, l0) + level1 + "," + level0 + text.substr(l2 - 1);
  auto info = ParseTcbInfo(swapped);
  ASSERT_TRUE(info.ok()) << info.error();
  EXPECT_EQ(info->tcb_levels[0].status, TcbStatus::kUpToDate);
  EXPECT_EQ(FormatRfc3339(info->tcb_levels[0].tcb_date), "2024-11-13T00:00:00Z");
  EXPECT_EQ(info->tcb_levels[1].status, TcbStatus::kOutOfDate);
  EXPECT_NE(info->signed_bytes, ParseTcbInfo(text)->signed_bytes);
}

TEST(TcbStatusNames, RoundTripIntelSpellings) {
  for (std::string_view name :
       {"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded",
        "OutOfDate", "OutOfDateConfigurationNeeded", "Revoked", "TDRelaunchAdvised",
        "TDRelaunchAdvisedConfigurationNeeded"}) {
    std::optional<TcbStatus> status = TcbStatusFromName(name);
    ASSERT_TRUE(status.has_value()) << name;
    EXPECT_EQ(TcbStatusName(*status), name);
  }
  for (std::string_view bad : {"", "uptodate", "NotSupported", "UpToDate "}) {
    EXPECT_FALSE(TcbStatusFromName(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace lunal::attest::tdx
