// RunRecipe (recipe.h): each recipe is a Plan (toolchain, lockfiles, environment, the fetch and
// build commands), then the same three steps run it: identify the toolchain, fetch, build.
// The commands are fixed shell scripts run as `sh -c SCRIPT lunal-<recipe> ARG...`: values that
// come from the project (a requirements path) only ever reach them as positional parameters
// ("$1"), never as script text, so no byte of them is interpreted by the shell.
#include "lunal/build/recipe.h"

#include <algorithm>
#include <string>
#include <system_error>

#include "lunal/common/files.h"
#include "lunal/common/json.h"

namespace lunal::build {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::seconds kPhaseTimeout{900};

// Every recipe starts the build phase by copying the source tree to /out/app with modes
// normalised (0644 files, 0755 directories and files with any execute bit): the host checkout's
// umask must not reach the artifacts. cp -R copies symbolic links as links.
constexpr std::string_view kCopyApp =
    "mkdir -p /out/app\n"
    "cp -R /src/. /out/app/\n"
    "chmod -R u=rwX,go=rX /out/app\n";

constexpr std::string_view kPythonBuild =
    "set -eu\n"
    "req=\"$1\"; links=\"$2\"\n"
    "if [ -n \"$req\" ]; then\n"
    "  python3 -m pip install --disable-pip-version-check --no-cache-dir --no-input \\\n"
    "    --root-user-action=ignore --retries 0 --no-index --find-links \"$links\" --no-compile \\\n"
    "    --no-warn-script-location --target /out/deps -r \"/src/$req\"\n"
    "  chmod -R u=rwX,go=rX /out/deps\n"
    "  python3 -m compileall -q --invalidation-mode unchecked-hash /out/deps\n"
    "fi\n"
    "python3 -m compileall -q --invalidation-mode unchecked-hash /out/app\n";

constexpr std::string_view kNodeFetch =
    "set -eu\n"
    "mkdir -p /tmp/w\n"
    "cp /src/package.json /src/package-lock.json /tmp/w/\n"
    "cd /tmp/w\n"
    "npm ci --ignore-scripts --cache /deps/npm-cache\n";

constexpr std::string_view kNodeBuild =
    "set -eu\n"
    "cd /out/app\n"
    "if [ \"$1\" = 1 ]; then\n"
    "  cp -R /deps/npm-cache /tmp/npm-cache\n"
    "  npm ci --ignore-scripts --offline --cache /tmp/npm-cache\n"
    "fi\n"
    "if [ \"$2\" = 1 ]; then npm run build; fi\n";

constexpr std::string_view kStaticBuild = "set -eu\n";

struct Plan {
  std::string recipe = {};
  std::vector<std::string> tools = {};
  std::vector<std::string> lockfiles = {};
  std::map<std::string, std::string> fetch_env = {};
  std::map<std::string, std::string> build_env = {};  // also what RecipeRun::environment records
  std::vector<std::string> fetch_argv = {};           // empty: no fetch phase
  std::vector<std::string> build_argv = {};
  std::string fetch_label = {};
  std::string build_label = {};
};

std::vector<std::string> Script(std::string_view recipe, std::string_view body,
                                std::vector<std::string> args, bool copy_app) {
  std::string script(body);
  if (copy_app) script = "set -eu\n" + std::string(kCopyApp) + script;
  std::vector<std::string> argv = {"/bin/sh", "-c", script, "lunal-" + std::string(recipe)};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// A source-relative path from the config, checked to name a regular file inside the tree.
Result<fs::path> SourceFile(const fs::path& root, std::string_view rel, std::string_view what) {
  fs::path p{std::string(rel)};
  bool bad = rel.empty() || p.is_absolute() || rel.find('\0') != std::string_view::npos;
  for (const auto& part : p) bad = bad || part == "..";
  if (bad) {
    return InvalidArgument("build.recipe.bad_requirements",
                           "{} {:?} must be a relative path inside the project", what, rel);
  }
  std::error_code ec_file, ec_root, ec_type;
  fs::path full = root / p;
  // Resolved, so a symbolic link in the tree cannot point pip at a host file.
  fs::path real = fs::weakly_canonical(full, ec_file);
  fs::path real_root = fs::weakly_canonical(root, ec_root);
  auto [r, f] = std::mismatch(real_root.begin(), real_root.end(), real.begin(), real.end());
  if (ec_file || ec_root || r != real_root.end() || !fs::is_regular_file(real, ec_type)) {
    return InvalidArgument("build.recipe.bad_requirements", "{} {:?} is not a file in the project",
                           what, rel);
  }
  return full;
}

bool HasEntries(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) return true;
    pos = end + 1;
  }
  return false;
}

bool HasWheels(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".whl") return true;
  }
  return false;
}

Result<Plan> PythonPlan(const RecipeInput& in, const Runtime& rt) {
  Plan plan{.recipe = "python", .tools = {"cp", "python3"}};
  std::string req;
  if (!rt.requirements.empty()) {
    LUNAL_ASSIGN_OR_RETURN(fs::path file,
                           SourceFile(in.source_dir, rt.requirements, "runtime.requirements"));
    if (file.extension() == ".toml") {
      return Unsupported("build.recipe.pyproject_unsupported",
                         "{}: dependencies from pyproject.toml are not supported yet; name a "
                         "requirements file (pip freeze) in runtime.requirements",
                         rt.requirements);
    }
    LUNAL_ASSIGN_OR_RETURN(std::string text, ReadFile(file, {.max_bytes = 1 << 20}));
    if (HasEntries(text)) req = rt.requirements;
  }
  std::string links;
  if (!req.empty()) {
    plan.tools.push_back("pip3");
    plan.lockfiles.push_back(req);
    if (HasWheels(in.source_dir / "vendor")) {
      links = "/src/vendor";
    } else {
      links = "/deps";
      plan.fetch_argv = {"python3",
                         "-m",
                         "pip",
                         "download",
                         "--disable-pip-version-check",
                         "--no-cache-dir",
                         "--no-input",
                         "--only-binary=:all:",
                         "--dest",
                         "/deps",
                         "-r",
                         "/src/" + req};
      plan.fetch_label = "pip download -r " + req;
    }
  }
  plan.build_argv = Script("python", kPythonBuild, {req, links}, true);
  plan.build_label =
      req.empty() ? "copy, compileall" : "copy, pip install --no-index -r " + req + ", compileall";
  return plan;
}

Result<Plan> NodePlan(const RecipeInput& in) {
  Plan plan{.recipe = "node", .tools = {"cp", "node"}};
  plan.build_env = {{"NPM_CONFIG_AUDIT", "false"},
                    {"NPM_CONFIG_FUND", "false"},
                    {"NPM_CONFIG_UPDATE_NOTIFIER", "false"}};
  plan.fetch_env = plan.build_env;
  std::error_code ec;
  if (!fs::is_regular_file(in.source_dir / "package.json", ec)) {
    return InvalidArgument("build.recipe.missing_file", "a node project needs package.json");
  }
  LUNAL_ASSIGN_OR_RETURN(std::string pkg_text, ReadFile(in.source_dir / "package.json"));
  LUNAL_ASSIGN_OR_RETURN(Json pkg, ParseJson(pkg_text));
  auto non_empty = [](const Json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_object() && !j[key].empty();
  };
  bool build_script = pkg.is_object() && pkg.contains("scripts") && pkg["scripts"].is_object() &&
                      pkg["scripts"].contains("build");
  bool declares = non_empty(pkg, "dependencies") || non_empty(pkg, "devDependencies");
  bool deps = false;
  if (fs::is_regular_file(in.source_dir / "package-lock.json", ec)) {
    LUNAL_ASSIGN_OR_RETURN(std::string lock_text,
                           ReadFile(in.source_dir / "package-lock.json", {.max_bytes = 64 << 20}));
    LUNAL_ASSIGN_OR_RETURN(Json lock, ParseJson(lock_text));
    // lockfileVersion 2/3: "packages" keyed by install path, "" being the project itself;
    // version 1: "dependencies".
    if (lock.is_object() && lock.contains("packages") && lock["packages"].is_object()) {
      for (const auto& [key, value] : lock["packages"].items()) deps = deps || !key.empty();
    }
    deps = deps || non_empty(lock, "dependencies");
  } else if (declares) {
    return InvalidArgument("build.recipe.no_lockfile",
                           "package.json declares dependencies but there is no "
                           "package-lock.json: a hermetic build installs from a lockfile only");
  }
  if (deps || build_script) plan.tools.push_back("npm");
  if (deps) {
    plan.lockfiles.push_back("package-lock.json");
    plan.fetch_argv = Script("node", kNodeFetch, {}, false);
    plan.fetch_label = "npm ci --ignore-scripts (into the npm cache)";
  }
  plan.build_argv = Script("node", kNodeBuild, {deps ? "1" : "0", build_script ? "1" : "0"}, true);
  plan.build_label = std::string("copy") + (deps ? ", npm ci --offline" : "") +
                     (build_script ? ", npm run build" : "");
  return plan;
}

Result<Plan> GoPlan(const RecipeInput& in, const Runtime& rt) {
  Plan plan{.recipe = "go", .tools = {"go"}};
  std::error_code ec;
  if (!fs::is_regular_file(in.source_dir / "go.mod", ec)) {
    return InvalidArgument("build.recipe.missing_file", "a go project needs go.mod");
  }
  bool vendored = fs::is_directory(in.source_dir / "vendor", ec);
  std::map<std::string, std::string> common = {
      {"CGO_ENABLED", "0"},          {"GOCACHE", "/tmp/gocache"}, {"GOPATH", "/tmp/go"},
      {"GOMODCACHE", "/deps/gomod"}, {"GOTOOLCHAIN", "local"},    {"GOTELEMETRY", "off"}};
  plan.fetch_env = common;
  plan.fetch_env["GOFLAGS"] = "-modcacherw";
  plan.build_env = common;
  plan.build_env["GOFLAGS"] = vendored ? "-mod=vendor" : "-mod=readonly";
  plan.build_env["GOPROXY"] = "off";
  plan.lockfiles.push_back("go.mod");
  if (fs::is_regular_file(in.source_dir / "go.sum", ec)) {
    plan.lockfiles.push_back("go.sum");
    if (!vendored) {
      plan.fetch_argv = {"go", "mod", "download"};
      plan.fetch_label = "go mod download";
    }
  }
  std::string pkg = rt.entrypoint.empty() ? "." : rt.entrypoint;
  if (pkg != "." && pkg.rfind("./", 0) != 0) pkg = "./" + pkg;
  plan.build_argv = {"go", "build",        "-trimpath", "-buildvcs=false",
                     "-o", "/out/app/app", "--",        pkg};
  plan.build_label = "go build -trimpath -buildvcs=false " + pkg;
  return plan;
}

Plan StaticPlan() {
  Plan plan{.recipe = "static", .tools = {"cp"}};
  plan.build_argv = Script("static", kStaticBuild, {}, true);
  plan.build_label = "copy";
  return plan;
}

std::string LastLines(std::string_view log, int n) {
  std::size_t end = log.size();
  while (end > 0 && log[end - 1] == '\n') --end;
  std::size_t pos = end;
  for (int i = 0; i < n && pos > 0; ++i) {
    std::size_t nl = log.rfind('\n', pos - 1);
    pos = nl == std::string_view::npos ? 0 : nl;
    if (pos == 0) break;
  }
  if (pos < end && log[pos] == '\n') ++pos;
  return std::string(log.substr(pos, end - pos));
}

Status RunPhase(const RecipeInput& in, Phase phase, const std::vector<std::string>& argv,
                std::map<std::string, std::string> env, std::string& log) {
  SandboxSpec spec;
  spec.phase = phase;
  spec.argv = argv;
  bool fetch = phase == Phase::kFetch;
  spec.mounts = {{in.source_dir, "/src", false}, {in.deps_dir, "/deps", fetch}};
  if (!fetch) spec.mounts.push_back({in.out_dir, "/out", true});
  spec.cwd = "/src";
  env["SOURCE_DATE_EPOCH"] = std::to_string(in.source_date_epoch);
  spec.env = std::move(env);
  spec.timeout = kPhaseTimeout;
  const char* name = fetch ? "fetch" : "build";
  LUNAL_ASSIGN_OR_RETURN(SandboxResult run, RunInSandbox(spec));
  log += fmt::format("== {} phase: exit {}{}, {} ms\n", name, run.exit_code,
                     run.timed_out ? " (timed out)" : "", run.duration.count());
  log += run.log;
  if (!run.log.empty() && run.log.back() != '\n') log += '\n';
  if (run.timed_out) {
    return DeadlineExceeded("build.timeout", "the {} phase did not finish within {} s", name,
                            spec.timeout.count());
  }
  if (run.exit_code != 0) {
    return InvalidArgument("build.phase_failed", "the {} phase failed with exit code {}:\n{}", name,
                           run.exit_code, LastLines(run.log, 20));
  }
  return Status::Ok();
}

Status CheckFolder(const fs::path& dir, std::string_view what, bool must_be_empty) {
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) {
    return InvalidArgument("build.recipe.bad_input", "{} {} is not a folder", what, dir.string());
  }
  if (must_be_empty && !fs::is_empty(dir, ec)) {
    return InvalidArgument("build.recipe.bad_input", "{} {} is not empty", what, dir.string());
  }
  return Status::Ok();
}

}  // namespace

Result<RecipeRun> RunRecipe(const RecipeInput& input) {
  if (input.config == nullptr) {
    return InvalidArgument("build.recipe.bad_input", "RunRecipe needs a configuration");
  }
  if (input.source_date_epoch < 0) {
    return InvalidArgument("build.recipe.bad_input", "SOURCE_DATE_EPOCH {} is negative",
                           input.source_date_epoch);
  }
  const Config& config = *input.config;
  if (config.container.has_value()) {
    return Unsupported("build.container_unsupported",
                       "container mode (a Dockerfile build) is not supported by the hermetic "
                       "build yet; use a runtime section");
  }
  if (!config.runtime.has_value()) {
    return InvalidArgument("build.recipe.no_runtime", "the configuration has no runtime section");
  }
  LUNAL_RETURN_IF_ERROR(CheckFolder(input.source_dir, "source", false));
  LUNAL_RETURN_IF_ERROR(CheckFolder(input.deps_dir, "deps", true));
  LUNAL_RETURN_IF_ERROR(CheckFolder(input.out_dir, "out", true));
  RecipeInput in = input;
  std::error_code ec;
  in.source_dir = fs::absolute(input.source_dir, ec);
  in.deps_dir = fs::absolute(input.deps_dir, ec);
  in.out_dir = fs::absolute(input.out_dir, ec);

  const Runtime& rt = *config.runtime;
  Result<Plan> planned = Unsupported("build.recipe.unknown_language",
                                     "no build recipe for runtime language {:?}", rt.language);
  if (rt.language == "python") planned = PythonPlan(in, rt);
  if (rt.language == "node") planned = NodePlan(in);
  if (rt.language == "go") planned = GoPlan(in, rt);
  if (rt.language == "static") planned = StaticPlan();
  if (!planned.ok()) return std::move(planned).error();
  Plan plan = std::move(planned).value();
  plan.build_env["LUNAL_RECIPE"] = plan.recipe;
  plan.fetch_env["LUNAL_RECIPE"] = plan.recipe;

  auto progress = [&](std::string_view line) {
    if (input.progress) input.progress(line);
  };
  RecipeRun run;
  run.recipe = plan.recipe;
  run.lockfiles = plan.lockfiles;
  run.environment = FixedEnvironment(input.source_date_epoch);
  run.environment.insert(plan.build_env.begin(), plan.build_env.end());

  std::sort(plan.tools.begin(), plan.tools.end());
  for (const std::string& tool : plan.tools) {
    progress(fmt::format("{}: identifying {}", plan.recipe, tool));
    LUNAL_ASSIGN_OR_RETURN(ToolIdentity id, IdentifyTool(tool));
    run.toolchain.push_back(std::move(id));
  }
  if (!plan.fetch_argv.empty()) {
    progress(fmt::format("{}: fetch phase (network): {}", plan.recipe, plan.fetch_label));
    Status fetched = RunPhase(in, Phase::kFetch, plan.fetch_argv, plan.fetch_env, run.log);
    if (!fetched.ok()) return fetched;
  }
  progress(fmt::format("{}: build phase (no network): {}", plan.recipe, plan.build_label));
  LUNAL_RETURN_IF_ERROR(RunPhase(in, Phase::kBuild, plan.build_argv, plan.build_env, run.log));
  return run;
}

}  // namespace lunal::build
