// Test support: a real sim-tdx deployment evidence bundle, made the way a node makes one
// (DESIGN.md "The trust chain"): a per-test Lunal Simulation Root, a SimTdxAttester whose RTMR3
// carries the lunal.build-hash event, a P-256 instance key bound in REPORT_DATA with the nonce
// and build hash (ReportDataFor), a mesh certificate in the CDS profile (src/mesh/.../profile.h)
// issued by a throwaway CA, and a developer signature made by the real `ssh-keygen -Y sign -n
// lunal`. Used by this folder's tests and by the CLI's (`lunal attestation verify --deployment`).
//
// Not thread-safe; one per test.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "lunal/attest/deployment_record.h"
#include "lunal/attest/engine/verifier.h"
#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/crypto/keys.h"

namespace lunal::attest::testing {

inline constexpr std::string_view kTestBuildHash =
    "sha256:7a9d2e4cdf81b7d240ae091df166164f6589a444c25ce98649c9452f9fcc1234";

struct TestDeploymentOptions {
  std::string tenant = "acme";
  std::string deployment = "hello";
  std::string instance = "i-0a1b2c3d";
  std::string build_hash = std::string(kTestBuildHash);
  std::string nonce = "bm9uY2Utb25l";
  std::string logged_build_hash = {};  // the RTMR3 event's hash; empty: build_hash
  bool sign = true;                    // a developer signature over build_hash (needs ssh-keygen)
  bool allowed_signers = true;         // list the signing key as "dev@example.com"
};

class TestDeployment {
 public:
  // Everything under `dir` (the simulation root in dir/sim, the SSH key in dir/ssh).
  static Result<std::unique_ptr<TestDeployment>> Create(const std::filesystem::path& dir,
                                                        const Clock& clock,
                                                        TestDeploymentOptions options = {});

  DeploymentEvidence bundle;
  std::shared_ptr<const sim::SimulationRoot> root;
  std::string ssh_key_path;         // the developer's private key (ssh-keygen format)
  std::string allowed_signer_line;  // "dev@example.com ssh-ed25519 AAAA…"
  std::string instance_key_pem;     // the instance key (PKCS#8), bound in REPORT_DATA

  // A verifier over the simulation collateral; trusting the simulation root or not.
  std::unique_ptr<engine::EvidenceVerifier> Verifier(bool trust_simulation_root) const;
  // The bundle as GET /v1/deployments/{name}/evidence serves it (docs: /tmp/api.md): ToJson plus
  // "collateral" {name: base64} and "sim_root_pem".
  Json ApiJson(Timestamp now) const;
  // Signs `message` with `key_path` (another key: a fresh one from NewSshKey) via ssh-keygen.
  Result<std::string> SshSign(const std::string& message, const std::string& key_path) const;
  // A fresh Ed25519 key in dir/ssh; returns its path (the .pub beside it).
  Result<std::string> NewSshKey(const std::string& name) const;
  // A mesh certificate (PEM) for `key` naming the given identity, issued by this test's CA.
  Result<std::string> MeshCertificate(const crypto::PrivateKey& key, const std::string& tenant,
                                      const std::string& deployment, const std::string& instance,
                                      const std::string& build_hash) const;

 private:
  TestDeployment(std::filesystem::path dir, const Clock& clock, crypto::PrivateKey ca_key)
      : dir_(std::move(dir)), clock_(clock), ca_key_(std::move(ca_key)) {}
  std::filesystem::path dir_;
  const Clock& clock_;
  crypto::PrivateKey ca_key_;
  std::string ca_pem_;
};

}  // namespace lunal::attest::testing
