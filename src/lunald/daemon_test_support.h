// Test support for the role tests: the built lunald as a child process, the way an operator runs
// it (stdout read up to the first line a role prints once it serves; stderr to a file).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/cds/enroll.h"
#include "lunal/cds/manifest.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/dsse.h"
#include "lunal/crypto/keys.h"
#include "lunal/mesh/tls.h"
#include "lunal/testing/testing.h"

extern char** environ;

namespace lunal::lunald_testing {

inline std::string LunaldPath() { return (testing::BinaryDir() / "src/lunald/lunald").string(); }

// The build hash every `lunald <role>` enrols its mesh identity with: "sha256:" + SHA-256 of the
// executable (attested_identity.h ExecutableBuildHash), computed here independently.
inline std::string LunaldBuildHash() {
  auto bytes = ReadFile(LunaldPath(), {.max_bytes = std::size_t{1} << 30});
  EXPECT_TRUE(bytes.ok()) << bytes.error();
  return bytes.ok() ? "sha256:" + HexEncode(crypto::Sha256(ToBytes(*bytes))) : "";
}

// A mesh identity issued by a running CDS to an in-test sim-tdx TD running `build_hash` (the
// allow-list must name it for tenant/deployment): to play a platform role or an instance.
struct TestIdentity {
  std::shared_ptr<mesh::MeshCredentials> credentials;
  std::string ca_pem;
};

inline Result<TestIdentity> EnrolTestIdentity(const std::filesystem::path& sim_root,
                                              const std::string& cds_url, const std::string& tenant,
                                              const std::string& deployment,
                                              const std::string& instance,
                                              const std::string& build_hash) {
  LUNAL_ASSIGN_OR_RETURN(auto root,
                         attest::sim::SimulationRoot::Open(sim_root, SystemClock::Instance()));
  const auto image = crypto::Sha384(AsBytes("test TD " + tenant + "/" + deployment));
  LUNAL_ASSIGN_OR_RETURN(auto attester,
                         attest::sim::SimTdxAttester::Create(
                             std::move(root), {.mr_td = Bytes(image.begin(), image.end()),
                                               .boot_measurements = {},
                                               .mr_config_id = {},
                                               .mr_owner = {},
                                               .mr_owner_config = {}}));
  LUNAL_ASSIGN_OR_RETURN(
      Bytes event, attest::tdx::EncodeLunalEvent(
                       {.type = attest::tdx::LunalEventType::kBuildHash, .value = build_hash}));
  LUNAL_RETURN_IF_ERROR(attester->ExtendRtmr(3, crypto::Sha384(event), event));
  LUNAL_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::Generate(crypto::KeyType::kEcP256));
  LUNAL_ASSIGN_OR_RETURN(cds::Enrolment e, cds::Enroll({.cds_url = cds_url,
                                                        .attester = attester.get(),
                                                        .key = &key,
                                                        .tenant = tenant,
                                                        .deployment = deployment,
                                                        .instance = instance,
                                                        .build_hash = build_hash}));
  LUNAL_ASSIGN_OR_RETURN(auto credentials,
                         mesh::MeshCredentials::Load(e.certificate_pem, e.key_pem));
  return TestIdentity{.credentials = std::move(credentials), .ca_pem = e.ca_pem};
}

// Client TLS options presenting `self` to a platform role `tenant`/`deployment` (the way
// lunald control reaches lunald node and the gateway's admin API).
inline Result<net::ClientTlsOptions> PlatformClientTls(const TestIdentity& self,
                                                       const std::string& tenant,
                                                       const std::string& deployment) {
  LUNAL_ASSIGN_OR_RETURN(auto trust,
                         mesh::MeshTrust::FromPem(self.ca_pem, SystemClock::Instance()));
  return mesh::MeshClientTls(self.credentials, std::move(trust),
                             {.tenant = tenant,
                              .deployment = deployment,
                              .instance = std::nullopt,
                              .build_hashes = {},
                              .any_build = true,
                              .tee_types = {},
                              .allow_simulated = true});
}

class Daemon {
 public:
  Daemon(std::vector<std::string> args, const std::filesystem::path& stderr_file) {
    args.insert(args.begin(), LunaldPath());
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    out_ = out[0];
  }
  ~Daemon() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // The first stdout line (what arrived when `timeout` passes or stdout closes).
  std::string FirstLine(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{.fd = out_, .events = POLLIN, .revents = 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char c = 0;
      if (read(out_, &c, 1) != 1) break;
      if (c == '\n') break;
      line += c;
    }
    return line;
  }
  // The first stdout line as JSON (null when it is not JSON).
  Json FirstJson(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    return ParseJson(FirstLine(timeout)).value_or(Json());
  }

  // Sends `signal` and returns the exit status (-1 if it does not exit within `timeout`).
  int StopWith(int signal, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    kill(pid_, signal);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  bool reaped_ = false;
};

// The operator's signed allow-list (docs/formats/allow-list.md: a DSSE envelope of payloadType
// cds::kAllowListPayloadType), and one entry of it allowing simulated evidence.
inline std::string SignAllowList(const crypto::PrivateKey& key, int version, const Json& entries) {
  const Json payload = {
      {"version", version}, {"issued_at", "2026-11-21T12:00:00Z"}, {"entries", entries}};
  crypto::DsseEnvelope env{.payload_type = std::string(cds::kAllowListPayloadType),
                           .payload = ToBytes(payload.dump()),
                           .signatures = {}};
  env.signatures.push_back(*crypto::SignDsse(env, key, "operator"));
  return crypto::SerializeDsse(env);
}

inline Json AllowEntry(const std::string& tenant, const std::string& deployment,
                       const std::string& build_hash) {
  return {{"tenant", tenant},
          {"deployment", deployment},
          {"build_hashes", {build_hash}},
          {"allow_simulated", true}};
}

}  // namespace lunal::lunald_testing
