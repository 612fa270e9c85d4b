// Configuration of `lunald attestation`: the `attestation:` section of lunald's YAML file, read
// strictly, and the wiring from it to ServiceOptions (collateral sources, attester, simulation
// root, token key ring, policy). The full schema with an example is in
// docs/protocols/attestation-service.md "Configuration"; `lunald attestation --help` prints it.
//
//   attestation:
//     listen: 127.0.0.1:8443
//     auth: {token_sha256: [9f86d081884c7d65…]}        # sha256 of each bearer token
//     collateral:
//       folders: [/var/lib/lunal/collateral]
//       pcs: {base_url: https://api.trustedservices.intel.com, cache_dir: /var/cache/lunal/pcs}
//       kds: {base_url: https://kdsintf.amd.com, cache_dir: /var/cache/lunal/kds}
//     trust_simulation_root: /var/lib/lunal/sim-tdx     # only for development
//     attester: {type: sim-tdx, state_dir: /var/lib/lunal/sim-tdx}
//     token: {issuer: https://attest.example.com, key_dir: /var/lib/lunal/token-keys}
//     limits: {max_body_bytes: 1048576}
//
// Strictness: an unknown key, a duplicate key, a value of the wrong type or out of range is an
// error whose message starts "<file>:<line>:<column>: attestation.<field>: ". Relative paths are
// taken from the configuration file's folder.
//
// Errors (stable reasons, kInvalidArgument unless noted): config.read_failed (kUnavailable),
// config.yaml_syntax, config.unknown_key, config.duplicate_key, config.wrong_type,
// config.bad_value. BuildRuntime: attest.service.no_auth (neither tokens nor --insecure-no-auth),
// attest.service.sim_root (the simulation root cannot be read), and the errors of what it opens
// (token.keyring.*, sim.state.*, attest.detect.*, policy.*, collateral sources').
//
// Thread-safety: plain values and functions.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/service/service.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/net/server.h"

namespace lunal::attest::service {

// Intel PCS v4 (collateral::PcsSource): fetched, verified and cached TDX collateral.
struct PcsConfig {
  std::string base_url = "https://api.trustedservices.intel.com";
  // The Intel SGX Root CA CRL's distribution point; empty: Intel's
  // (https://certificates.trustedservices.intel.com/IntelSGXRootCA.der).
  std::string root_ca_crl_url = {};
  std::filesystem::path cache_dir = {};  // required: fetched documents persist here
};

// AMD KDS (collateral::KdsSource): VCEKs by chip id and TCB, and AMD's CRLs, cached.
struct KdsConfig {
  std::string base_url = "https://kdsintf.amd.com";
  std::filesystem::path cache_dir = {};  // required
};

struct CollateralConfig {
  std::vector<std::filesystem::path> folders = {};  // tdx::CollateralPool folders, searched first
  std::optional<PcsConfig> pcs = std::nullopt;
  std::optional<KdsConfig> kds = std::nullopt;
};

enum class AttesterKind : std::uint8_t { kNone, kConfigfs, kSimTdx };

struct AttesterConfig {
  AttesterKind kind = AttesterKind::kNone;
  std::filesystem::path state_dir = {};      // sim-tdx: the simulation root's state folder
  Bytes mr_td = {};                          // sim-tdx: 48 bytes; empty: SHA-384 of kSimImage
  std::filesystem::path configfs_root = {};  // configfs: the report root; empty: the kernel's
};

// Default MRTD of the service's own sim-tdx "image" (its SHA-384), when attester.mr_td is unset.
inline constexpr std::string_view kSimImage = "lunald attestation sim-tdx";

struct TokenConfig {
  std::string issuer = {};             // "iss"; empty: the service's URL
  std::filesystem::path key_dir = {};  // empty: keys in memory only (lost at restart)
  std::chrono::seconds lifetime = std::chrono::minutes(5);
  std::chrono::seconds max_lifetime = std::chrono::hours(24);
};

struct ServiceConfig {
  std::string source = {};  // the file it came from (messages)
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;
  int threads = 0;  // 0: one per core
  std::vector<std::array<std::uint8_t, 32>> token_sha256 = {};
  CollateralConfig collateral = {};
  // A PEM certificate of a "Lunal Simulation Root CA", or a sim-tdx state folder (its
  // root-ca.pem is read; nothing is created).
  std::optional<std::filesystem::path> trust_simulation_root = std::nullopt;
  AttesterConfig attester = {};
  TokenConfig token = {};
  ServiceLimits limits = {};
  bool allow_request_time = false;
  std::optional<std::filesystem::path> policy = std::nullopt;  // default policy file
};

// Parses `yaml`, a whole lunald configuration file, and reads its `attestation:` section (absent
// or null: every default). Other top-level sections are not read here. `source` names the file in
// messages and is the base of relative paths.
Result<ServiceConfig> ParseServiceConfig(std::string_view yaml,
                                         const std::filesystem::path& source);
Result<ServiceConfig> LoadServiceConfig(const std::filesystem::path& file);

struct BuildOptions {
  const Clock* clock = nullptr;   // null: SystemClock; borrowed, must outlive the runtime
  bool insecure_no_auth = false;  // --insecure-no-auth
};

// What BuildRuntime wires: everything the service needs, and how to serve it.
struct Runtime {
  ServiceOptions options;
  net::ServerOptions server;
  std::vector<std::string> warnings;  // to log at start (e.g. auth off, simulation root trusted)
};

// Opens what the configuration names: collateral sources, the simulation root's certificate,
// the attester, the token key ring (created if missing), the default policy.
Result<Runtime> BuildRuntime(const ServiceConfig& config, const BuildOptions& options);

}  // namespace lunal::attest::service
