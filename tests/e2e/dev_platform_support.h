// A `lunald dev` process for end-to-end tests: started on ephemeral ports with its own state
// folder, driven through the built `lunal` CLI, the control-plane API and curl.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/testing/testing.h"

namespace lunal::e2e {

class DevPlatform {
 public:
  // `state`: the state folder (kept across Start/Stop, so a restart recovers it).
  explicit DevPlatform(std::filesystem::path state);
  ~DevPlatform();  // Stop()

  // Starts lunald dev and waits for its ready file (fails the test on timeout).
  bool Start(std::chrono::seconds timeout = std::chrono::seconds(60));
  // SIGTERM, then waits (SIGKILL after `grace`). Returns the exit status (or -1).
  int Stop(std::chrono::seconds grace = std::chrono::seconds(20));

  const Json& ready() const { return ready_; }
  std::string api() const { return ready_.value("api", ""); }
  std::string gateway() const { return ready_.value("gateway", ""); }
  std::string token() const { return ready_.value("token", ""); }
  std::uint16_t gateway_port() const;
  const std::filesystem::path& state() const { return state_; }
  std::string log() const;  // what lunald dev printed (stdout and stderr)

  // The built `lunal` CLI with LUNAL_API and this token (default: the dev token).
  testing::ProcessResult Lunal(const std::vector<std::string>& args, std::string token = "",
                               std::chrono::seconds timeout = std::chrono::seconds(120)) const;
  // An API call with a bearer token (default: the dev token); body JSON or null.
  Result<Json> Api(const std::string& method, const std::string& path, const Json& body = nullptr,
                   std::string token = "") const;
  // HTTP status of an API call (any status), and its JSON body when it has one.
  int ApiStatus(const std::string& method, const std::string& path, const Json& body = nullptr,
                std::string token = "", Json* out = nullptr) const;
  // Polls GET /v1/deployments/{name} until state is `state` (or failed/ timeout).
  Result<Json> WaitForState(const std::string& name, const std::string& state,
                            std::chrono::seconds timeout = std::chrono::seconds(120)) const;

 private:
  std::filesystem::path state_;
  std::filesystem::path log_file_;
  std::filesystem::path ready_file_;
  pid_t pid_ = -1;
  Json ready_ = Json::object();
};

// curl (the real one) through the gateway. Returns {status, body, headers (lower-cased names)}.
struct CurlResult {
  int status = 0;
  std::string body;
  std::string instance;  // X-Lunal-Instance
  std::string error;
};
CurlResult Curl(const std::string& url, const std::vector<std::string>& extra_args = {});

// A copy of examples/<name> in `dir` (deploying from the source tree would put build output
// beside the sources of other tests running in parallel).
std::filesystem::path CopyExample(const std::string& name, const std::filesystem::path& dir);

}  // namespace lunal::e2e
