// RunRecipe with the real bwrap, Debian's python3 and node: reproducible Python output (two
// builds in fresh folders are byte-identical; .pyc files are unchecked-hash ones), a vendored
// wheel installed without a network, the node and static recipes, a build step that tries the
// network failing, and the refusals.
#include "lunal/build/recipe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/testing/loopback_file_server.h"
#include "lunal/testing/testing.h"

namespace lunal::build {
namespace {

namespace fs = std::filesystem;
using lunal::testing::TempDir;

constexpr std::int64_t kEpoch = 1700000000;

fs::path TestData(std::string_view name) {
  return lunal::testing::SourceDir() / "src/build/sandbox/testdata" / std::string(name);
}

// A copy of a testdata project, with the modes set explicitly (not whatever the checkout has).
void CopyProject(std::string_view name, const fs::path& to) {
  fs::copy(TestData(name), to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  for (const auto& e : fs::recursive_directory_iterator(to)) {
    if (e.is_regular_file()) fs::permissions(e.path(), fs::perms(0644));
  }
  if (fs::exists(to / "bin/serve.py")) fs::permissions(to / "bin/serve.py", fs::perms(0755));
}

// vendor/tinylib-1.0-py3-none-any.whl, a pure-Python wheel (PEP 427) built here with zipfile and
// fixed timestamps, so the same bytes come out every time.
void BuildTinylibWheel(const fs::path& vendor) {
  fs::create_directories(vendor);
  const std::string script = R"PY(
import base64, hashlib, sys, zipfile
files = {
    "tinylib/__init__.py": "def shout(s):\n    return s.upper() + '!'\n",
    "tinylib-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinylib\nVersion: 1.0\n",
    "tinylib-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: lunal-test\n"
                                   "Root-Is-Purelib: true\nTag: py3-none-any\n",
}
record = ""
for name, text in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
    record += f"{name},sha256={digest.decode()},{len(text.encode())}\n"
record += "tinylib-1.0.dist-info/RECORD,,\n"
files["tinylib-1.0.dist-info/RECORD"] = record
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for name, text in files.items():
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        z.writestr(info, text)
)PY";
  auto r = lunal::testing::RunProcess(
      {"/usr/bin/python3", "-c", script, (vendor / "tinylib-1.0-py3-none-any.whl").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// Every entry under `root`: type, permission bits, and the contents or link target.
std::map<std::string, std::string> Snapshot(const fs::path& root) {
  std::map<std::string, std::string> snap;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = fs::relative(it->path(), root).generic_string();
    struct stat st {};
    EXPECT_EQ(::lstat(it->path().c_str(), &st), 0);
    std::string mode = fmt::format("{:o}", st.st_mode & 07777);
    if (S_ISLNK(st.st_mode)) {
      snap[rel] = "link " + fs::read_symlink(it->path()).string();
    } else if (S_ISDIR(st.st_mode)) {
      snap[rel] = "dir " + mode;
    } else {
      snap[rel] = "file " + mode + " " + lunal::testing::ReadFileText(it->path());
    }
  }
  return snap;
}

// "cpython-311" on Debian 12: the interpreter's own tag, so the test follows the image.
std::string CacheTag() {
  auto r = lunal::testing::RunProcess(
      {"/usr/bin/python3", "-c", "import sys; print(sys.implementation.cache_tag)"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out.substr(0, r.out.find('\n'));
}

struct Dirs {
  TempDir src, deps, out;
};

Config PythonConfig(std::string requirements) {
  Config config;
  config.runtime = Runtime{.language = "python", .requirements = std::move(requirements)};
  return config;
}

Result<RecipeRun> Build(const Config& config, Dirs& dirs, std::vector<std::string>* progress = {}) {
  RecipeInput in;
  in.config = &config;
  in.source_dir = dirs.src.path();
  in.deps_dir = dirs.deps.path();
  in.out_dir = dirs.out.path();
  in.source_date_epoch = kEpoch;
  if (progress) in.progress = [progress](std::string_view l) { progress->emplace_back(l); };
  return RunRecipe(in);
}

std::vector<std::string> ToolNames(const RecipeRun& run) {
  std::vector<std::string> names;
  for (const auto& t : run.toolchain) names.push_back(t.name);
  return names;
}

class RecipeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!lunal::testing::HaveProgram("bwrap")) GTEST_SKIP() << "bwrap is not installed";
  }
};

TEST_F(RecipeTest, PythonBuildsTwiceToIdenticalTrees) {
  Dirs a, b;
  for (Dirs* d : {&a, &b}) {
    CopyProject("pyapp", d->src.path());
    BuildTinylibWheel(d->src / "vendor");
  }
  // The host checkout's modes differ between the two; the artifacts must not.
  fs::permissions(a.src / "greeter/core.py", fs::perms(0600));
  fs::permissions(b.src / "greeter/__init__.py", fs::perms(0664));

  auto loaded = LoadConfigFile(a.src / "lunal.config.yaml");
  ASSERT_TRUE(loaded.ok());
  std::vector<std::string> progress;
  auto ra = Build(loaded.config, a, &progress);
  ASSERT_TRUE(ra.ok()) << ra.error();
  auto rb = Build(loaded.config, b);
  ASSERT_TRUE(rb.ok()) << rb.error();

  auto sa = Snapshot(a.out.path());
  auto sb = Snapshot(b.out.path());
  EXPECT_EQ(sa.size(), sb.size());
  for (const auto& [path, what] : sa) {
    auto it = sb.find(path);
    ASSERT_NE(it, sb.end()) << path << " only in the first build";
    EXPECT_EQ(what, it->second) << path << " differs";
  }
  EXPECT_EQ(sa, sb);

  // The layout: the app, its bytecode, the vendored dependency, normalised modes.
  EXPECT_EQ(sa["app/bin/serve.py"].substr(0, 9), "file 755 ");
  EXPECT_EQ(sa["app/greeter/core.py"].substr(0, 9), "file 644 ");
  EXPECT_EQ(sa["app/greeter"], "dir 755");
  EXPECT_TRUE(sa.contains("app/greeter/__pycache__/core." + CacheTag() + ".pyc"));
  EXPECT_TRUE(sa.contains("deps/tinylib/__init__.py"));
  EXPECT_TRUE(sa.contains("deps/tinylib/__pycache__/__init__." + CacheTag() + ".pyc"));
  EXPECT_TRUE(fs::is_empty(a.deps.path())) << "vendored wheels need no fetch phase";

  // Every .pyc is hash-based and unchecked (PEP 552: flags word == 0b01), so its bytes depend on
  // the source's bytes, not on file times.
  int pycs = 0;
  for (const auto& [path, what] : sa) {
    if (!path.ends_with(".pyc")) continue;
    ++pycs;
    Bytes pyc = lunal::testing::ReadFileBytes(a.out / path);
    ASSERT_GE(pyc.size(), 16u) << path;
    EXPECT_EQ(pyc[4], 1) << path;
    EXPECT_EQ(pyc[5] | pyc[6] | pyc[7], 0) << path;
  }
  EXPECT_GE(pycs, 4);

  EXPECT_EQ(ra->recipe, "python");
  EXPECT_EQ(ToolNames(*ra), (std::vector<std::string>{"cp", "pip3", "python3"}));
  EXPECT_EQ(ra->toolchain, rb->toolchain);
  for (const auto& t : ra->toolchain) EXPECT_TRUE(t.digest.starts_with("sha256:")) << t.name;
  EXPECT_EQ(ra->lockfiles, std::vector<std::string>{"requirements.txt"});
  auto want_env = FixedEnvironment(kEpoch);
  want_env["LUNAL_RECIPE"] = "python";
  EXPECT_EQ(ra->environment, want_env);
  ASSERT_FALSE(progress.empty());
  EXPECT_NE(progress.back().find("build phase"), std::string::npos) << progress.back();

  // The artifacts work: the app imports its dependency from /out/deps, offline.
  SandboxSpec spec;
  spec.argv = {"python3", "-c",
               "import sys; sys.path[:0] = ['/out/app', '/out/deps']\n"
               "from greeter import greet; print(greet('lunal'))"};
  spec.mounts = {{a.out.path(), "/out", false}};
  spec.cwd = "/out";
  auto ran = RunInSandbox(spec);
  ASSERT_TRUE(ran.ok()) << ran.error();
  EXPECT_EQ(ran->log, "hello, LUNAL!\n");
}

TEST_F(RecipeTest, PythonFetchPhaseDownloadsTheLockedWheelAndTheBuildUsesIt) {
  // The wheel served over the host's loopback; requirements.txt pins it by hash (pip's
  // hash-checking mode) and points pip at the server instead of PyPI.
  TempDir wheel_dir;
  BuildTinylibWheel(wheel_dir.path());
  const std::string wheel_name = "tinylib-1.0-py3-none-any.whl";
  std::string wheel = lunal::testing::ReadFileText(wheel_dir / wheel_name);
  auto sum = lunal::testing::RunProcess({"sha256sum", (wheel_dir / wheel_name).string()});
  ASSERT_EQ(sum.exit_code, 0);
  lunal::testing::LoopbackFileServer server(
      std::map<std::string, std::string>{{wheel_name, wheel}});

  Dirs d;
  CopyProject("pyapp", d.src.path());
  lunal::testing::WriteFile(
      d.src / "requirements.txt",
      fmt::format("--no-index\n--find-links http://127.0.0.1:{}/\ntinylib==1.0 --hash=sha256:{}\n",
                  server.port(), sum.out.substr(0, 64)));
  std::vector<std::string> progress;
  auto run = Build(PythonConfig("requirements.txt"), d, &progress);
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(server.file_requests(), 1);
  EXPECT_EQ(lunal::testing::ReadFileText(d.deps / wheel_name), wheel);
  EXPECT_EQ(run->lockfiles, std::vector<std::string>{"requirements.txt"});
  EXPECT_TRUE(fs::exists(d.out / "deps/tinylib/__init__.py"));
  ASSERT_GE(progress.size(), 2u);
  EXPECT_NE(progress[progress.size() - 2].find("fetch phase"), std::string::npos);
  EXPECT_NE(run->log.find("== fetch phase: exit 0"), std::string::npos) << run->log;
}

TEST_F(RecipeTest, PythonStdlibOnlyAppNeedsNoPip) {
  Dirs d;
  CopyProject("pyapp", d.src.path());
  fs::remove(d.src / "requirements.txt");
  lunal::testing::WriteFile(d.src / "requirements.txt", "# nothing\n\n");
  auto run = Build(PythonConfig("requirements.txt"), d);
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(ToolNames(*run), (std::vector<std::string>{"cp", "python3"}));
  EXPECT_TRUE(run->lockfiles.empty());
  EXPECT_FALSE(fs::exists(d.out / "deps"));
  EXPECT_TRUE(fs::exists(d.out / ("app/greeter/__pycache__/__init__." + CacheTag() + ".pyc")));
}

TEST_F(RecipeTest, PythonSyntaxErrorFailsTheBuildPhaseWithTheLogTail) {
  Dirs d;
  CopyProject("pyapp", d.src.path());
  lunal::testing::WriteFile(d.src / "broken.py", "def f(:\n");
  auto run = Build(PythonConfig(""), d);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().reason(), "build.phase_failed");
  EXPECT_NE(run.error().message().find("exit code 1"), std::string::npos) << run.error();
  EXPECT_NE(run.error().message().find("broken.py"), std::string::npos) << run.error();
}

TEST_F(RecipeTest, NodeAppWithoutDependenciesRunsItsBuildScript) {
  if (!lunal::testing::HaveProgram("node") || !lunal::testing::HaveProgram("npm")) {
    GTEST_SKIP() << "node or npm is not installed";
  }
  Dirs d;
  CopyProject("nodeapp", d.src.path());
  Config config;
  config.runtime = Runtime{.language = "node"};
  auto run = Build(config, d);
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(run->recipe, "node");
  EXPECT_EQ(ToolNames(*run), (std::vector<std::string>{"cp", "node", "npm"}));
  EXPECT_TRUE(run->lockfiles.empty()) << "no dependencies, nothing fetched";
  EXPECT_EQ(lunal::testing::ReadFileText(d.out / "app/dist/build-info.txt"),
            "built at 1700000000\n");
  EXPECT_TRUE(fs::exists(d.out / "app/dist/server.js"));
  EXPECT_TRUE(fs::exists(d.out / "app/package.json"));
  EXPECT_EQ(run->environment.at("LUNAL_RECIPE"), "node");
}

TEST_F(RecipeTest, BuildStepThatTriesTheNetworkFails) {
  if (!lunal::testing::HaveProgram("node") || !lunal::testing::HaveProgram("npm")) {
    GTEST_SKIP() << "node or npm is not installed";
  }
  // A listening socket on the host's loopback: connect() to it succeeds from the host's
  // namespace (the kernel completes the handshake from the backlog).
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);

  Dirs d;
  CopyProject("nodeapp", d.src.path());
  lunal::testing::WriteFile(d.src / "probe.json",
                            fmt::format("{{\"host\": \"127.0.0.1\", \"port\": {}}}", port));
  // Control: the same probe from the host reaches the server.
  lunal::testing::ProcessOptions opts;
  opts.cwd = d.src.path();
  auto control = lunal::testing::RunProcess({"node", "build.js"}, opts);
  EXPECT_EQ(control.exit_code, 0) << control.err;
  EXPECT_NE(control.out.find("NETWORK REACHED"), std::string::npos);

  Config config;
  config.runtime = Runtime{.language = "node"};
  auto run = Build(config, d);
  ::close(fd);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().reason(), "build.phase_failed");
  EXPECT_NE(run.error().message().find("network unreachable: ECONNREFUSED"), std::string::npos)
      << run.error();
}

TEST_F(RecipeTest, NodeFetchPhaseFillsTheCacheAndTheBuildInstallsOffline) {
  if (!lunal::testing::HaveProgram("node") || !lunal::testing::HaveProgram("npm")) {
    GTEST_SKIP() << "node or npm is not installed";
  }
  // A one-file package tarball (npm's "package/" layout) served over the host's loopback; the
  // lockfile names it by URL and sha512 integrity, as npm writes lockfiles.
  TempDir pkg;
  fs::create_directories(pkg / "package");
  lunal::testing::WriteFile(pkg / "package/package.json",
                            R"({"name": "tinypkg", "version": "1.0.0", "main": "index.js"})");
  lunal::testing::WriteFile(pkg / "package/index.js",
                            "module.exports = (s) => s.toUpperCase() + '!';\n");
  auto tar = lunal::testing::RunProcess({"tar", "-C", pkg.path().string(), "--sort=name",
                                         "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
                                         "-czf", (pkg / "tinypkg-1.0.0.tgz").string(), "package"});
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  Bytes tgz = lunal::testing::ReadFileBytes(pkg / "tinypkg-1.0.0.tgz");
  std::string integrity =
      "sha512-" + Base64Encode(crypto::Digest(crypto::DigestAlgorithm::kSha512, tgz));
  lunal::testing::LoopbackFileServer server(std::map<std::string, std::string>{
      {"tinypkg-1.0.0.tgz", std::string(tgz.begin(), tgz.end())}});

  Dirs d;
  lunal::testing::WriteFile(
      d.src / "package.json",
      R"({"name": "napp", "version": "1.0.0", "dependencies": {"tinypkg": "1.0.0"},)"
      R"( "scripts": {"build": "node -e \"require('fs').writeFileSync('out.txt', require('tinypkg')('ok'))\""}})");
  lunal::testing::WriteFile(
      d.src / "package-lock.json",
      fmt::format(
          R"({{"name": "napp", "version": "1.0.0", "lockfileVersion": 3, "requires": true,)"
          R"( "packages": {{"": {{"name": "napp", "version": "1.0.0", "dependencies":)"
          R"( {{"tinypkg": "1.0.0"}}}}, "node_modules/tinypkg": {{"version": "1.0.0",)"
          R"( "resolved": "http://127.0.0.1:{}/tinypkg-1.0.0.tgz", "integrity": "{}"}}}}}})",
          server.port(), integrity));
  Config config;
  config.runtime = Runtime{.language = "node"};
  auto run = Build(config, d);
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(server.file_requests(), 1);
  EXPECT_EQ(run->lockfiles, std::vector<std::string>{"package-lock.json"});
  EXPECT_TRUE(fs::exists(d.deps / "npm-cache"));
  EXPECT_EQ(lunal::testing::ReadFileText(d.out / "app/node_modules/tinypkg/index.js"),
            "module.exports = (s) => s.toUpperCase() + '!';\n");
  EXPECT_EQ(lunal::testing::ReadFileText(d.out / "app/out.txt"), "OK!");
}

TEST_F(RecipeTest, StaticSiteIsCopied) {
  Dirs d;
  CopyProject("static", d.src.path());
  fs::permissions(d.src / "css/site.css", fs::perms(0600));
  Config config;
  config.runtime = Runtime{.language = "static"};
  auto run = Build(config, d);
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(ToolNames(*run), std::vector<std::string>{"cp"});
  auto snap = Snapshot(d.out.path());
  EXPECT_EQ(snap.size(), 4u);
  EXPECT_EQ(snap["app/css/site.css"], "file 644 p { color: #333; }\n");
  EXPECT_EQ(snap["app/css"], "dir 755");
}

TEST_F(RecipeTest, GoBuildsReproduciblyWhenGoIsInstalled) {
  if (!lunal::testing::HaveProgram("go")) GTEST_SKIP() << "go is not installed";
  Dirs a, b;
  for (Dirs* d : {&a, &b}) {
    lunal::testing::WriteFile(d->src / "go.mod", "module example.com/hello\n\ngo 1.19\n");
    lunal::testing::WriteFile(
        d->src / "main.go",
        "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from go\") }\n");
  }
  Config config;
  config.runtime = Runtime{.language = "go"};
  auto ra = Build(config, a);
  ASSERT_TRUE(ra.ok()) << ra.error();
  auto rb = Build(config, b);
  ASSERT_TRUE(rb.ok()) << rb.error();
  EXPECT_EQ(ToolNames(*ra), std::vector<std::string>{"go"});
  EXPECT_TRUE(ra->toolchain[0].version.starts_with("go version go")) << ra->toolchain[0].version;
  EXPECT_EQ(ra->lockfiles, std::vector<std::string>{"go.mod"});
  EXPECT_EQ(ra->environment.at("GOPROXY"), "off");
  // -trimpath and a fixed environment: the same binary from two different host folders.
  EXPECT_EQ(Snapshot(a.out.path()), Snapshot(b.out.path()));
  SandboxSpec spec;
  spec.argv = {"/out/app/app"};
  spec.mounts = {{a.out.path(), "/out", false}};
  spec.cwd = "/out";
  auto ran = RunInSandbox(spec);
  ASSERT_TRUE(ran.ok()) << ran.error();
  EXPECT_EQ(ran->log, "hello from go\n");
}

TEST_F(RecipeTest, Refusals) {
  struct Case {
    std::string name;
    std::function<Config()> config;
    std::function<void(Dirs&)> prepare;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"container",
       [] {
         Config c;
         c.container = Container{};
         return c;
       },
       [](Dirs&) {}, "build.container_unsupported"},
      {"no runtime", [] { return Config{}; }, [](Dirs&) {}, "build.recipe.no_runtime"},
      {"unknown language",
       [] {
         Config c;
         c.runtime = Runtime{.language = "cobol"};
         return c;
       },
       [](Dirs&) {}, "build.recipe.unknown_language"},
      {"escaping requirements", [] { return PythonConfig("../requirements.txt"); }, [](Dirs&) {},
       "build.recipe.bad_requirements"},
      {"absolute requirements", [] { return PythonConfig("/etc/passwd"); }, [](Dirs&) {},
       "build.recipe.bad_requirements"},
      {"missing requirements", [] { return PythonConfig("requirements.txt"); }, [](Dirs&) {},
       "build.recipe.bad_requirements"},
      {"requirements symlink out", [] { return PythonConfig("req.txt"); },
       [](Dirs& d) { fs::create_symlink("/etc/passwd", d.src / "req.txt"); },
       "build.recipe.bad_requirements"},
      {"pyproject", [] { return PythonConfig("pyproject.toml"); },
       [](Dirs& d) { lunal::testing::WriteFile(d.src / "pyproject.toml", "[project]\n"); },
       "build.recipe.pyproject_unsupported"},
      {"node without package.json",
       [] {
         Config c;
         c.runtime = Runtime{.language = "node"};
         return c;
       },
       [](Dirs&) {}, "build.recipe.missing_file"},
      {"node dependencies without lockfile",
       [] {
         Config c;
         c.runtime = Runtime{.language = "node"};
         return c;
       },
       [](Dirs& d) {
         lunal::testing::WriteFile(d.src / "package.json",
                                   R"({"dependencies": {"express": "^4.18.2"}})");
       },
       "build.recipe.no_lockfile"},
      {"out not empty", [] { return PythonConfig(""); },
       [](Dirs& d) { lunal::testing::WriteFile(d.out / "stale", "x"); }, "build.recipe.bad_input"},
  };
  for (const Case& c : cases) {
    Dirs d;
    c.prepare(d);
    Config config = c.config();
    auto run = Build(config, d);
    ASSERT_FALSE(run.ok()) << c.name;
    EXPECT_EQ(run.error().reason(), c.reason) << c.name << ": " << run.error();
  }
  RecipeInput none;
  auto run = RunRecipe(none);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().reason(), "build.recipe.bad_input");
}

}  // namespace
}  // namespace lunal::build
