// Deploy and scale-out latency on the dev platform (DESIGN.md "Performance targets": `lunal
// deploy` of the example app to its first successful request under 5 s; a new instance serving
// within 2 s of a scale-out decision). Starts its own `lunald dev` (ephemeral ports, a temporary
// state folder), then for each run:
//   deploy     `lunal deploy examples/hello-python --name bench-<k>` (a fresh build each time: the
//              copy carries a unique comment) until GET /d/bench-<k>/api/hello through the
//              gateway answers 200
//   scale-out  POST /v1/deployments/bench-<k>/scale {"instances": 2} until a request answered by
//              the new instance (X-Lunal-Instance) comes back through the gateway
// Peer, measured in the same run: the same app started bare (`python3 app.py`) until its first
// 200 on loopback — what the platform adds is the build, the sandbox, attestation and routing.
// Medians of LUNAL_BENCH_RUNS runs (default 5).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "lunal/common/json.h"
#include "lunal/common/subprocess.h"
#include "lunal/net/client.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using lunal::Json;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "deploy_bench: %s\n", what.c_str());
  std::exit(1);
}

struct Answer {
  int status = 0;
  std::string instance;
};

Answer Get(const std::string& url, const std::string& client_key = "") {
  lunal::net::HttpClient client(
      {.connect_timeout = std::chrono::seconds(2), .request_timeout = std::chrono::seconds(5)});
  lunal::net::HttpClientRequest req{.method = "GET", .url = url, .headers = {}, .body = {}};
  if (!client_key.empty()) req.headers.emplace_back("X-Lunal-Client-Key", client_key);
  auto r = client.Send(req);
  if (!r.ok()) return {};
  auto instance = r->Header("X-Lunal-Instance");
  return {r->status, instance ? std::string(*instance) : std::string()};
}

// Polls `url` every 10 ms until 200 (bounded by `limit`); returns the time it took.
double UntilOk(const std::string& url, Clock::time_point start, std::chrono::seconds limit) {
  while (Clock::now() - start < limit) {
    if (Get(url).status == 200) return Seconds(Clock::now() - start);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Fail("no 200 from " + url + " within " + std::to_string(limit.count()) + " s");
}

}  // namespace

int main() {
  const fs::path build = fs::read_symlink("/proc/self/exe").parent_path().parent_path();
  const fs::path lunald = build / "src/lunald/lunald";
  const fs::path lunal = build / "src/cli/lunal";
  const fs::path source = fs::path(LUNAL_DEFAULT_SHARED_DIR).parent_path() / "main";
  fs::path example = fs::path(__FILE__).parent_path().parent_path() / "examples/hello-python";
  if (!fs::exists(example)) example = source / "examples/hello-python";
  const char* runs_env = std::getenv("LUNAL_BENCH_RUNS");
  const int runs = runs_env ? std::max(1, std::atoi(runs_env)) : 5;

  char tmpl[] = "/tmp/lunal-deploy-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) Fail("mkdtemp");
  const fs::path dir = tmpl;
  const fs::path ready = dir / "ready.json";

  // The platform.
  const pid_t platform = fork();
  if (platform == 0) {
    const std::string log = (dir / "lunald.log").string();
    std::freopen(log.c_str(), "w", stdout);
    std::freopen(log.c_str(), "a", stderr);
    execl(lunald.c_str(), lunald.c_str(), "dev", "--state", (dir / "state").c_str(), "--api-port",
          "0", "--gateway-port", "0", "--ready-file", ready.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto started = Clock::now();
  while (!fs::exists(ready)) {
    if (Clock::now() - started > std::chrono::seconds(60)) Fail("lunald dev did not start");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Json info = Json::parse(std::ifstream(ready));
  const std::string api = info["api"], gateway = info["gateway"], token = info["token"];
  std::printf("lunald dev ready in %.2f s (api %s, gateway %s)\n", Seconds(Clock::now() - started),
              api.c_str(), gateway.c_str());

  std::vector<double> deploy, scale, bare;
  for (int k = 0; k < runs; ++k) {
    const std::string name = "bench-" + std::to_string(k);
    const fs::path app = dir / name;
    fs::copy(example, app, fs::copy_options::recursive);
    std::ofstream(app / "app.py", std::ios::app) << "# run " << k << "\n";

    // Deploy → first 200 through the gateway.
    auto t0 = Clock::now();
    auto r = lunal::RunSubprocess(
        {.argv = {lunal.string(), "deploy", app.string(), "--name", name, "--json"},
         .search_path = false,
         .env = std::vector<std::string>{"LUNAL_API=" + api, "LUNAL_TOKEN=" + token,
                                         "LUNAL_CONFIG=" + (dir / "none.yaml").string(),
                                         "PATH=/usr/bin:/bin", "HOME=" + dir.string()},
         .timeout = std::chrono::seconds(120)});
    if (!r.ok() || r->exit_code != 0) {
      Fail("lunal deploy failed: " + (r.ok() ? r->out + r->err : r.error().ToString()));
    }
    const std::string url = gateway + "/d/" + name + "/api/hello";
    deploy.push_back(UntilOk(url, t0, std::chrono::seconds(60)));
    const std::string first = Get(url).instance;

    // Scale-out → the new instance answers through the gateway.
    lunal::net::HttpClient client;
    t0 = Clock::now();
    auto s = client.Send(
        {.method = "POST",
         .url = api + "/v1/deployments/" + name + "/scale",
         .headers = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}},
         .body = R"({"instances": 2})"});
    if (!s.ok() || s->status != 200) Fail("scale failed");
    bool seen = false;
    for (int i = 0; !seen; ++i) {
      if (Clock::now() - t0 > std::chrono::seconds(60)) Fail("the new instance never answered");
      Answer a = Get(url, "key-" + std::to_string(i));
      seen = a.status == 200 && !a.instance.empty() && a.instance != first;
      if (!seen && i % 8 == 7) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    scale.push_back(Seconds(Clock::now() - t0));

    // Peer: the bare app.
    const int port = 20000 + k;
    t0 = Clock::now();
    const pid_t child = fork();
    if (child == 0) {
      const std::string port_env = "PORT=" + std::to_string(port);
      putenv(const_cast<char*>(port_env.c_str()));
      std::freopen("/dev/null", "w", stdout);
      execl("/usr/bin/python3", "python3", (app / "app.py").c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    bare.push_back(UntilOk("http://127.0.0.1:" + std::to_string(port) + "/api/hello", t0,
                           std::chrono::seconds(30)));
    kill(child, SIGTERM);
    waitpid(child, nullptr, 0);
    std::printf("run %d: deploy %.2f s, scale-out %.2f s, bare start %.3f s\n", k, deploy.back(),
                scale.back(), bare.back());
  }

  kill(platform, SIGTERM);
  waitpid(platform, nullptr, 0);
  fs::remove_all(dir);

  const double d = Median(deploy), sc = Median(scale), b = Median(bare);
  std::printf("targets: deploy < 5 s, scale-out < 2 s (medians of %d runs)\n", runs);
  lunal::bench::PrintResult("deploy_to_first_200", d * 1000, b * 1000, "ms");
  lunal::bench::PrintResult("scale_out_to_first_request", sc * 1000, b * 1000, "ms");
  return 0;
}
