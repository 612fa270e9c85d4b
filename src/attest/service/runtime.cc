// BuildRuntime: from a ServiceConfig to the collaborators of the service (config.h).
#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "collateral_wiring.h"
#include "lunal/attest/detect_attester.h"
#include "lunal/attest/engine/sim_source.h"
#include "lunal/attest/service/config.h"
#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/attest/token/key_ring.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/x509.h"

namespace lunal::attest::service {
namespace {

namespace fs = std::filesystem;

// The simulation root to trust: a PEM certificate, or a sim-tdx state folder (its root-ca.pem;
// the folder is opened, never created, so a typo cannot mint a new root that is then trusted).
struct SimTrust {
  crypto::TrustAnchor anchor;
  std::shared_ptr<const sim::SimulationRoot> root;  // when given a state folder
};

Result<SimTrust> TrustSimulationRoot(const fs::path& path, const Clock& clock) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (!fs::is_regular_file(path / "root-ca.pem", ec)) {
      return InvalidArgument("attest.service.sim_root",
                             "trust_simulation_root {}: no root-ca.pem in this folder (a sim-tdx "
                             "state folder holds one once the simulation has started)",
                             path.string());
    }
    LUNAL_ASSIGN_OR_RETURN(auto root, sim::SimulationRoot::Open(path, clock));
    return SimTrust{.anchor = root->Anchor(), .root = root};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument("attest.service.sim_root",
                           "trust_simulation_root {}: neither a folder nor a readable file",
                           path.string());
  }
  const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto cert = crypto::Certificate::FromPem(pem);
  if (!cert.ok()) {
    return InvalidArgument("attest.service.sim_root", "trust_simulation_root {}: {}", path.string(),
                           cert.error().message());
  }
  return SimTrust{
      .anchor = {.der_sha256 = cert->Sha256OfDer(), .label = std::string(sim::kRootCommonName)},
      .root = nullptr};
}

struct AttesterParts {
  std::shared_ptr<Attester> attester;
  std::shared_ptr<const sim::SimulationRoot> sim_root;  // sim-tdx's, for its collateral
};

Result<AttesterParts> OpenAttester(const AttesterConfig& config, const Clock& clock) {
  AttesterParts out;
  switch (config.kind) {
    case AttesterKind::kNone:
      return out;
    case AttesterKind::kConfigfs: {
      DetectOptions detect;
      if (!config.configfs_root.empty()) detect.configfs.root = config.configfs_root;
      LUNAL_ASSIGN_OR_RETURN(std::unique_ptr<Attester> attester, DetectAttester(detect));
      out.attester = std::move(attester);
      return out;
    }
    case AttesterKind::kSimTdx: {
      LUNAL_ASSIGN_OR_RETURN(out.sim_root, sim::SimulationRoot::Open(config.state_dir, clock));
      Bytes mr_td = config.mr_td;
      if (mr_td.empty()) {
        const auto digest = crypto::Sha384(AsBytes(kSimImage));
        mr_td.assign(digest.begin(), digest.end());
      }
      LUNAL_ASSIGN_OR_RETURN(
          auto attester, sim::SimTdxAttester::Create(out.sim_root, {.mr_td = std::move(mr_td)}));
      out.attester = std::move(attester);
      return out;
    }
  }
  return out;
}

}  // namespace

Result<Runtime> BuildRuntime(const ServiceConfig& config, const BuildOptions& options) {
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::Instance();
  if (config.token_sha256.empty() && !options.insecure_no_auth) {
    return InvalidArgument("attest.service.no_auth",
                           "{}: attestation.auth.token_sha256 lists no token: configure the "
                           "SHA-256 of at least one bearer token, or run with --insecure-no-auth "
                           "(development only)",
                           config.source.empty() ? "configuration" : config.source);
  }
  Runtime rt;
  ServiceOptions& o = rt.options;
  o.clock = &clock;
  o.auth = {.token_sha256 = config.token_sha256, .insecure_no_auth = options.insecure_no_auth};
  o.limits = config.limits;
  o.allow_request_time = config.allow_request_time;
  if (config.allow_request_time) {
    rt.warnings.push_back(
        "verify.allow_request_time is on: requests may choose the verification time, so "
        "evidence whose collateral has expired or been revoked can still verify");
  }

  // Collateral: folders and the vendor services, then the simulation's in front when there is one.
  LUNAL_ASSIGN_OR_RETURN(std::shared_ptr<collateral::CollateralSource> source,
                         internal::MakeConfiguredSource(config.collateral, clock));

  // The attester first: a sim-tdx attester creates its simulation root on first start, which
  // trust_simulation_root may then name.
  LUNAL_ASSIGN_OR_RETURN(AttesterParts attester, OpenAttester(config.attester, clock));
  std::vector<crypto::TrustAnchor> simulated_anchors;
  std::shared_ptr<const sim::SimulationRoot> trusted_root;
  if (config.trust_simulation_root) {
    SimTrust trust;
    std::error_code ec;
    if (attester.sim_root != nullptr &&
        fs::equivalent(attester.sim_root->state_dir(), *config.trust_simulation_root, ec)) {
      trust = {.anchor = attester.sim_root->Anchor(), .root = attester.sim_root};
    } else {
      LUNAL_ASSIGN_OR_RETURN(trust, TrustSimulationRoot(*config.trust_simulation_root, clock));
    }
    simulated_anchors.push_back(trust.anchor);
    trusted_root = trust.root;
    const std::string notice = fmt::format(
        "simulation root {} is trusted: simulated TDX evidence (no hardware protection) verifies, "
        "marked simulated: true",
        HexEncode(trust.anchor.der_sha256));
    rt.warnings.push_back(notice);
    o.notices.push_back(notice);
  }
  o.attester = attester.attester;
  // Simulated collateral comes from a simulation root whose keys we hold (the trusted state
  // folder, or the sim-tdx attester's): without it, sim quotes find no collateral.
  if (auto root = trusted_root != nullptr ? trusted_root : attester.sim_root; root != nullptr) {
    source = engine::MakeSimulationSource(root, source);
  }
  o.collateral = source;
  o.verifier = engine::MakeLocalVerifier(
      {.collateral = source, .simulated_anchors = simulated_anchors, .clock = &clock});

  // Result tokens.
  LUNAL_ASSIGN_OR_RETURN(
      auto ring, token::KeyRing::Open(
                     {.dir = config.token.key_dir, .max_token_lifetime = config.token.max_lifetime},
                     clock.Now()));
  if (config.token.key_dir.empty()) {
    rt.warnings.push_back(
        "token.key_dir is not set: result-token keys live in memory and change at every restart");
  }
  const std::string issuer =
      config.token.issuer.empty() ? "lunal-attestation" : config.token.issuer;
  o.issuer = std::make_shared<const token::Issuer>(
      std::shared_ptr<token::KeyRing>(std::move(ring)), clock,
      token::IssuerOptions{.issuer = issuer, .lifetime = config.token.lifetime});

  if (config.policy) {
    LUNAL_ASSIGN_OR_RETURN(o.default_policy, policy::LoadPolicyFile(*config.policy));
  }

  rt.server.bind_address = config.bind_address;
  rt.server.port = config.port;
  rt.server.threads = config.threads > 0
                          ? config.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  rt.server.max_body_bytes = config.limits.max_body_bytes;
  return rt;
}

}  // namespace lunal::attest::service
