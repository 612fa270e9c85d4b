// SimulationRoot: first start, reload, the PKI's profile (checked with OpenSSL's own tool too),
// and every way a state directory can be damaged.
#include "lunal/attest/sim/simulation_root.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "lunal/attest/sim/platform.h"
#include "lunal/attest/tdx/pck_extensions.h"
#include "sim_test_support.h"

namespace lunal::attest::sim {
namespace {

namespace fs = std::filesystem;
using lunal::testing::ReadFileText;
using lunal::testing::TempDir;
using lunal::testing::WriteFile;
using ::testing::HasSubstr;
using testing::TestStart;

constexpr const char* kKeyFiles[] = {"root-ca.key.pem", "pck-platform-ca.key.pem", "pck.key.pem",
                                     "tcb-signing.key.pem", "attestation.key.pem"};
constexpr const char* kCertFiles[] = {"root-ca.pem", "pck-platform-ca.pem", "pck.pem",
                                      "tcb-signing.pem"};

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

Result<std::shared_ptr<const SimulationRoot>> OpenAt(const fs::path& dir, Timestamp t) {
  FakeClock clock(t);
  return SimulationRoot::Open(dir, clock);
}

TEST(SimulationRoot, FirstStartWritesStateWithPrivateKeys) {
  TempDir tmp;
  const fs::path dir = tmp / "a" / "state";
  auto root = OpenAt(dir, TestStart());
  ASSERT_TRUE(root.ok()) << root.error();
  EXPECT_EQ(ModeOf(dir), 0700u);
  for (const char* name : kKeyFiles) {
    EXPECT_EQ(ModeOf(dir / name), 0600u) << name;
    EXPECT_THAT(ReadFileText(dir / name), HasSubstr("-----BEGIN PRIVATE KEY-----")) << name;
  }
  for (const char* name : kCertFiles) EXPECT_EQ(ModeOf(dir / name), 0644u) << name;
  // Nothing but the state and the lock file: no temporary files left behind.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, std::size(kKeyFiles) + std::size(kCertFiles) + 1);
  EXPECT_EQ((*root)->root_certificate(),
            *crypto::Certificate::FromPem(ReadFileText(dir / "root-ca.pem")));
}

TEST(SimulationRoot, CertificateProfiles) {
  TempDir tmp;
  auto opened = OpenAt(tmp / "state", TestStart());
  ASSERT_TRUE(opened.ok()) << opened.error();
  const SimulationRoot& root = **opened;
  const crypto::Certificate& r = root.root_certificate();
  EXPECT_EQ(r.SubjectCommonName(), "Lunal Simulation Root CA");
  EXPECT_TRUE(r.IsSelfSigned());
  EXPECT_TRUE(r.IsCa());
  EXPECT_EQ(r.PublicKey()->Type(), crypto::KeyType::kEcP256);
  EXPECT_EQ(r.SignatureAlgorithm(), "ecdsa-with-SHA256");
  EXPECT_EQ(r.NotBefore(), ToSeconds(TestStart()) - std::chrono::hours(1));
  EXPECT_EQ(r.NotAfter() - r.NotBefore(), kCertificateValidity);
  EXPECT_GE(kCertificateValidity, std::chrono::hours(24 * 365 * 10));
  for (const crypto::Certificate* c : {&root.root_certificate(), &root.pck_platform_ca(),
                                       &root.pck_certificate(), &root.tcb_signing_certificate()}) {
    EXPECT_THAT(c->SubjectName(), HasSubstr("SIMULATION")) << c->SubjectName();
    EXPECT_THAT(c->SubjectCommonName(), HasSubstr("Lunal Simulat")) << c->SubjectName();
  }
  EXPECT_EQ(root.pck_platform_ca().SubjectCommonName(), tdx::kSimPckPlatformCaName);
  EXPECT_TRUE(root.pck_platform_ca().VerifySignedBy(r).ok());
  EXPECT_TRUE(root.pck_certificate().VerifySignedBy(root.pck_platform_ca()).ok());
  EXPECT_TRUE(root.tcb_signing_certificate().VerifySignedBy(r).ok());
  EXPECT_FALSE(root.pck_certificate().IsCa());
  EXPECT_EQ(*tdx::PckCaFromIssuerName(root.pck_certificate().IssuerName()), tdx::PckCa::kPlatform);

  // The SGX extension: non-critical, and what the TDX parser reads back is the simulated platform.
  EXPECT_EQ(root.pck_certificate().IsExtensionCritical(tdx::kSgxExtensionOid), false);
  auto ext = tdx::ParsePckExtensions(*root.pck_certificate().Extension(tdx::kSgxExtensionOid));
  ASSERT_TRUE(ext.ok()) << ext.error();
  EXPECT_EQ(ext->fmspc, kFmspc);
  EXPECT_EQ(ext->pce_id, kPceId);
  EXPECT_EQ(ext->sgx_tcb_components, kSgxTcbComponents);
  EXPECT_EQ(ext->cpu_svn, kSgxTcbComponents);
  EXPECT_EQ(ext->pce_svn, kPceSvn);
  EXPECT_EQ(ext->sgx_type, tdx::SgxType::kScalable);
  EXPECT_TRUE(ext->platform_instance_id.has_value());
  EXPECT_EQ(ext->dynamic_platform, false);
  EXPECT_EQ(ext->cached_keys, true);
  EXPECT_EQ(ext->smt_enabled, true);
  EXPECT_NE(ext->ppid, (std::array<std::uint8_t, 16>{}));
  EXPECT_EQ(root.pck_extensions().ppid, ext->ppid);

  // The quote's chain: leaf, CA, root, one trailing NUL.
  const std::string& chain = root.pck_chain_data();
  ASSERT_FALSE(chain.empty());
  EXPECT_EQ(chain.back(), '\0');
  auto certs = crypto::ParsePemChain(chain);
  ASSERT_TRUE(certs.ok()) << certs.error();
  ASSERT_EQ(certs->size(), 3u);
  EXPECT_EQ((*certs)[0], root.pck_certificate());
  EXPECT_EQ((*certs)[2], root.root_certificate());

  // The chain validates under the pinned root with lunal::crypto (strict RFC 5280) ...
  crypto::ChainOptions options{.as_of = ToSeconds(TestStart()),
                               .crl_policy = crypto::ChainOptions::CrlPolicy::kNone};
  const crypto::TrustAnchor anchors[] = {root.Anchor()};
  auto path = crypto::VerifyChain(root.pck_certificate(), *certs, anchors, options);
  ASSERT_TRUE(path.ok()) << path.error();
  EXPECT_EQ(path->Describe(),
            "Lunal Simulation Root CA (pinned) → Lunal Simulated PCK Platform CA → Lunal "
            "Simulated PCK Certificate");
}

TEST(SimulationRoot, OpensslVerifiesTheChain) {
  if (!lunal::testing::HaveProgram("openssl")) GTEST_SKIP() << "no openssl";
  TempDir tmp;
  const fs::path dir = tmp / "state";
  ASSERT_TRUE(OpenAt(dir, TestStart()).ok());
  // An independent implementation: OpenSSL's CLI, strict, at the test time plus a day.
  const std::string at = std::to_string(ToUnixSeconds(TestStart()) + 86400);
  auto run = lunal::testing::RunProcess({"openssl", "verify", "-x509_strict", "-attime", at,
                                         "-CAfile", (dir / "root-ca.pem").string(), "-untrusted",
                                         (dir / "pck-platform-ca.pem").string(),
                                         (dir / "pck.pem").string()});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  run = lunal::testing::RunProcess({"openssl", "verify", "-x509_strict", "-attime", at, "-CAfile",
                                    (dir / "root-ca.pem").string(),
                                    (dir / "tcb-signing.pem").string()});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  // And the key file is a PKCS#8 EC P-256 key to it.
  run = lunal::testing::RunProcess(
      {"openssl", "pkey", "-in", (dir / "root-ca.key.pem").string(), "-noout", "-text"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("prime256v1"));
}

TEST(SimulationRoot, ReloadKeepsTheSameRootAndPlatform) {
  TempDir tmp;
  auto first = OpenAt(tmp / "state", TestStart());
  ASSERT_TRUE(first.ok()) << first.error();
  auto second = OpenAt(tmp / "state", TestStart() + std::chrono::hours(24 * 100));
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_EQ((*first)->FingerprintHex(), (*second)->FingerprintHex());
  EXPECT_EQ((*first)->FingerprintHex().size(), 64u);
  EXPECT_EQ((*first)->pck_chain_data(), (*second)->pck_chain_data());
  EXPECT_EQ((*first)->attestation_public_key(), (*second)->attestation_public_key());
  EXPECT_EQ((*first)->tcb_signing_certificate(), (*second)->tcb_signing_certificate());
  // A second installation is another root.
  auto other = OpenAt(tmp / "other", TestStart());
  ASSERT_TRUE(other.ok()) << other.error();
  EXPECT_NE((*first)->FingerprintHex(), (*other)->FingerprintHex());
  EXPECT_NE((*first)->attestation_public_key(), (*other)->attestation_public_key());
}

TEST(SimulationRoot, ConcurrentFirstStartsAgree) {
  TempDir tmp;
  std::vector<std::string> fingerprints(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < fingerprints.size(); ++i) {
    threads.emplace_back([&, i] {
      auto root = OpenAt(tmp / "state", TestStart());
      fingerprints[i] = root.ok() ? (*root)->FingerprintHex() : root.error().ToString();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& f : fingerprints) EXPECT_EQ(f, fingerprints[0]);
  EXPECT_EQ(fingerprints[0].size(), 64u) << fingerprints[0];
}

TEST(SimulationRoot, CorruptKeyFileNamesTheFile) {
  TempDir tmp;
  ASSERT_TRUE(OpenAt(tmp / "state", TestStart()).ok());
  const fs::path key = tmp / "state" / "root-ca.key.pem";
  WriteFile(key, "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n");
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
  auto reopened = OpenAt(tmp / "state", TestStart());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code(), Code::kMalformed);
  EXPECT_EQ(reopened.error().reason(), "sim.state.bad_key");
  EXPECT_THAT(reopened.error().message(), HasSubstr(key.string()));

  // An RSA or P-384 key is not a simulation key either.
  auto p384 = crypto::PrivateKey::Generate(crypto::KeyType::kEcP384);
  WriteFile(key, *p384->ToPkcs8Pem());
  reopened = OpenAt(tmp / "state", TestStart());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().reason(), "sim.state.bad_key");
  EXPECT_THAT(reopened.error().message(), HasSubstr("P-384"));
}

TEST(SimulationRoot, KeyReadableByOthersIsRefused) {
  TempDir tmp;
  ASSERT_TRUE(OpenAt(tmp / "state", TestStart()).ok());
  const fs::path key = tmp / "state" / "attestation.key.pem";
  fs::permissions(key, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  auto reopened = OpenAt(tmp / "state", TestStart());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(reopened.error().reason(), "sim.state.key_permissions");
  EXPECT_THAT(reopened.error().message(), HasSubstr(key.string()));
}

TEST(SimulationRoot, DamagedCertificates) {
  TempDir tmp;
  const fs::path dir = tmp / "state";
  auto first = OpenAt(dir, TestStart());
  ASSERT_TRUE(first.ok());

  // A certificate that is not PEM.
  const std::string tcb_pem = ReadFileText(dir / "tcb-signing.pem");
  WriteFile(dir / "tcb-signing.pem", "garbage");
  auto r = OpenAt(dir, TestStart());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "sim.state.bad_certificate");
  EXPECT_THAT(r.error().message(), HasSubstr("tcb-signing.pem"));

  // Another key's certificate.
  WriteFile(dir / "tcb-signing.pem", ReadFileText(dir / "pck.pem"));
  r = OpenAt(dir, TestStart());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "sim.state.key_mismatch");
  EXPECT_THAT(r.error().message(), HasSubstr("tcb-signing.pem"));
  WriteFile(dir / "tcb-signing.pem", tcb_pem);

  // A certificate whose key is gone cannot be recovered.
  const std::string pck_key = ReadFileText(dir / "pck.key.pem");
  fs::remove(dir / "pck.key.pem");
  r = OpenAt(dir, TestStart());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "sim.state.missing_key");
  EXPECT_THAT(r.error().message(), HasSubstr("pck.pem"));

  // A missing certificate whose key exists is re-issued under the same key and root.
  WriteFile(dir / "pck.key.pem", pck_key);
  fs::permissions(dir / "pck.key.pem", fs::perms::owner_read | fs::perms::owner_write);
  fs::remove(dir / "pck.pem");
  auto reissued = OpenAt(dir, TestStart());
  ASSERT_TRUE(reissued.ok()) << reissued.error();
  EXPECT_EQ((*reissued)->FingerprintHex(), (*first)->FingerprintHex());
  EXPECT_NE((*reissued)->pck_certificate(), (*first)->pck_certificate());
  EXPECT_TRUE(*(*reissued)->pck_certificate().PublicKey() ==
              *(*first)->pck_certificate().PublicKey());

  // A PCK certificate from another root's CA.
  auto other = OpenAt(tmp / "other", TestStart());
  ASSERT_TRUE(other.ok());
  fs::copy_file(tmp / "other" / "pck.pem", dir / "pck.pem", fs::copy_options::overwrite_existing);
  fs::copy_file(tmp / "other" / "pck.key.pem", dir / "pck.key.pem",
                fs::copy_options::overwrite_existing);
  r = OpenAt(dir, TestStart());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "sim.state.wrong_issuer");
  EXPECT_THAT(r.error().message(), HasSubstr("pck.pem"));
}

TEST(SimulationRoot, StateDirectoryThatIsAFile) {
  TempDir tmp;
  WriteFile(tmp / "file", "x");
  auto r = OpenAt(tmp / "file", TestStart());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_EQ(r.error().reason(), "sim.state.io");
}

}  // namespace
}  // namespace lunal::attest::sim
