#include "dev_platform_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "lunal/net/client.h"

extern char** environ;

namespace lunal::e2e {

namespace fs = std::filesystem;

namespace {

fs::path Binary(const std::string& name) {
  return testing::BinaryDir() / "src" / (name == "lunal" ? "cli" : "lunald") / name;
}

}  // namespace

DevPlatform::DevPlatform(fs::path state)
    : state_(std::move(state)),
      log_file_(state_.parent_path() / (state_.filename().string() + ".log")),
      ready_file_(state_.parent_path() / (state_.filename().string() + ".ready.json")) {}

DevPlatform::~DevPlatform() { Stop(); }

bool DevPlatform::Start(std::chrono::seconds timeout) {
  fs::remove(ready_file_);
  const std::string lunald = Binary("lunald").string();
  std::vector<std::string> args = {
      lunald,           "dev", "--state",      state_.string(),      "--api-port",  "0",
      "--gateway-port", "0",   "--ready-file", ready_file_.string(), "--log-level", "info"};
  // lunald's flags before the role.
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  const int rc = posix_spawn(&pid_, lunald.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "cannot start " << lunald;
  if (rc != 0) {
    pid_ = -1;
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "lunald dev exited at start:\n" << log();
      return false;
    }
    if (fs::exists(ready_file_)) {
      auto json = ParseJson(testing::ReadFileText(ready_file_));
      if (json.ok()) {
        ready_ = *json;
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "lunald dev not ready after " << timeout.count() << " s:\n" << log();
  return false;
}

int DevPlatform::Stop(std::chrono::seconds grace) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (true) {
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      ADD_FAILURE() << "lunald dev did not stop within " << grace.count() << " s";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::uint16_t DevPlatform::gateway_port() const {
  auto url = net::ParseUrl(gateway());
  return url.ok() ? url->port : 0;
}

std::string DevPlatform::log() const {
  std::ifstream in(log_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

testing::ProcessResult DevPlatform::Lunal(const std::vector<std::string>& args, std::string token,
                                          std::chrono::seconds timeout) const {
  std::vector<std::string> argv = {Binary("lunal").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunProcess(
      argv,
      {.stdin_data = {},
       .timeout = timeout,
       .env = {"LUNAL_API=" + api(), "LUNAL_TOKEN=" + (token.empty() ? this->token() : token),
               // No config file of the user's may leak in.
               "LUNAL_CONFIG=" + (state_.parent_path() / "no-config.yaml").string(), "NO_COLOR=1"},
       .cwd = std::nullopt});
}

int DevPlatform::ApiStatus(const std::string& method, const std::string& path, const Json& body,
                           std::string token, Json* out) const {
  net::HttpClient client({.request_timeout = std::chrono::seconds(60)});
  net::HttpClientRequest request{.method = method, .url = api() + path, .headers = {}, .body = {}};
  request.headers.emplace_back("Authorization",
                               "Bearer " + (token.empty() ? this->token() : token));
  if (!body.is_null()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body.dump();
  }
  auto response = client.Send(request);
  EXPECT_TRUE(response.ok()) << method << " " << path << ": " << response.error().ToString();
  if (!response.ok()) return 0;
  if (out != nullptr) {
    auto j = ParseJson(response->body);
    *out = j.ok() ? *j : Json(response->body);
  }
  return response->status;
}

Result<Json> DevPlatform::Api(const std::string& method, const std::string& path, const Json& body,
                              std::string token) const {
  net::HttpClient client({.request_timeout = std::chrono::seconds(60)});
  net::HttpClientRequest request{.method = method, .url = api() + path, .headers = {}, .body = {}};
  request.headers.emplace_back("Authorization",
                               "Bearer " + (token.empty() ? this->token() : token));
  request.headers.emplace_back("Accept", "application/json");
  if (!body.is_null()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body.dump();
  }
  LUNAL_ASSIGN_OR_RETURN(net::HttpResponse response, client.Send(request));
  LUNAL_ASSIGN_OR_RETURN(Json json, ParseJson(response.body));
  if (response.status / 100 != 2) {
    return Unavailable(json["error"].value("reason", "http"), "{} {}: {} {}", method, path,
                       response.status, response.body);
  }
  return json;
}

Result<Json> DevPlatform::WaitForState(const std::string& name, const std::string& state,
                                       std::chrono::seconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Json last;
  while (std::chrono::steady_clock::now() < deadline) {
    LUNAL_ASSIGN_OR_RETURN(last, Api("GET", "/v1/deployments/" + name));
    const std::string now = last.value("state", "");
    if (now == state) return last;
    if (now == "failed" && state != "failed") {
      return Unavailable("e2e.deployment_failed", "{}", last.dump());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return DeadlineExceeded("e2e.timeout", "{} not {} after {} s: {}", name, state, timeout.count(),
                          last.dump());
}

CurlResult Curl(const std::string& url, const std::vector<std::string>& extra_args) {
  testing::TempDir dir;
  std::vector<std::string> argv = {"curl",       "-sS",
                                   "--max-time", "30",
                                   "-o",         (dir / "body").string(),
                                   "-D",         (dir / "headers").string(),
                                   "-w",         "%{http_code}"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  argv.push_back(url);
  auto r = testing::RunProcess(
      argv,
      {.stdin_data = {}, .timeout = std::chrono::seconds(40), .env = {}, .cwd = std::nullopt});
  CurlResult out;
  if (r.exit_code != 0) {
    out.error = r.err;
    return out;
  }
  out.status = std::atoi(r.out.c_str());
  out.body = testing::ReadFileText(dir / "body");
  std::istringstream headers(testing::ReadFileText(dir / "headers"));
  for (std::string line; std::getline(headers, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "x-lunal-instance") {
      std::string v = line.substr(colon + 1);
      while (!v.empty() && (v.front() == ' ')) v.erase(v.begin());
      while (!v.empty() && (v.back() == '\r' || v.back() == ' ')) v.pop_back();
      out.instance = v;
    }
  }
  return out;
}

fs::path CopyExample(const std::string& name, const fs::path& dir) {
  const fs::path to = dir / name;
  fs::create_directories(dir);
  fs::copy(testing::SourceDir() / "examples" / name, to, fs::copy_options::recursive);
  return to;
}

}  // namespace lunal::e2e
