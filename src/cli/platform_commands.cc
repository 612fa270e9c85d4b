// The platform commands (platform_commands.h) over the control-plane API (api_client.h).
#include "platform_commands.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "api_client.h"
#include "lunal/attest/deployment_record.h"
#include "lunal/attest/engine/verifier.h"
#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/cli/client_config.h"
#include "lunal/cli/output.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/common/time.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/x509.h"

namespace lunal::cli {

namespace fs = std::filesystem;

struct PlatformState {
  VerifyFlags* verify = nullptr;
  std::string api, token;  // --api / --token of whichever command runs
  CLI::App* login = nullptr;
  CLI::App* deploy = nullptr;
  std::string deploy_path = ".", deploy_name, deploy_env = "production", deploy_branch;
  std::string deploy_project;
  int deploy_instances = -1;
  std::string deploy_hash_file;  // --hash-file: where the build's hash.txt goes, for `lunal sign`
  CLI::App* status = nullptr;
  std::string app_name;
  CLI::App* attestation_status = nullptr;
  CLI::App* verify_cmd = nullptr;
  std::string deployment;
  CLI::App* upload = nullptr;
  std::string signature_file, message_file;
  CLI::App* logs = nullptr;
  bool follow = false;
  std::string instance;
  CLI::App* scale = nullptr;
  int scale_instances = -1;
  CLI::App* projects = nullptr;
  CLI::App* projects_create = nullptr;
  CLI::App* projects_delete = nullptr;
  std::string project_name, project_description;
};

PlatformCommands::PlatformCommands(std::unique_ptr<PlatformState> state)
    : state_(std::move(state)) {}
PlatformCommands::PlatformCommands(PlatformCommands&&) noexcept = default;
PlatformCommands& PlatformCommands::operator=(PlatformCommands&&) noexcept = default;
PlatformCommands::~PlatformCommands() = default;

namespace {

constexpr std::size_t kMaxUploadBytes = std::size_t{64} << 20;  // the API's limit

// ---- Shared helpers ----

void AddApiFlags(CLI::App* cmd, PlatformState& s) {
  cmd->add_option("--api", s.api, "Control-plane API URL (else LUNAL_API, else the config file)");
  cmd->add_option("--token", s.token, "API token (else LUNAL_TOKEN, else the config file)");
}

Result<ClientConfig> Config(const PlatformState& s) {
  ClientConfigInputs inputs;
  if (!s.api.empty()) inputs.flag_api = s.api;
  if (!s.token.empty()) inputs.flag_token = s.token;
  return LoadClientConfig(inputs);
}

Result<ApiClient> Api(const PlatformState& s) {
  LUNAL_ASSIGN_OR_RETURN(ClientConfig config, Config(s));
  if (config.token.empty()) {
    return Unauthenticated("cli.no_token",
                           "no API token: run 'lunal login --token T', or set LUNAL_TOKEN");
  }
  return ApiClient::Create(config);
}

std::string D(std::string_view name) { return "/v1/deployments/" + ApiClient::Escape(name); }

std::string Str(const Json& j, std::string_view key) {
  if (!j.is_object()) return "";
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

bool Tty() { return isatty(STDOUT_FILENO) == 1; }

std::string HumanBytes(std::uint64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  if (n < (1u << 20)) return fmt::format("{:.1f} KiB", static_cast<double>(n) / 1024.0);
  return fmt::format("{:.1f} MiB", static_cast<double>(n) / (1024.0 * 1024.0));
}

// "sha256:7a9d2e4cdf81" (the first 12 hex digits), as `git log --oneline` shortens.
std::string ShortHash(std::string_view hash) {
  return std::string(hash.substr(0, std::min<std::size_t>(hash.size(), 19)));
}

std::string TeeName(const Json& tee) {
  const std::string type = tee.is_object() ? Str(tee, "type") : "";
  std::string name = type == "tdx"   ? "Intel TDX"
                     : type == "snp" ? "AMD SEV-SNP"
                                     : (type.empty() ? std::string("unknown") : type);
  if (tee.is_object() && tee.value("simulated", false)) name += " (simulated)";
  return name;
}

// "2 minutes ago", from an RFC 3339 time.
std::string Ago(std::string_view rfc3339, Timestamp now) {
  auto t = ParseRfc3339(rfc3339);
  if (!t.ok()) return std::string(rfc3339);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - *t).count();
  auto unit = [](std::int64_t n, std::string_view what) {
    return fmt::format("{} {}{} ago", n, what, n == 1 ? "" : "s");
  };
  if (seconds < 0) return "just now";
  if (seconds < 60) return unit(seconds, "second");
  if (seconds < 3600) return unit(seconds / 60, "minute");
  if (seconds < 86400) return unit(seconds / 3600, "hour");
  return unit(seconds / 86400, "day");
}

// ---- lunal login ----

// Writes the config file (mode 0600) atomically: a temporary file beside it, fsync, rename.
Status WriteConfigFile(const std::string& path, const std::string& api, const std::string& token) {
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
      return Unavailable("cli.config_write_failed", "{}: {}", target.parent_path().string(),
                         ec.message());
    }
  }
  const std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Unavailable("cli.config_write_failed", "{}: cannot create", tmp);
  const std::string text =
      fmt::format("# Written by 'lunal login'.\napi: \"{}\"\ntoken: \"{}\"\n", api, token);
  bool ok = fchmod(fd, 0600) == 0;
  std::size_t done = 0;
  while (ok && done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0)
      ok = false;
    else
      done += static_cast<std::size_t>(n);
  }
  ok = ok && fsync(fd) == 0;
  ok = (close(fd) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Unavailable("cli.config_write_failed", "{}: cannot write", path);
  }
  return Status();
}

Result<int> RunLogin(const PlatformState& s, bool json) {
  LUNAL_ASSIGN_OR_RETURN(ClientConfig config, Config(s));
  if (config.token.empty()) {
    return InvalidArgument("cli.no_token", "lunal login needs --token T (or LUNAL_TOKEN)");
  }
  LUNAL_ASSIGN_OR_RETURN(ApiClient api, ApiClient::Create(config));
  LUNAL_ASSIGN_OR_RETURN(Json whoami, api.Get("/v1/whoami"));
  const std::string path = ClientConfigPath();
  LUNAL_RETURN_IF_ERROR(WriteConfigFile(path, api.base_url(), config.token));
  if (json) {
    PrintJson({{"api", api.base_url()}, {"tenant", whoami.value("tenant", "")}, {"config", path}});
  } else {
    fmt::print("Logged in to {} as tenant {}\n", api.base_url(), Str(whoami, "tenant"));
  }
  return kExitOk;
}

// ---- lunal deploy ----

// A DNS label (RFC 1035 §2.3.1): lower-case letters, digits and '-', 1..63, no '-' at the ends.
std::string DnsLabel(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out.push_back(static_cast<char>(std::tolower(u)));
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
  }
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

bool IsGitUrl(std::string_view p) {
  return p.rfind("https://", 0) == 0 || p.rfind("http://", 0) == 0 || p.rfind("git@", 0) == 0 ||
         p.rfind("ssh://", 0) == 0 || p.rfind("git://", 0) == 0;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsArchiveName(std::string_view p) {
  return EndsWith(p, ".tar.gz") || EndsWith(p, ".tgz") || EndsWith(p, ".tar") ||
         EndsWith(p, ".zip");
}

std::string DefaultName(const std::string& path) {
  std::string base;
  if (IsGitUrl(path)) {
    std::string_view p = path;
    while (!p.empty() && p.back() == '/') p.remove_suffix(1);
    if (EndsWith(p, ".git")) p.remove_suffix(4);
    base = std::string(p.substr(p.find_last_of("/:") + 1));
  } else {
    std::error_code ec;
    fs::path abs = fs::weakly_canonical(fs::absolute(path), ec);
    base = abs.filename().string();
    for (const char* ext : {".tar.gz", ".tgz", ".tar", ".zip"}) {
      if (EndsWith(base, ext)) base.resize(base.size() - std::string_view(ext).size());
    }
  }
  return DnsLabel(base);
}

// The folder as a gzip'd pax tar in memory (the intake reads it like any upload), without .git
// and .lunal (local state). Symlinks are stored as links; other special files are skipped.
Result<std::string> PackFolder(const fs::path& dir) {
  std::string out;
  struct Writer {
    static la_ssize_t Write(struct archive*, void* data, const void* buffer, size_t n) {
      auto* sink = static_cast<std::string*>(data);
      sink->append(static_cast<const char*>(buffer), n);
      return static_cast<la_ssize_t>(n);
    }
  };
  std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(),
                                                            &archive_write_free);
  archive_write_set_format_pax_restricted(a.get());
  archive_write_add_filter_gzip(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &out, nullptr, &Writer::Write, nullptr) != ARCHIVE_OK) {
    return Internal("cli.pack", "libarchive: {}", archive_error_string(a.get()));
  }
  std::vector<fs::path> paths;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it.depth() == 0 && (name == ".git" || name == ".lunal")) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    paths.push_back(it->path());
  }
  if (ec) return InvalidArgument("cli.deploy.unreadable", "{}: {}", dir.string(), ec.message());
  std::sort(paths.begin(), paths.end());
  std::vector<char> buffer(1 << 16);
  std::uint64_t total = 0;
  for (const fs::path& p : paths) {
    const std::string rel = fs::relative(p, dir).generic_string();
    const auto status = fs::symlink_status(p, ec);
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                    &archive_entry_free);
    archive_entry_set_pathname(e.get(), rel.c_str());
    archive_entry_set_mtime(e.get(), 0, 0);
    if (fs::is_symlink(status)) {
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      archive_entry_set_perm(e.get(), 0777);
      archive_entry_set_symlink(e.get(), fs::read_symlink(p, ec).string().c_str());
    } else if (fs::is_directory(status)) {
      archive_entry_set_filetype(e.get(), AE_IFDIR);
      archive_entry_set_perm(e.get(), 0755);
    } else if (fs::is_regular_file(status)) {
      const auto size = fs::file_size(p, ec);
      total += size;
      if (total > kMaxUploadBytes) {
        return ResourceExhausted("cli.deploy.too_large", "{}: more than {} MiB to upload",
                                 dir.string(), kMaxUploadBytes >> 20);
      }
      const bool exec = (status.permissions() & fs::perms::owner_exec) != fs::perms::none;
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_perm(e.get(), exec ? 0755 : 0644);
      archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
    } else {
      continue;
    }
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) {
      return Internal("cli.pack", "{}: {}", rel, archive_error_string(a.get()));
    }
    if (fs::is_regular_file(status)) {
      std::ifstream in(p, std::ios::binary);
      while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const auto n = in.gcount();
        if (n > 0 && archive_write_data(a.get(), buffer.data(), static_cast<size_t>(n)) < 0) {
          return Internal("cli.pack", "{}: {}", rel, archive_error_string(a.get()));
        }
      }
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return Internal("cli.pack", "libarchive: {}", archive_error_string(a.get()));
  }
  return out;
}

Result<std::string> ReadSmallFile(std::string_view flag, const std::string& path,
                                  std::size_t limit) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return InvalidArgument("cli.file_not_found", "{} {}: no such file", flag, path);
  }
  if (fs::file_size(path, ec) > limit) {
    return ResourceExhausted("cli.file_too_large", "{} {}: larger than {} bytes", flag, path,
                             limit);
  }
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Prints deploy progress: ✓ marks on a terminal, plain lines otherwise, JSON lines with --json.
class Progress {
 public:
  explicit Progress(bool json) : json_(json), tty_(!json && Tty()) {}
  void Stage(std::string_view stage, std::string_view text, bool done, Json data = nullptr) {
    if (json_) {
      Json line = {{"stage", stage}, {"message", text}, {"done", done}};
      if (!data.is_null()) line["data"] = std::move(data);
      fmt::print("{}\n", line.dump());
    } else if (tty_) {
      fmt::print("{} {:<7} {}\n", done ? "\033[32m✓\033[0m" : "•", stage, text);
    } else {
      fmt::print("{}: {}\n", stage, text);
    }
    std::fflush(stdout);
  }
  void Detail(std::string_view stage, std::string_view text) {
    if (json_) {
      fmt::print("{}\n", Json{{"stage", stage}, {"message", text}, {"done", false}}.dump());
    } else if (tty_) {
      fmt::print("\033[2m          {}\033[0m\n", text);
    } else {
      fmt::print("{}: {}\n", stage, text);
    }
    std::fflush(stdout);
  }

 private:
  bool json_, tty_;
};

// One event of GET .../events, printed as its stage. Returns true when the deploy ended.
bool ShowEvent(Progress& p, const Json& e, Json& outcome) {
  const std::string kind = Str(e, "kind");
  const Json data = e.value("data", Json::object());
  if (kind == "build.started")
    p.Stage("build", "started", false);
  else if (kind == "build.progress")
    p.Detail("build", Str(e, "message"));
  else if (kind == "build.finished")
    p.Stage("build", Str(data, "build_hash"), true, data);
  else if (kind == "allow_list") {
    p.Stage("allow", fmt::format("build allowed (allow-list version {})", Str(data, "version")),
            true, data);
  } else if (kind == "launch.started")
    p.Stage("launch", Str(data, "instance_id"), false, data);
  else if (kind == "instance.ready") {
    p.Stage("launch", fmt::format("{} ready at {}", Str(data, "instance_id"), Str(data, "address")),
            true, data);
  } else if (kind == "running") {
    outcome = {{"status", "running"}, {"url", Str(data, "url")}};
    return true;
  } else if (kind == "failed") {
    outcome = {
        {"status", "failed"}, {"reason", Str(data, "reason")}, {"message", Str(e, "message")}};
    return true;
  } else if (kind == "instance.exited") {
    p.Detail("launch", fmt::format("{} exited: {}", Str(data, "instance_id"), Str(data, "reason")));
  }
  return false;
}

Result<int> RunDeploy(const PlatformState& s, bool json) {
  LUNAL_ASSIGN_OR_RETURN(ApiClient api, Api(s));
  if (s.deploy_env != "production" && s.deploy_env != "development") {
    return InvalidArgument("cli.deploy.bad_env", "--env {}: use production or development",
                           s.deploy_env);
  }
  const std::string name = s.deploy_name.empty() ? DefaultName(s.deploy_path) : s.deploy_name;
  if (name.empty() || DnsLabel(name) != name) {
    return InvalidArgument("cli.deploy.bad_name",
                           "deployment name \"{}\" is not a DNS label (a-z, 0-9, '-'); give --name",
                           name);
  }
  Progress progress(json);
  Json request = {{"name", name}, {"environment", s.deploy_env}};
  if (!s.deploy_branch.empty()) request["branch"] = s.deploy_branch;
  if (!s.deploy_project.empty()) request["project"] = s.deploy_project;
  if (s.deploy_instances >= 0) request["instances"] = s.deploy_instances;
  if (IsGitUrl(s.deploy_path)) {
    request["source"] = {{"type", "git"}, {"url", s.deploy_path}};
    if (!s.deploy_branch.empty()) request["source"]["ref"] = s.deploy_branch;
  } else {
    std::error_code ec;
    std::string body;
    if (fs::is_directory(s.deploy_path, ec)) {
      LUNAL_ASSIGN_OR_RETURN(body, PackFolder(s.deploy_path));
    } else if (IsArchiveName(s.deploy_path)) {
      LUNAL_ASSIGN_OR_RETURN(body, ReadSmallFile("PATH", s.deploy_path, kMaxUploadBytes));
    } else {
      return InvalidArgument("cli.deploy.bad_path",
                             "{}: not a folder, a .tar.gz/.tgz/.tar/.zip archive or a git URL",
                             s.deploy_path);
    }
    const std::size_t bytes = body.size();
    LUNAL_ASSIGN_OR_RETURN(Json upload, api.PostBytes("/v1/uploads", std::move(body)));
    progress.Stage("upload", fmt::format("{} ({})", HumanBytes(bytes), Str(upload, "upload_id")),
                   true, upload);
    request["source"] = {{"type", "upload"}, {"upload_id", Str(upload, "upload_id")}};
  }
  // Redeploying a name replays the earlier revisions' events first: start after the last of
  // them (a name never deployed has none: 404).
  std::int64_t after = 0;
  Result<Json> earlier = api.Get(fmt::format("{}/events?after=0&wait=0", D(name)));
  if (earlier.ok()) {
    for (const Json& e : earlier->value("events", Json::array())) {
      after = std::max<std::int64_t>(after, e.value("seq", after));
    }
  } else if (earlier.error().code() != Code::kNotFound) {
    return earlier.error();
  }
  LUNAL_ASSIGN_OR_RETURN(Json created, api.Post("/v1/deployments", request));

  // Follow the events (long polls) until the deployment runs or fails.
  Json outcome;
  for (bool done = false; !done;) {
    LUNAL_ASSIGN_OR_RETURN(Json page,
                           api.Get(fmt::format("{}/events?after={}&wait=25", D(name), after)));
    for (const Json& e : page.value("events", Json::array())) {
      after = std::max<std::int64_t>(after, e.value("seq", after));
      if (ShowEvent(progress, e, outcome)) {
        done = true;
        break;
      }
    }
    const std::string state = Str(page, "state");
    if (!done && (state == "failed" || state == "deleted")) {
      outcome = {{"status", state},
                 {"reason", "control.deployment." + state},
                 {"message", "the deployment is " + state}};
      done = true;
    }
  }
  if (outcome["status"] != "running") {
    if (json) {
      PrintJson(outcome);
    } else {
      fmt::print("✗ Deployment {} failed: {} [{}]\n", name, Str(outcome, "message"),
                 Str(outcome, "reason"));
    }
    return kExitFailed;
  }
  LUNAL_ASSIGN_OR_RETURN(Json d, api.Get(D(name)));
  const Json att = d.value("attestation", Json::object());
  std::string url = Str(outcome, "url").empty() ? Str(d, "url") : Str(outcome, "url");
  if (!url.empty() && url.back() != '/') url.push_back('/');
  const bool simulated = att.is_object() && att.value("simulated", false);
  progress.Stage("attest",
                 fmt::format("{} {}",
                             TeeName(att.is_object()
                                         ? Json{{"type", Str(att, "tee")}, {"simulated", simulated}}
                                         : Json()),
                             Str(att, "status").empty() ? "pending" : Str(att, "status")),
                 Str(att, "status") == "verified", att);
  if (!s.deploy_hash_file.empty()) {
    // The build's hash.txt exactly as the platform built it (the bytes `lunal sign` signs); a
    // reproducible `lunal build` of the same source gives the same file.
    LUNAL_ASSIGN_OR_RETURN(Json build, api.Get(D(name) + "/build"));
    const std::string hash_txt = Str(build, "hash_txt");
    if (hash_txt.rfind("sha256:", 0) != 0) {
      return Malformed("cli.bad_response", "GET {}/build: no hash_txt in the answer", D(name));
    }
    LUNAL_RETURN_IF_ERROR(WriteFileAtomically(s.deploy_hash_file, hash_txt, 0644));
  }
  if (json) {
    PrintJson({{"status", "running"}, {"name", name}, {"url", url}, {"deployment", d}});
    return kExitOk;
  }
  fmt::print("\nDeployed {}: {}\n", name, url);
  fmt::print("  curl {}api/hello\n", url);
  fmt::print("Attestation: {}, build hash {}\n", Str(att, "tee").empty() ? "none" : Str(att, "tee"),
             Str(d, "build_hash"));
  if (simulated) fmt::print("⚠ simulated TEE: no hardware protects this instance\n");
  fmt::print("Verify it yourself: lunal attestation verify --deployment {}\n", name);
  if (!s.deploy_hash_file.empty()) {
    fmt::print("Build hash written to {}; sign it with: lunal sign --hash-file {} --key KEY\n",
               s.deploy_hash_file, s.deploy_hash_file);
  }
  return kExitOk;
}

// ---- lunal status ----

int RunningCount(const Json& d) {
  int n = 0;
  for (const Json& i : d.value("instances", Json::array())) n += Str(i, "state") == "running";
  return n;
}

void PrintDeployment(const Json& d) {
  fmt::print("Name:        {}\n", Str(d, "name"));
  fmt::print("State:       {}{}\n", Str(d, "state"),
             Str(d, "reason").empty()
                 ? ""
                 : fmt::format(" ({}: {})", Str(d, "reason"), Str(d, "message")));
  fmt::print("Environment: {}\n", Str(d, "environment"));
  fmt::print("URL:         {}\n", Str(d, "url").empty() ? "-" : Str(d, "url"));
  fmt::print("Build hash:  {}\n", Str(d, "build_hash").empty() ? "-" : Str(d, "build_hash"));
  fmt::print("Instances:   {} running, {} desired\n", RunningCount(d), Str(d, "instances_desired"));
  for (const Json& i : d.value("instances", Json::array())) {
    fmt::print("  {}  {:<8} {}  since {}\n", Str(i, "id"), Str(i, "state"), Str(i, "address"),
               Str(i, "started_at"));
  }
  const Json att = d.value("attestation", Json());
  if (att.is_object()) {
    fmt::print("Attestation: {} ({}{}), last verified {}\n", Str(att, "status"), Str(att, "tee"),
               att.value("simulated", false) ? ", simulated" : "", Str(att, "last_verified"));
  }
}

Result<int> RunStatus(const PlatformState& s, bool json) {
  LUNAL_ASSIGN_OR_RETURN(ApiClient api, Api(s));
  if (!s.app_name.empty()) {
    LUNAL_ASSIGN_OR_RETURN(Json d, api.Get(D(s.app_name)));
    if (json)
      PrintJson(d);
    else
      PrintDeployment(d);
    return kExitOk;
  }
  LUNAL_ASSIGN_OR_RETURN(Json list, api.Get("/v1/deployments"));
  if (json) {
    PrintJson(list);
    return kExitOk;
  }
  const Json deployments = list.value("deployments", Json::array());
  if (deployments.empty()) {
    fmt::print("No deployments yet: run 'lunal deploy' in your project's folder.\n");
    return kExitOk;
  }
  fmt::print("{:<24} {:<10} {:<10} {:<40} {}\n", "NAME", "STATE", "INSTANCES", "URL", "BUILD");
  for (const Json& d : deployments) {
    fmt::print("{:<24} {:<10} {:<10} {:<40} {}\n", Str(d, "name"), Str(d, "state"),
               fmt::format("{}/{}", RunningCount(d), Str(d, "instances_desired")),
               Str(d, "url").empty() ? "-" : Str(d, "url"),
               Str(d, "build_hash").empty() ? "-" : ShortHash(Str(d, "build_hash")));
  }
  return kExitOk;
}

// ---- lunal projects ----

Result<int> RunProjects(const PlatformState& s, bool json) {
  LUNAL_ASSIGN_OR_RETURN(ApiClient api, Api(s));
  if (s.projects_create->parsed()) {
    Json body = {{"name", s.project_name}};
    if (!s.project_description.empty()) body["description"] = s.project_description;
    LUNAL_ASSIGN_OR_RETURN(Json p, api.Post("/v1/projects", body));
    if (json) {
      PrintJson(p);
    } else {
      fmt::print("Created project {}\n", Str(p, "name"));
    }
    return kExitOk;
  }
  if (s.projects_delete->parsed()) {
    LUNAL_ASSIGN_OR_RETURN(Json r, api.Delete("/v1/projects/" + ApiClient::Escape(s.project_name)));
    if (json) {
      PrintJson(r);
    } else {
      fmt::print("Deleted project {}\n", s.project_name);
    }
    return kExitOk;
  }
  LUNAL_ASSIGN_OR_RETURN(Json list, api.Get("/v1/projects"));
  if (json) {
    PrintJson(list);
    return kExitOk;
  }
  const Json projects = list.value("projects", Json::array());
  if (projects.empty()) {
    fmt::print("No projects yet: lunal projects create NAME, or lunal deploy --project NAME\n");
    return kExitOk;
  }
  fmt::print("{:<24} {:<40} {}\n", "NAME", "DEPLOYMENTS", "DESCRIPTION");
  for (const Json& p : projects) {
    std::string names;
    for (const Json& d : p.value("deployments", Json::array())) {
      if (!names.empty()) names.push_back(',');
      names.append(d.get<std::string>());
    }
    fmt::print("{:<24} {:<40} {}\n", Str(p, "name"), names.empty() ? "-" : names,
               Str(p, "description"));
  }
  return kExitOk;
}

// ---- lunal attestation status ----

Result<int> RunAttestationStatus(const PlatformState& s, bool json) {
  LUNAL_ASSIGN_OR_RETURN(ApiClient api, Api(s));
  Result<Json> record = api.Get(D(s.app_name) + "/attestation");
  if (!record.ok() && record.error().code() != Code::kConflict) return record.error();
  if (json) {
    if (record.ok())
      PrintJson(*record);
    else
      PrintJson(ErrorJson(record.error()));
  }
  if (record.ok() && Str(*record, "status") == "verified") {
    if (!json) {
      const Json& a = (*record)["attestation"];
      fmt::print("✅ Application \"{}\" is running with valid attestation\n", s.app_name);
      fmt::print("Attestation Provider: {}\n", TeeName(a.value("tee", Json())));
      const std::string last = Str(*record, "last_verified").empty()
                                   ? Str(a, "timestamp")
                                   : Str(*record, "last_verified");
      fmt::print("Last verified: {}\n", Ago(last, SystemClock::Instance().Now()));
    }
    return kExitOk;
  }
  if (!json) {
    std::string why;
    if (!record.ok()) {
      why = fmt::format("{} [{}]", record.error().message(), record.error().reason());
    } else {
      const Json error = record->value("error", Json::object());
      why = error.is_object() && !Str(error, "reason").empty()
                ? fmt::format("{} [{}]", Str(error, "message"), Str(error, "reason"))
                : "attestation " + Str(*record, "status");
    }
    fmt::print("❌ Application \"{}\" is not running with valid attestation: {}\n", s.app_name, why);
  }
  return kExitFailed;
}

// ---- lunal attestation verify --deployment ----

// The collateral the bundle carries, as a source (no fetching: verification is local).
class BundleSource final : public attest::collateral::CollateralSource {
 public:
  explicit BundleSource(std::shared_ptr<const attest::tdx::CollateralPool> pool)
      : pool_(std::move(pool)) {}
  Result<std::shared_ptr<const attest::tdx::CollateralPool>> TdxPool(
      const attest::collateral::TdxNeed&, Timestamp) override {
    return pool_;
  }
  Result<Bytes> SnpVcek(const attest::collateral::SnpNeed&, Timestamp) override {
    return Unavailable("collateral.unavailable", "the evidence bundle carries no VCEK");
  }
  Result<std::vector<Bytes>> SnpCrls(attest::snp::Product, Timestamp) override {
    return std::vector<Bytes>{};
  }
  std::vector<attest::collateral::DocumentInfo> Describe(Timestamp) const override { return {}; }

 private:
  std::shared_ptr<const attest::tdx::CollateralPool> pool_;
};

Result<crypto::Certificate> ParseRootCertificate(std::string_view what, std::string_view text) {
  auto chain = crypto::ParsePemChain(text);
  if (chain.ok() && !chain->empty()) return std::move(chain->front());
  auto der = crypto::Certificate::FromDer(AsBytes(text));
  if (!der.ok()) return std::move(der).error().WithContext(std::string(what) + ": ");
  return der;
}

void PrintVerified(const std::string& name, const Json& record, bool simulated_trust_warned) {
  const Json& a = record["attestation"];
  const Json& m = a["measurements"];
  const Json& p = a["platform_verification"];
  fmt::print("✅ Attestation verification complete for deployment: {}\n\n", name);
  fmt::print("Deployment ID: {}\n", Str(a, "deployment_id"));
  fmt::print("Instance: {}\n", Str(a, "instance_id"));
  fmt::print("Build Hash: {}\n", Str(a, "build_hash"));
  std::string when = Str(a, "timestamp");
  if (when.size() >= 20) when = when.substr(0, 10) + " " + when.substr(11, 8) + " UTC";
  fmt::print("Verification Time: {}\n\n", when);
  fmt::print("TEE Measurements ({}):\n", TeeName(a["tee"]));
  if (a["tee"].value("type", "") == "tdx") {
    fmt::print("  MRTD: {}\n", Str(m, "mr_td"));
    for (int i = 0; i < 4; ++i) {
      fmt::print("  RTMR{}: {}\n", i, Str(m, fmt::format("rtmr{}", i)));
    }
  } else {
    fmt::print("  MEASUREMENT: {}\n", Str(m, "measurement"));
    fmt::print("  HOST_DATA: {}\n", Str(m, "host_data"));
  }
  fmt::print("  REPORT_DATA binds: instance key {}, nonce {}\n",
             Str(a["report_data_binding"], "instance_key_sha256"),
             Str(a["report_data_binding"], "nonce"));
  fmt::print("  Event log: replayed, build hash event {}\n\n",
             a["event_log"].value("build_hash_event", false) ? "present" : "missing");
  const Json& sv = a["signature_verification"];
  if (sv.is_object()) {
    fmt::print("Developer Signature: VALID ✓\n");
    fmt::print("  Developer: {}\n", Str(sv, "developer_id"));
    fmt::print("  Key Fingerprint: {}\n\n", Str(sv, "key_id"));
  } else {
    fmt::print("Developer Signature: none uploaded\n\n");
  }
  fmt::print("Platform Verification: SECURE ✓\n");
  fmt::print("  TCB Status: {}\n", Str(p, "tcb_status"));
  fmt::print("  QE Identity: {}\n", Str(p, "qe_identity_status"));
  fmt::print("  Certificate chain: {}\n\n", Str(p, "certificate_chain"));
  if (a["tee"].value("simulated", false)) {
    fmt::print("⚠ simulated TEE: no hardware protects this instance{}\n",
               simulated_trust_warned ? "" : " (simulation root trusted by --sim-root)");
  } else {
    fmt::print("The deployment is running in a genuine TEE environment.\n");
  }
}

Result<int> RunVerifyDeployment(const PlatformState& s, bool json) {
  LUNAL_ASSIGN_OR_RETURN(ApiClient api, Api(s));
  const std::string& name = s.deployment;
  LUNAL_ASSIGN_OR_RETURN(Json served, api.Get(D(name) + "/evidence"));
  LUNAL_ASSIGN_OR_RETURN(attest::DeploymentEvidence bundle,
                         attest::ParseDeploymentEvidence(served));

  // Which simulation root to trust: --sim-root, or the dev platform's own (announced).
  std::optional<crypto::Certificate> sim_root;
  bool from_platform = false;
  if (!s.verify->sim_root.empty()) {
    LUNAL_ASSIGN_OR_RETURN(std::string text,
                           ReadSmallFile("--sim-root", s.verify->sim_root, 1 << 20));
    LUNAL_ASSIGN_OR_RETURN(sim_root,
                           ParseRootCertificate("--sim-root " + s.verify->sim_root, text));
  } else {
    LUNAL_ASSIGN_OR_RETURN(Json platform, api.Get("/v1/platform"));
    if (Str(platform, "mode") == "dev" && !Str(platform, "sim_root_pem").empty()) {
      LUNAL_ASSIGN_OR_RETURN(sim_root,
                             ParseRootCertificate("sim_root_pem", Str(platform, "sim_root_pem")));
      from_platform = true;
      fmt::print(stderr,
                 "⚠ trusting the dev platform's Lunal Simulation Root CA (SHA-256 {}) as served "
                 "by {}; pin it with --sim-root FILE\n",
                 HexEncode(crypto::Sha256(sim_root->Der())), api.base_url());
    }
  }

  std::vector<attest::tdx::PoolInput> files;
  const Json collateral = served.value("collateral", Json::object());
  for (const auto& [file_name, b64] : collateral.items()) {
    if (!b64.is_string()) continue;
    auto bytes = Base64Decode(b64.get<std::string>());
    if (!bytes.ok()) return std::move(bytes).error().WithContext("collateral " + file_name + ": ");
    files.push_back({.name = file_name, .bytes = std::move(*bytes)});
  }
  attest::engine::LocalVerifierOptions options;
  attest::tdx::PoolOptions pool_options;
  if (sim_root) {
    const crypto::TrustAnchor anchor{
        .der_sha256 = crypto::Sha256(sim_root->Der()),
        .label = from_platform ? "Lunal Simulation Root CA (the dev platform's)"
                               : "Lunal Simulation Root CA (trusted by --sim-root)"};
    pool_options.anchors = {anchor};
    pool_options.extra_certificates = {*sim_root};
    pool_options.tcb_signer_common_name = "Lunal Simulated TCB Signing";
    options.simulated_anchors = {anchor};
  }
  options.collateral = std::make_shared<BundleSource>(
      attest::tdx::CollateralPool::Build(std::move(files), pool_options));
  auto verifier = attest::engine::MakeLocalVerifier(std::move(options));
  const Json record =
      attest::VerifyDeploymentRecord(bundle, *verifier, SystemClock::Instance().Now());

  const bool verified = Str(record, "status") == "verified";
  if (json) {
    PrintJson(record);
  } else if (verified) {
    PrintVerified(name, record, from_platform);
  } else {
    fmt::print("❌ Attestation verification FAILED for deployment: {}\n\n", name);
    if (record.contains("error")) {
      fmt::print("Reason: {}\n{}\n", Str(record["error"], "reason"),
                 Str(record["error"], "message"));
    } else {
      fmt::print("Reason: rejected by the policy\n");
      for (const Json& v : record["attestation"]["policy"].value("violations", Json::array())) {
        fmt::print("  - {} [{}]\n", Str(v, "message"), Str(v, "reason"));
      }
    }
  }
  return verified ? kExitOk : kExitFailed;
}

// ---- lunal upload, logs, scale ----

Result<int> RunUpload(const PlatformState& s, bool json) {
  LUNAL_ASSIGN_OR_RETURN(ApiClient api, Api(s));
  LUNAL_ASSIGN_OR_RETURN(std::string signature,
                         ReadSmallFile("--signature", s.signature_file, 64 << 10));
  Json body = {{"signature", signature}};
  if (!s.message_file.empty()) {
    LUNAL_ASSIGN_OR_RETURN(std::string message, ReadSmallFile("--message", s.message_file, 4096));
    body["message"] = message;
  }
  LUNAL_ASSIGN_OR_RETURN(Json stored, api.Post(D(s.deployment) + "/signatures", body));
  if (json) {
    PrintJson(stored);
  } else {
    fmt::print("Signature uploaded for deployment {}\n", s.deployment);
    fmt::print("  Developer: {}\n", Str(stored, "developer_id"));
    fmt::print("  Key: {}\n", Str(stored, "key_id"));
    fmt::print("  Build hash: {}\n", Str(stored, "build_hash"));
  }
  return kExitOk;
}

Result<int> RunLogs(const PlatformState& s, bool json) {
  LUNAL_ASSIGN_OR_RETURN(ApiClient api, Api(s));
  std::int64_t after = 0;
  // The API answers a page at a time: without -f, read pages until one comes back empty.
  bool more = true;
  while (more) {
    std::string path =
        fmt::format("{}/logs?after={}&wait={}", D(s.app_name), after, s.follow ? 25 : 0);
    if (!s.instance.empty()) path += "&instance=" + ApiClient::Escape(s.instance);
    LUNAL_ASSIGN_OR_RETURN(Json page, api.Get(path));
    const Json lines = page.value("logs", Json::array());
    more = s.follow || !lines.empty();
    for (const Json& l : lines) {
      after = std::max<std::int64_t>(after, l.value("seq", after));
      if (json) {
        fmt::print("{}\n", l.dump());
      } else {
        fmt::print("{} {} {} {}\n", Str(l, "time"), Str(l, "instance_id"), Str(l, "stream"),
                   Str(l, "line"));
      }
    }
    std::fflush(stdout);
  }
  return kExitOk;
}

Result<int> RunScale(const PlatformState& s, bool json) {
  LUNAL_ASSIGN_OR_RETURN(ApiClient api, Api(s));
  LUNAL_ASSIGN_OR_RETURN(Json d,
                         api.Post(D(s.app_name) + "/scale", {{"instances", s.scale_instances}}));
  if (json) {
    PrintJson(d);
  } else {
    fmt::print("Scaled {} to {} instance{} ({} running now)\n", s.app_name,
               Str(d, "instances_desired"), Str(d, "instances_desired") == "1" ? "" : "s",
               RunningCount(d));
  }
  return kExitOk;
}

}  // namespace

PlatformCommands AddPlatformCommands(CLI::App& app, VerifyFlags& verify) {
  auto state = std::make_unique<PlatformState>();
  PlatformState& s = *state;
  s.verify = &verify;

  s.login = app.add_subcommand("login", "Check an API token and save it in the config file");
  AddApiFlags(s.login, s);
  s.login->footer(
      "Examples:\n"
      "  lunal login --api http://localhost:7000 --token lnl_...\n"
      "  LUNAL_TOKEN=lnl_... lunal login\n"
      "The file is $LUNAL_CONFIG, $XDG_CONFIG_HOME/lunal/config.yaml or\n"
      "~/.config/lunal/config.yaml, written with mode 0600.");

  s.deploy = app.add_subcommand(
      "deploy", "Upload, build, launch in a TEE and attest a project; prints its URL");
  s.deploy->add_option("path", s.deploy_path,
                       "Project folder (default .), a .tar.gz/.tgz/.tar/.zip, or a git URL");
  s.deploy->add_option("--name", s.deploy_name,
                       "Deployment name (a DNS label); default: the folder's name");
  s.deploy->add_option("--env", s.deploy_env, "production (default) or development");
  s.deploy->add_option("--branch", s.deploy_branch, "Git branch or ref (git URLs)");
  s.deploy->add_option("--project", s.deploy_project,
                       "Group the deployment under this project (created if new)");
  s.deploy->add_option("--instances", s.deploy_instances,
                       "Instances to run; default: autoscaling.minInstances");
  s.deploy->add_option("--hash-file", s.deploy_hash_file,
                       "Write the build's hash.txt here (what `lunal sign` signs)");
  AddApiFlags(s.deploy, s);
  s.deploy->footer(
      "Examples:\n"
      "  lunal deploy\n"
      "  lunal deploy ./examples/hello --name hello --instances 2\n"
      "  lunal deploy ./examples/hello --hash-file hash.txt   # then lunal sign, lunal upload\n"
      "  lunal deploy https://github.com/acme/api.git --branch main --env development\n"
      "Exit status: 0 running, 1 the deployment failed (reason printed), 2 bad flags.");

  s.projects = app.add_subcommand("projects", "List projects (groups of deployments)");
  AddApiFlags(s.projects, s);
  s.projects_create = s.projects->add_subcommand("create", "Create a project");
  s.projects_create->add_option("name", s.project_name, "Project name (a DNS label)")->required();
  s.projects_create->add_option("--description", s.project_description, "What it is for");
  AddApiFlags(s.projects_create, s);
  s.projects_delete = s.projects->add_subcommand("delete", "Delete an empty project");
  s.projects_delete->add_option("name", s.project_name, "Project name")->required();
  AddApiFlags(s.projects_delete, s);
  s.projects->footer(
      "Examples:\n  lunal projects\n  lunal projects create shop --description \"the store\"\n"
      "  lunal deploy --name shop-api --project shop\n  lunal projects delete shop");

  s.status = app.add_subcommand("status", "List deployments, or show one");
  s.status->add_option("--app", s.app_name, "One deployment, in detail");
  AddApiFlags(s.status, s);
  s.status->footer("Examples:\n  lunal status\n  lunal status --app hello --json");

  CLI::App* attestation = app.get_subcommand("attestation");
  s.attestation_status =
      attestation->add_subcommand("status", "Whether a deployment runs with valid attestation");
  s.attestation_status->add_option("--app", s.app_name, "Deployment name")->required();
  AddApiFlags(s.attestation_status, s);
  s.attestation_status->footer(
      "Example:\n  lunal attestation status --app hello\n"
      "Exit status: 0 verified, 1 not running or not verified.");

  s.verify_cmd = attestation->get_subcommand("verify");
  s.verify_cmd->get_option("--evidence")->required(false);
  s.verify_cmd->add_option("--deployment", s.deployment,
                           "Fetch a deployment's evidence bundle from the API and verify it\n"
                           "locally: quote, collateral, REPORT_DATA binding, event log, mesh\n"
                           "certificate and developer signature");
  AddApiFlags(s.verify_cmd, s);
  s.verify_cmd->footer(s.verify_cmd->get_footer() +
                       "\n\nA deployment (fetched from the API, verified here):\n"
                       "  lunal attestation verify --deployment hello\n"
                       "  lunal attestation verify --deployment hello --sim-root root-ca.pem "
                       "--json");

  s.upload = app.add_subcommand("upload", "Upload a developer signature of a deployment's build");
  s.upload->add_option("--signature", s.signature_file, "hash.txt.sig from 'lunal sign'")
      ->required();
  s.upload->add_option("--deployment", s.deployment, "Deployment name")->required();
  s.upload->add_option("--message", s.message_file,
                       "The signed file (default: the build's hash.txt)");
  AddApiFlags(s.upload, s);
  s.upload->footer(
      "Example:\n"
      "  lunal sign --hash-file hash.txt --key ~/.ssh/id_ed25519\n"
      "  lunal upload --signature hash.txt.sig --deployment hello");

  s.logs = app.add_subcommand("logs", "Print a deployment's logs: time instance stream line");
  s.logs->add_option("--app", s.app_name, "Deployment name")->required();
  s.logs->add_flag("-f,--follow", s.follow, "Keep printing new lines");
  s.logs->add_option("--instance", s.instance, "Only this instance (\"build\": the build's)");
  AddApiFlags(s.logs, s);
  s.logs->footer("Examples:\n  lunal logs --app hello\n  lunal logs --app hello -f");

  s.scale = app.add_subcommand("scale", "Set how many instances a deployment runs");
  s.scale->add_option("--app", s.app_name, "Deployment name")->required();
  s.scale->add_option("--instances", s.scale_instances, "0 to 20")
      ->required()
      ->check(CLI::Range(0, 20));
  AddApiFlags(s.scale, s);
  s.scale->footer("Example:\n  lunal scale --app hello --instances 3");
  return PlatformCommands(std::move(state));
}

namespace {

// The API's answers are read with nlohmann's accessors, which throw on a member of an unexpected
// type: such an answer is the server's fault, reported as one (never a crash).
Result<int> Guarded(const std::function<Result<int>()>& run) {
  try {
    return run();
  } catch (const Json::exception& e) {
    return Malformed("cli.bad_api_response", "the API's answer has an unexpected shape: {}",
                     e.what());
  }
}

}  // namespace

std::optional<int> RunPlatformCommands(PlatformCommands& commands, bool json) {
  PlatformState& s = commands.state();
  const std::optional<int> exit_code = [&]() -> std::optional<int> {
    Result<int> result = kExitOk;
    if (s.login->parsed())
      result = Guarded([&] { return RunLogin(s, json); });
    else if (s.deploy->parsed())
      result = Guarded([&] { return RunDeploy(s, json); });
    else if (s.status->parsed())
      result = Guarded([&] { return RunStatus(s, json); });
    else if (s.attestation_status->parsed())
      result = Guarded([&] { return RunAttestationStatus(s, json); });
    else if (s.upload->parsed())
      result = Guarded([&] { return RunUpload(s, json); });
    else if (s.logs->parsed())
      result = Guarded([&] { return RunLogs(s, json); });
    else if (s.scale->parsed())
      result = Guarded([&] { return RunScale(s, json); });
    else if (s.projects->parsed())
      result = Guarded([&] { return RunProjects(s, json); });
    else if (s.verify_cmd->parsed()) {
      if (!s.deployment.empty() && !s.verify->evidence.empty()) {
        return ReportError(InvalidArgument("cli.usage",
                                           "give --evidence FILE or --deployment NAME, "
                                           "not both"),
                           json);
      }
      if (s.deployment.empty()) {
        if (s.verify->evidence.empty()) {
          return ReportError(
              InvalidArgument("cli.usage", "give --evidence FILE or --deployment NAME"), json);
        }
        return std::nullopt;  // app.cc's offline verification
      }
      result = Guarded([&] { return RunVerifyDeployment(s, json); });
    } else {
      return std::nullopt;
    }
    if (!result.ok()) return ReportError(result.error(), json);
    return *result;
  }();
  return exit_code;
}

}  // namespace lunal::cli
