// A platform component's own mesh identity (docs/protocols/platform-mesh.md): the gateway's in
// lunald dev, and every role's when lunald node, gateway and control run as separate processes
// and talk over mesh mTLS. Attested with its own sim-tdx "TD" (MRTD = SHA-384 of
// "lunald <deployment> <build hash>", RTMR3 = the lunal.build-hash event), enrolled at the CDS like
// an instance (cds::Enroll), and renewed every 40 minutes (CDS certificates last an hour), retrying
// each minute on failure. Thread-safe; the credentials object is shared with the TLS contexts
// that present it.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/cds/enroll.h"
#include "lunal/common/result.h"
#include "lunal/mesh/peer.h"
#include "lunal/mesh/tls.h"
#include "lunal/net/auth.h"
#include "lunal/net/server.h"
#include "role_config.h"

namespace lunal::lunald {

struct IdentityOptions {
  std::string cds_url = {};
  std::string tenant = {};
  std::string deployment = {};
  std::string instance = {};
  std::string build_hash = {};  // "sha256:<hex>": what the allow-list must name
};

class AttestedIdentity {
 public:
  static Result<std::unique_ptr<AttestedIdentity>> Enrol(
      std::shared_ptr<const attest::sim::SimulationRoot> root, IdentityOptions options);
  ~AttestedIdentity();

  std::shared_ptr<mesh::MeshCredentials> credentials() const { return credentials_; }
  const std::string& ca_pem() const { return ca_pem_; }

 private:
  AttestedIdentity() = default;
  Result<cds::Enrolment> EnrolOnce();
  void RenewLoop();

  IdentityOptions options_;
  std::string ca_pem_;
  std::unique_ptr<attest::sim::SimTdxAttester> attester_;
  std::shared_ptr<mesh::MeshCredentials> credentials_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool last_failed_ = false;
  std::thread renewer_;
};

// "sha256:" + SHA-256 of this executable (/proc/self/exe): the build hash a platform role enrols
// with, which the operator's allow-list must name for the role's (tenant, deployment).
Result<std::string> ExecutableBuildHash();

// Enrols a platform role (`lunald <role>`) as `identity` at `cds_url` with ExecutableBuildHash,
// attesting with the sim-tdx root in `sim_root_dir`. A refusal by the allow-list
// (cds.allow_list.*) says which hash the operator must list, for whom.
Result<std::unique_ptr<AttestedIdentity>> EnrolPlatformRole(const std::string& sim_root_dir,
                                                            const std::string& cds_url,
                                                            const RoleIdentity& identity);

// What one platform role requires of another's mesh certificate: `tenant`/`deployment` (e.g.
// lunal/control), any build — the CDS issues a certificate only for a build hash the operator's
// allow-list names for that pair, and it lasts an hour — and simulated evidence allowed (the
// roles attest with sim-tdx: DEVELOPMENT ONLY).
mesh::PeerExpectation PlatformPeer(const std::string& tenant, const std::string& deployment);

// "Only the control plane may call" (the node API, the gateway's admin API): server TLS that
// admits only a mesh certificate for `tenant`/`control_deployment` in the handshake (refusals
// logged as `refused_event` with the remote address and the reason), and the Authorizer the
// handlers run as a second check (refusals: Unauthenticated `unauthenticated_reason`).
struct ControlOnly {
  net::TlsServerOptions tls;
  net::Authorizer authorize;
};
Result<ControlOnly> ControlPlaneOnly(const AttestedIdentity& self, const mesh::MeshTrust& trust,
                                     const std::string& tenant,
                                     const std::string& control_deployment,
                                     std::string unauthenticated_reason, std::string refused_event);

}  // namespace lunal::lunald
