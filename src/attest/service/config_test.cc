// The `attestation:` section of lunald's configuration: strict parsing with positions, and what
// BuildRuntime refuses.
#include "lunal/attest/service/config.h"

#include <gtest/gtest.h>

#include "lunal/attest/sim/simulation_root.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/testing/testing.h"

namespace lunal::attest::service {
namespace {

const std::string kHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

Result<ServiceConfig> Parse(std::string_view yaml) {
  return ParseServiceConfig(yaml, "/etc/lunal/lunald.yaml");
}

TEST(ServiceConfigTest, ReadsEveryKey) {
  auto c = Parse(R"(cds: {anything: 1}
attestation:
  listen: 0.0.0.0:8443
  threads: 3
  auth:
    token_sha256: [)" +
                 kHash + R"(]
  collateral:
    folders: [collateral, /abs/intel]
    pcs: {base_url: "http://127.0.0.1:9000", cache_dir: cache/pcs}
    kds: {base_url: "http://127.0.0.1:9001", cache_dir: /var/cache/kds}
  trust_simulation_root: sim/root-ca.pem
  attester: {type: sim-tdx, state_dir: /var/lib/lunal/sim, mr_td: )" +
                 std::string(96, 'a') + R"(}
  token: {issuer: "https://attest.example", key_dir: keys, lifetime_seconds: 60,
          max_lifetime_seconds: 3600}
  limits: {max_body_bytes: 65536, max_evidence_bytes: 32768, max_event_log_bytes: 4096,
           max_certs: 2}
  verify: {allow_request_time: true, policy: policy.yaml}
)");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->bind_address, "0.0.0.0");
  EXPECT_EQ(c->port, 8443);
  EXPECT_EQ(c->threads, 3);
  ASSERT_EQ(c->token_sha256.size(), 1u);
  EXPECT_EQ(HexEncode(c->token_sha256[0]), kHash);
  // Relative paths are taken from the file's folder.
  EXPECT_EQ(c->collateral.folders,
            (std::vector<std::filesystem::path>{"/etc/lunal/collateral", "/abs/intel"}));
  ASSERT_TRUE(c->collateral.pcs.has_value());
  EXPECT_EQ(c->collateral.pcs->base_url, "http://127.0.0.1:9000");
  EXPECT_EQ(c->collateral.pcs->cache_dir, "/etc/lunal/cache/pcs");
  ASSERT_TRUE(c->collateral.kds.has_value());
  EXPECT_EQ(c->collateral.kds->base_url, "http://127.0.0.1:9001");
  EXPECT_EQ(c->collateral.kds->cache_dir, "/var/cache/kds");
  EXPECT_EQ(c->trust_simulation_root, std::filesystem::path("/etc/lunal/sim/root-ca.pem"));
  EXPECT_EQ(c->attester.kind, AttesterKind::kSimTdx);
  EXPECT_EQ(c->attester.mr_td, Bytes(48, 0xaa));
  EXPECT_EQ(c->token.issuer, "https://attest.example");
  EXPECT_EQ(c->token.key_dir, "/etc/lunal/keys");
  EXPECT_EQ(c->token.lifetime, std::chrono::seconds(60));
  EXPECT_EQ(c->token.max_lifetime, std::chrono::seconds(3600));
  EXPECT_EQ(c->limits.max_body_bytes, 65536u);
  EXPECT_EQ(c->limits.max_evidence_bytes, 32768u);
  EXPECT_EQ(c->limits.max_event_log_bytes, 4096u);
  EXPECT_EQ(c->limits.max_certs, 2u);
  EXPECT_TRUE(c->allow_request_time);
  EXPECT_EQ(c->policy, std::filesystem::path("/etc/lunal/policy.yaml"));
}

TEST(ServiceConfigTest, DefaultsWithoutTheSection) {
  for (const char* yaml : {"", "cds: {}\n", "attestation:\n"}) {
    auto c = Parse(yaml);
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c->bind_address, "127.0.0.1");
    EXPECT_EQ(c->port, 0);
    EXPECT_FALSE(c->allow_request_time) << "a relying party must not choose the time by default";
    EXPECT_EQ(c->limits.max_body_bytes, std::size_t{1} << 20);
    EXPECT_EQ(c->attester.kind, AttesterKind::kNone);
  }
  auto v6 = Parse("attestation: {listen: \"[::1]:0\"}\n");
  ASSERT_TRUE(v6.ok()) << v6.error();
  EXPECT_EQ(v6->bind_address, "::1");
}

TEST(ServiceConfigTest, MistakesAreNamedWithFileLineAndColumn) {
  struct Case {
    std::string yaml;
    std::string reason;
    std::string message;  // a substring
  };
  const std::vector<Case> cases = {
      {"attestation:\n  listen: 127.0.0.1:0\n  tokens: []\n", "config.unknown_key",
       "/etc/lunal/lunald.yaml:3:3: attestation.tokens: unknown key \"tokens\""},
      {"attestation:\n  auth:\n    token_sha256: [abc]\n", "config.bad_value",
       "lunald.yaml:3:20: attestation.auth.token_sha256[0]: expected 32 bytes"},
      {"attestation:\n  auth: {token: secret}\n", "config.unknown_key",
       "attestation.auth.token: unknown key"},
      {"attestation:\n  threads: two\n", "config.wrong_type", "lunald.yaml:2:12"},
      {"attestation:\n  threads: 0\n", "config.bad_value", "out of range"},
      {"attestation:\n  listen: localhost\n", "config.bad_value", "attestation.listen"},
      {"attestation:\n  listen: 1.2.3.4:70000\n", "config.bad_value", "port 0-65535"},
      {"attestation:\n  verify: {allow_request_time: yes}\n", "config.wrong_type",
       "expected true or false"},
      {"attestation:\n  attester: {type: sgx}\n", "config.bad_value", "none, configfs or sim-tdx"},
      {"attestation:\n  attester: {type: sim-tdx}\n", "config.bad_value", "needs state_dir"},
      {"attestation:\n  attester: {state_dir: /x}\n", "config.bad_value", "needs type"},
      {"attestation:\n  attester: {type: none, state_dir: /x}\n", "config.bad_value",
       "for type sim-tdx"},
      {"attestation:\n  collateral: {pcs: {base_url: x}}\n", "config.bad_value", "cache_dir"},
      {"attestation:\n  limits: {max_body_bytes: 10}\n", "config.bad_value", "out of range"},
      {"attestation:\n  token: {lifetime_seconds: 100, max_lifetime_seconds: 50}\n",
       "config.bad_value", "longer than"},
      {"attestation:\n  threads: 1\n  threads: 2\n", "config.duplicate_key", "lunald.yaml:3:3"},
      {"attestation:\n  listen:\n", "config.wrong_type", "attestation.listen: no value"},
      {"attestation: [1]\n", "config.wrong_type", "expected a mapping"},
      {"attestation: {listen: [}\n", "config.yaml_syntax", "lunald.yaml:1:"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    auto parsed = Parse(c.yaml);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().reason(), c.reason) << parsed.error();
    EXPECT_NE(parsed.error().message().find(c.message), std::string::npos) << parsed.error();
  }
}

TEST(ServiceRuntimeTest, RefusesToRunWithoutAuthUnlessExplicitlyInsecure) {
  ServiceConfig config;
  auto refused = BuildRuntime(config, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason(), "attest.service.no_auth");
  auto insecure = BuildRuntime(config, {.insecure_no_auth = true});
  ASSERT_TRUE(insecure.ok()) << insecure.error();
  EXPECT_TRUE(insecure->options.auth.insecure_no_auth);
  EXPECT_EQ(insecure->options.attester, nullptr);
  EXPECT_NE(insecure->options.issuer, nullptr) << "in-memory token keys by default";
}

TEST(ServiceRuntimeTest, TheSimulationRootIsTrustedOnlyFromAnExistingRoot) {
  lunal::testing::TempDir dir;
  ServiceConfig config;
  config.token_sha256.push_back(crypto::Sha256(AsBytes("t")));
  // An empty folder is not a root: nothing is created there.
  config.trust_simulation_root = dir.path();
  auto empty = BuildRuntime(config, {});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().reason(), "attest.service.sim_root");
  EXPECT_FALSE(std::filesystem::exists(dir / "root-ca.pem"));
  // A file that is no certificate.
  lunal::testing::WriteFile(dir / "junk.pem", "not a certificate");
  config.trust_simulation_root = dir / "junk.pem";
  EXPECT_EQ(BuildRuntime(config, {}).error().reason(), "attest.service.sim_root");
  // A real root, as a folder or as its certificate: trusted, and said so.
  ASSERT_TRUE(sim::SimulationRoot::Open(dir / "sim", SystemClock::Instance()).ok());
  for (const std::filesystem::path& p : {dir / "sim", dir / "sim" / "root-ca.pem"}) {
    config.trust_simulation_root = p;
    auto rt = BuildRuntime(config, {});
    ASSERT_TRUE(rt.ok()) << rt.error();
    ASSERT_EQ(rt->options.notices.size(), 1u);
    EXPECT_NE(rt->options.notices[0].find("simulation root"), std::string::npos);
  }
}

TEST(ServiceRuntimeTest, ABadPolicyFileOrMissingCollateralFolderStopsTheStart) {
  lunal::testing::TempDir dir;
  ServiceConfig config;
  config.token_sha256.push_back(crypto::Sha256(AsBytes("t")));
  lunal::testing::WriteFile(dir / "policy.yaml", "allow_debugg: true\n");
  config.policy = dir / "policy.yaml";
  EXPECT_EQ(BuildRuntime(config, {}).error().reason(), "policy.unknown_key");
  config.policy = std::nullopt;
  config.collateral.folders = {dir / "missing"};
  EXPECT_FALSE(BuildRuntime(config, {}).ok());
}

}  // namespace
}  // namespace lunal::attest::service
