#include "lunal/attest/tdx/collateral_pool.h"

#include <gtest/gtest.h>

#include <map>

#include "lunal/common/encoding.h"
#include "lunal/testing/testing.h"
#include "test_collateral.h"

namespace lunal::attest::tdx {
namespace {

using testing::CollateralDir;
using testing::ReadCollateral;

using Fmspc = std::array<std::uint8_t, 6>;
constexpr Fmspc k50806f = {0x50, 0x80, 0x6f, 0x00, 0x00, 0x00};
constexpr Fmspc k90c06f = {0x90, 0xc0, 0x6f, 0x00, 0x00, 0x00};
constexpr Fmspc k00806f05 = {0x00, 0x80, 0x6f, 0x05, 0x00, 0x00};
constexpr Fmspc kB0c06f = {0xb0, 0xc0, 0x6f, 0x00, 0x00, 0x00};
constexpr Fmspc k00a06d08 = {0x00, 0xa0, 0x6d, 0x08, 0x00, 0x00};

Timestamp At(std::string_view rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return *t;
}

class PoolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pool = CollateralPool::LoadDirectory(CollateralDir());
    ASSERT_TRUE(pool.ok()) << pool.error();
    pool_ = new std::shared_ptr<const CollateralPool>(*pool);
  }
  static void TearDownTestSuite() {
    delete pool_;
    pool_ = nullptr;
  }
  const CollateralPool& pool() { return **pool_; }

  static std::shared_ptr<const CollateralPool>* pool_;
};
std::shared_ptr<const CollateralPool>* PoolTest::pool_ = nullptr;

TEST_F(PoolTest, EveryFileIsClassifiedByContent) {
  std::map<std::string, int> kinds;
  std::map<std::string, int> reasons;
  for (const PoolFileReport& f : pool().files()) {
    std::string prefix = f.name.substr(0, f.name.find("__"));
    std::string kind(CollateralKindName(f.kind));
    // File names start with the kind (tcb_info, qe_identity, crl, chain); the pool never reads
    // them, so agreement here means classification by content worked.
    EXPECT_EQ(prefix == "chain" ? "certificates" : prefix, kind) << f.name;
    ++kinds[kind];
    ++reasons[f.status.ok() ? "ok" : f.status.reason()];
    if (f.status.ok()) {
      EXPECT_FALSE(f.detail.empty()) << f.name;
    }
  }
  EXPECT_EQ(kinds, (std::map<std::string, int>{
                       {"tcb_info", 15}, {"qe_identity", 9}, {"crl", 14}, {"certificates", 5}}));
  // Intel's test-PKI documents: two TCB Infos with SVNs that are not bytes, two QE identities
  // and four CRLs whose signatures do not chain to the pinned root.
  EXPECT_EQ(reasons, (std::map<std::string, int>{{"ok", 35},
                                                 {"tdx.tcb_info.out_of_range", 2},
                                                 {"tdx.collateral.untrusted_signature", 6}}));
  for (const PoolFileReport& f : pool().files()) {
    bool test_pki = f.name.find("intel-qvl") != std::string::npos ||
                    f.name.find("sampleQuotes") != std::string::npos;
    EXPECT_EQ(test_pki, !f.status.ok()) << f.name << ": " << f.status;
  }
}

// The as-of times of ../shared/evidence/README.md.
TEST_F(PoolTest, SelectsIntelCollateralAtTheReadmeTimes) {
  auto c = pool().Select(k50806f, PckCa::kPlatform, At("2026-03-31T22:25:04Z"));
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->tcb_info->tcb_evaluation_data_number, 18u);
  EXPECT_EQ(FormatRfc3339(c->tcb_info->issue_date), "2026-03-16T22:21:30Z");
  EXPECT_EQ(c->qe_identity->tcb_evaluation_data_number, 18u);
  EXPECT_EQ(FormatRfc3339(c->qe_identity->issue_date), "2026-03-16T22:16:03Z");
  EXPECT_EQ(FormatRfc3339(FromSeconds(c->root_ca_crl.ThisUpdate())), "2026-02-26T13:04:00Z");
  EXPECT_EQ(FormatRfc3339(FromSeconds(c->pck_crl.ThisUpdate())), "2026-03-16T22:34:05Z");
  EXPECT_EQ(FormatRfc3339(c->valid_until), "2026-04-15T22:16:03Z");

  auto v5 = pool().Select(k90c06f, PckCa::kPlatform, At("2026-03-31T22:20:07Z"));
  ASSERT_TRUE(v5.ok()) << v5.error();
  EXPECT_EQ(FormatRfc3339(v5->tcb_info->issue_date), "2026-03-16T22:06:09Z");

  auto azure = pool().Select(k00806f05, PckCa::kPlatform, At("2025-10-01T00:34:24Z"));
  ASSERT_TRUE(azure.ok()) << azure.error();
  EXPECT_EQ(azure->tcb_info->tcb_evaluation_data_number, 17u);
  EXPECT_EQ(FormatRfc3339(azure->tcb_info->next_update), "2025-10-29T18:04:58Z");
  EXPECT_EQ(FormatRfc3339(azure->qe_identity->next_update), "2025-10-02T07:10:03Z");
  EXPECT_EQ(FormatRfc3339(FromSeconds(azure->root_ca_crl.ThisUpdate())), "2025-03-20T11:21:57Z");
  EXPECT_EQ(FormatRfc3339(azure->valid_until), "2025-10-02T07:03:51Z");  // the PCK CRL's
}

TEST_F(PoolTest, HighestEvaluationNumberWins) {
  // 2026-03-01: FMSPC 90c06f000000 has two current documents (numbers 18, issued 2026-02-01
  // and 2026-02-18); the later issue wins the tie.
  auto info = pool().SelectTcbInfo(k90c06f, At("2026-03-01T00:00:00Z"));
  ASSERT_TRUE(info.ok()) << info.error();
  EXPECT_EQ(FormatRfc3339((*info)->issue_date), "2026-02-18T10:58:51Z");
}

TEST_F(PoolTest, AfterEverythingExpiredTheErrorSaysWhatExpiredWhen) {
  const Timestamp now = At("2026-11-21T00:00:00Z");
  auto info = pool().SelectTcbInfo(k00806f05, now);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code(), Code::kUnavailable);
  EXPECT_EQ(info.error().reason(), "tdx.collateral.expired");
  EXPECT_EQ(info.error().message(),
            "TCB Info for FMSPC 00806f050000 expired at 2025-10-29T18:04:58Z (latest "
            "tcbEvaluationDataNumber 17); as of 2026-11-21T00:00:00Z");
  auto all = pool().Select(k50806f, PckCa::kPlatform, now);
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.error().reason(), "tdx.collateral.expired");
  EXPECT_EQ(all.error().message(),
            "TCB Info for FMSPC 50806f000000 expired at 2026-04-15T22:21:30Z (latest "
            "tcbEvaluationDataNumber 18); as of 2026-11-21T00:00:00Z");
  // Intel's test-PKI QE identity is valid until 2041 and in the pool: it must not be chosen.
  auto qe = pool().SelectQeIdentity(now);
  ASSERT_FALSE(qe.ok());
  EXPECT_EQ(qe.error().reason(), "tdx.collateral.expired");
  EXPECT_EQ(qe.error().message(),
            "TD QE identity expired at 2026-04-15T22:16:03Z (latest tcbEvaluationDataNumber 18); "
            "as of 2026-11-21T00:00:00Z");
  auto pck_crl = pool().SelectPckCrl(PckCa::kPlatform, now);
  EXPECT_EQ(pck_crl.error().reason(), "tdx.collateral.expired");
  EXPECT_TRUE(pool().SelectRootCaCrl(now).ok());  // valid until 2027-02-26
}

TEST_F(PoolTest, TestPkiCollateralIsNeverChosen) {
  // 2024-06-01: no Intel TD QE identity is current; the test-PKI one (2021-2041) would be.
  auto qe = pool().SelectQeIdentity(At("2024-06-01T00:00:00Z"));
  ASSERT_FALSE(qe.ok());
  EXPECT_EQ(qe.error().reason(), "tdx.collateral.expired");
  EXPECT_NE(qe.error().message().find("2023-07-08T07:24:59Z"), std::string::npos) << qe.error();
  // The test PKI's Processor CA CRL (2021-2031) is the only Processor CA CRL in the pool.
  auto crl = pool().SelectPckCrl(PckCa::kProcessor, At("2025-01-01T00:00:00Z"));
  ASSERT_FALSE(crl.ok());
  EXPECT_EQ(crl.error().reason(), "tdx.collateral.unavailable");
  // The test PKI's TCB Info is for FMSPC ed742af8adf5.
  const Fmspc test_fmspc = {0xed, 0x74, 0x2a, 0xf8, 0xad, 0xf5};
  EXPECT_EQ(pool().SelectTcbInfo(test_fmspc, At("2025-01-01T00:00:00Z")).error().reason(),
            "tdx.collateral.unavailable");
}

TEST_F(PoolTest, UnavailableAndNotYetValid) {
  const Fmspc unknown = {1, 2, 3, 4, 5, 6};
  auto none = pool().SelectTcbInfo(unknown, At("2026-03-31T00:00:00Z"));
  EXPECT_EQ(none.error().code(), Code::kUnavailable);
  EXPECT_EQ(none.error().reason(), "tdx.collateral.unavailable");
  EXPECT_EQ(none.error().message(), "no TCB Info for FMSPC 010203040506 in the collateral pool");
  auto early = pool().SelectTcbInfo(k00806f05, At("2020-01-01T00:00:00Z"));
  EXPECT_EQ(early.error().reason(), "tdx.collateral.not_yet_valid");
  EXPECT_EQ(early.error().message(),
            "TCB Info for FMSPC 00806f050000 is not valid before 2023-02-17T10:24:44Z "
            "(tcbEvaluationDataNumber 14); as of 2020-01-01T00:00:00Z");
  // In a gap between two documents: expired, and when the next one starts.
  auto gap = pool().SelectTcbInfo(k00806f05, At("2024-01-01T00:00:00Z"));
  EXPECT_EQ(gap.error().reason(), "tdx.collateral.expired");
  EXPECT_NE(gap.error().message().find("the next one is valid from 2025-09-29T18:04:58Z"),
            std::string::npos)
      << gap.error();
  // Validity is issueDate <= t < nextUpdate.
  EXPECT_TRUE(pool().SelectTcbInfo(k00806f05, At("2025-09-29T18:04:58Z")).ok());
  EXPECT_FALSE(pool().SelectTcbInfo(k00806f05, At("2025-10-29T18:04:58Z")).ok());
}

// ../shared/evidence/README.md: tdx_quote_live.dat and tdx_quote_6.dat have no usable collateral
// at any time after their PCK certificates were issued.
TEST_F(PoolTest, NoCollateralForTheLiveQuotes) {
  struct Row {
    Fmspc fmspc;
    const char* from;
  };
  for (const Row& row :
       {Row{kB0c06f, "2026-03-30T19:08:31Z"}, Row{k00a06d08, "2025-04-08T09:58:52Z"}}) {
    for (Timestamp t = At(row.from); t < At("2027-06-01T00:00:00Z"); t += std::chrono::hours(24)) {
      auto c = pool().Select(row.fmspc, PckCa::kPlatform, t);
      ASSERT_FALSE(c.ok()) << FormatRfc3339(t);
      ASSERT_EQ(c.error().code(), Code::kUnavailable) << c.error();
    }
  }
  // tdx_quote_6.dat's TCB Info and QE identity are current in November 2025; its PCK CRL is not.
  auto c = pool().Select(k00a06d08, PckCa::kPlatform, At("2025-11-01T00:00:00Z"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().reason(), "tdx.collateral.expired");
  EXPECT_TRUE(c.error().message().starts_with("Intel SGX PCK Platform CA CRL expired at "))
      << c.error();
  EXPECT_TRUE(pool().SelectTcbInfo(k00a06d08, At("2025-11-01T00:00:00Z")).ok());
}

// ---- Pools built from edited inputs ----

std::vector<PoolInput> PoolFiles(std::initializer_list<std::string_view> names) {
  std::vector<PoolInput> out;
  for (std::string_view name : names) {
    out.push_back({std::string(name), ToBytes(ReadCollateral(name)), Status::Ok()});
  }
  return out;
}

constexpr std::string_view kTcbChain =
    "chain__lunal-attestation-rs__crates__attestation__test_data__collateral__tcb_signing_chain."
    "pem";

TEST(PoolBuild, AlteredDocumentsAreNotTrusted) {
  std::vector<PoolInput> files = PoolFiles({kTcbChain});
  std::string altered =
      testing::ReplaceOnce(ReadCollateral(testing::kTcbInfo90c06f), R"("tcbStatus":"OutOfDate")",
                           R"("tcbStatus":"UpToDate")");
  files.push_back({"altered", ToBytes(altered), Status::Ok()});
  auto pool = CollateralPool::Build(std::move(files));
  EXPECT_TRUE(pool->files()[0].status.ok());
  EXPECT_EQ(pool->files()[1].status.reason(), "tdx.collateral.untrusted_signature");
  auto info = pool->SelectTcbInfo(k90c06f, At("2026-03-31T00:00:00Z"));
  EXPECT_EQ(info.error().reason(), "tdx.collateral.unavailable");
  EXPECT_NE(info.error().message().find("1 such document was ignored"), std::string::npos)
      << info.error();
}

TEST(PoolBuild, WithoutTheSigningChainNothingIsTrusted) {
  auto pool = CollateralPool::Build(PoolFiles({testing::kTcbInfo90c06f, testing::kQeIdentity}));
  for (const PoolFileReport& f : pool->files()) {
    EXPECT_EQ(f.status.reason(), "tdx.collateral.untrusted_signature") << f.name;
  }
  // Given the root and the signing certificate out of band, the same documents are trusted.
  PoolOptions options;
  for (std::string_view name : {"intel_sgx_root_ca.pem", "intel_sgx_tcb_signing_2025-2032.pem"}) {
    auto cert = crypto::Certificate::FromPem(
        lunal::testing::ReadFileText(lunal::testing::SharedDir() / "evidence" / "anchors" / name));
    ASSERT_TRUE(cert.ok());
    options.extra_certificates.push_back(*cert);
  }
  auto trusted =
      CollateralPool::Build(PoolFiles({testing::kTcbInfo90c06f, testing::kQeIdentity}), options);
  EXPECT_TRUE(trusted->SelectTcbInfo(k90c06f, At("2026-03-31T00:00:00Z")).ok());
  EXPECT_TRUE(trusted->SelectQeIdentity(At("2026-03-31T00:00:00Z")).ok());
}

TEST(PoolBuild, AnotherPinIsAnotherWorld) {
  PoolOptions options;
  options.anchors = {{{}, "not Intel"}};
  auto pool = CollateralPool::Build(PoolFiles({kTcbChain, testing::kTcbInfo90c06f}), options);
  EXPECT_EQ(pool->files()[1].status.reason(), "tdx.collateral.untrusted_signature");
}

TEST(PoolBuild, SigningCertificateValidityIsEnforced) {
  // go-tdx-qpl's chain holds only the 2018-2025 TCB signing certificate: documents it signed
  // are current in 2026 only with a signer valid in 2026.
  std::vector<PoolInput> files =
      PoolFiles({"chain__go-tdx-qpl__blobs__tcbSigningChain.pem", testing::kTcbInfo90c06f});
  auto pool = CollateralPool::Build(std::move(files));
  auto info = pool->SelectTcbInfo(k90c06f, At("2026-03-31T00:00:00Z"));
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code(), Code::kVerificationFailed);
  EXPECT_EQ(info.error().reason(), "tdx.collateral.signer_not_valid");
}

TEST(PoolBuild, UnknownAndOversizedFiles) {
  std::vector<PoolInput> files;
  files.push_back({"notes.txt", ToBytes("hello"), Status::Ok()});
  files.push_back({"other.json", ToBytes(R"({"pckCrl":"..."})"), Status::Ok()});
  files.push_back({"broken.json", ToBytes(R"({"tcbInfo":)"), Status::Ok()});
  files.push_back({"der.bin", Bytes{0x30, 0x03, 0x02, 0x01, 0x00}, Status::Ok()});
  files.push_back({"big", Bytes(100, ' '), Status::Ok()});
  PoolOptions options;
  options.max_file_bytes = 50;
  auto pool = CollateralPool::Build(std::move(files), options);
  std::vector<std::string> reasons;
  for (const PoolFileReport& f : pool->files()) reasons.push_back(f.status.reason());
  EXPECT_EQ(reasons, (std::vector<std::string>{"tdx.pool.unknown_format", "tdx.pool.unknown_json",
                                               "tdx.raw_json.syntax", "tdx.pool.unknown_format",
                                               "tdx.pool.file_too_large"}));
}

TEST(PoolBuild, MissingDirectory) {
  auto pool = CollateralPool::LoadDirectory(CollateralDir() / "no-such-folder");
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.error().reason(), "tdx.pool.read_failed");
}

}  // namespace
}  // namespace lunal::attest::tdx
