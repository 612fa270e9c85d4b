// IntakeGit (a clone, a checkout and git ls-tree) and Intake (what `lunal build SPEC` calls).
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "internal.h"
#include "lunal/build/intake.h"
#include "lunal/common/subprocess.h"

namespace lunal::build {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kTree = "intake.tree";

struct GitOutput {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out = {};
  std::string err = {};
};
constexpr std::chrono::milliseconds kCloneTimeout{10 * 60 * 1000};
constexpr std::chrono::milliseconds kGitTimeout{2 * 60 * 1000};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// The URL forms git-clone(1) "GIT URLS" lists for the transports we allow: ssh://, git://,
// http[s]://, file://, and the scp-like "user@host:path". Everything else — "ext::" and "fd::"
// remote helpers, bare local paths, anything starting with '-' (an option to git) — is refused
// here, before git sees it; protocol.allow=never refuses it again inside git.
bool IsGitUrl(std::string_view url) {
  if (url.empty() || url.front() == '-' || HasControl(url) ||
      url.find(' ') != std::string_view::npos) {
    return false;
  }
  for (std::string_view scheme : {"https://", "http://", "ssh://", "git://", "file://"}) {
    if (StartsWith(url, scheme)) return url.size() > scheme.size();
  }
  std::size_t at = url.find('@');
  std::size_t colon = url.find(':');
  if (at == std::string_view::npos || colon == std::string_view::npos || at == 0 ||
      colon < at + 2 || colon + 1 >= url.size()) {
    return false;
  }
  auto host_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  };
  std::string_view user = url.substr(0, at);
  std::string_view host = url.substr(at + 1, colon - at - 1);
  return std::all_of(user.begin(), user.end(), host_char) &&
         std::all_of(host.begin(), host.end(), host_char) && url[colon + 1] != ':';
}

// A ref name git-check-ref-format(1) could accept, and never an option.
bool IsPlausibleRef(std::string_view ref) {
  if (ref.empty()) return true;
  if (ref.size() > 255 || ref.front() == '-' || ref.front() == '/' || ref.back() == '/' ||
      ref.back() == '.' || HasControl(ref)) {
    return false;
  }
  for (std::string_view bad : {"..", "@{", "//", "/.", ".lock/"}) {
    if (ref.find(bad) != std::string_view::npos) return false;
  }
  return ref.find_first_of(" ~^:?*[\\") == std::string_view::npos;
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string Tail(std::string_view s, std::size_t n = 600) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  return std::string(s.size() > n ? s.substr(s.size() - n) : s);
}

class Git {
 public:
  // `url` is replaced by its redacted form in the error messages of failed commands.
  Git(const fs::path& home, std::string url, std::string redacted_url)
      : url_(std::move(url)), redacted_url_(std::move(redacted_url)) {
    const char* path = std::getenv("PATH");
    env_ = {"PATH=" + std::string(path ? path : "/usr/local/bin:/usr/bin:/bin"),
            "HOME=" + home.string(),
            "XDG_CONFIG_HOME=" + (home / ".config").string(),
            "GIT_CONFIG_NOSYSTEM=1",
            "GIT_CONFIG_GLOBAL=/dev/null",
            "GIT_TERMINAL_PROMPT=0",
            "GIT_SSH_COMMAND=ssh -o BatchMode=yes",
            "LC_ALL=C",
            "TZ=UTC"};
    if (const char* sock = std::getenv("SSH_AUTH_SOCK")) {
      env_.push_back("SSH_AUTH_SOCK=" + std::string(sock));  // ssh:// with an agent
    }
  }

  // git -C dir -c ... ARGS; a non-zero exit is intake.git.failed with git's stderr tail.
  Result<std::string> Run(const fs::path& dir, std::vector<std::string> args,
                          std::chrono::milliseconds timeout = kGitTimeout) const {
    LUNAL_ASSIGN_OR_RETURN(GitOutput out, Exec(dir, std::move(args), timeout));
    if (out.exit_code != 0) {
      std::string err = Tail(out.err);
      if (!url_.empty() && url_ != redacted_url_) {
        for (std::size_t at = err.find(url_); at != std::string::npos;
             at = err.find(url_, at + redacted_url_.size())) {
          err.replace(at, url_.size(), redacted_url_);
        }
      }
      return Unavailable("intake.git.failed", "git {} exited with {}: {}", verb_, out.exit_code,
                         err);
    }
    return std::move(out.out);
  }

  Result<GitOutput> Exec(const fs::path& dir, std::vector<std::string> args,
                         std::chrono::milliseconds timeout = kGitTimeout) const {
    std::vector<std::string> argv = {"git"};
    if (!dir.empty()) argv.insert(argv.end(), {"-C", dir.string()});
    // Transports: everything off, then the ones a source URL may use back on ("ext::" and
    // "fd::" stay off); no hooks; no filesystem monitor; content as committed.
    for (const char* c :
         {"protocol.allow=never", "protocol.https.allow=always", "protocol.http.allow=always",
          "protocol.ssh.allow=always", "protocol.git.allow=always", "protocol.file.allow=always",
          "core.hooksPath=/dev/null", "core.fsmonitor=false", "core.autocrlf=false",
          "core.symlinks=true", "submodule.recurse=false", "advice.detachedHead=false"}) {
      argv.insert(argv.end(), {"-c", c});
    }
    verb_ = args.empty() ? "" : args.front();
    argv.insert(argv.end(), args.begin(), args.end());
    // Our PATH is searched (the same as env_'s); stdin is /dev/null; git's own group is ours, so
    // a timeout kills git (not the helpers it started, which end with their pipe).
    auto run = RunSubprocess({.argv = std::move(argv),
                              .search_path = true,
                              .env = env_,
                              .own_process_group = false,
                              .timeout = timeout,
                              .max_output_bytes = kNoOutputLimit});
    if (!run.ok()) {
      // subprocess.bad_argv / spawn_failed (git cannot be started) and subprocess.io.
      return Unavailable("intake.git.failed", "{}", run.error().message());
    }
    if (run->timed_out) {
      return DeadlineExceeded("intake.git.failed", "git did not finish within {} s",
                              timeout.count() / 1000);
    }
    return GitOutput{.exit_code = run->term_signal != 0 ? -1 : run->exit_code,
                     .out = std::move(run->out),
                     .err = std::move(run->err)};
  }

 private:
  std::string url_;
  std::string redacted_url_;
  std::vector<std::string> env_;
  mutable std::string verb_;
};

struct TempHome {
  fs::path path;
  ~TempHome() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

// The commit `ref` names in the fresh clone: a branch of the remote, a tag, or a full commit id
// (40 hex for SHA-1 repositories, 64 for SHA-256 ones); "" = the remote's default branch (HEAD).
Result<std::string> ResolveRef(const Git& git, const fs::path& source, std::string_view ref) {
  std::vector<std::string> candidates;
  if (ref.empty()) {
    candidates.push_back("HEAD");
  } else {
    std::string r(ref);
    if (StartsWith(r, "refs/heads/")) r = r.substr(11);
    if (StartsWith(ref, "refs/tags/")) {
      candidates.push_back(std::string(ref));
    } else {
      candidates.push_back("refs/remotes/origin/" + r);
      candidates.push_back("refs/tags/" + r);
    }
    if ((ref.size() == 40 || ref.size() == 64) && IsHex(ref))
      candidates.push_back(std::string(ref));
  }
  for (const std::string& c : candidates) {
    LUNAL_ASSIGN_OR_RETURN(GitOutput out, git.Exec(source, {"rev-parse", "--verify", "--quiet",
                                                            "--end-of-options", c + "^{commit}"}));
    std::string id = Tail(out.out);
    if (out.exit_code == 0 && (id.size() == 40 || id.size() == 64) && IsHex(id)) return id;
  }
  if (ref.empty()) {
    return NotFound("intake.git.bad_ref", "the repository has no default branch with a commit");
  }
  return NotFound("intake.git.bad_ref", "\"{}\" is not a branch, tag or commit of the repository",
                  ref);
}

Status CheckGitPath(std::string_view path) {
  for (std::string_view rest = path;;) {
    std::size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    std::string lower(part);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (part.empty() || part == "." || part == ".." || lower == ".git") {
      return InvalidArgument("intake.tree.bad_name", "\"{}\": not a usable path", path);
    }
    if (slash == std::string_view::npos) return Status::Ok();
    rest.remove_prefix(slash + 1);
  }
}

// git ls-tree -r -z: "<mode> SP <type> SP <object> TAB <path> NUL" per blob or gitlink.
Status BuildTree(const fs::path& source, std::string_view listing, const IntakeOptions& options,
                 IntakeResult& result) {
  IgnoreMatcher matcher;
  if (options.apply_ignore_files) {
    LUNAL_ASSIGN_OR_RETURN(std::optional<IgnoreFile> file,
                           internal::LoadIgnoreFile(source, ".lunalignore", ""));
    if (file) matcher.SetOverride(std::move(*file));
  }
  internal::Budget budget;
  while (!listing.empty()) {
    std::size_t nul = listing.find('\0');
    std::string_view record = listing.substr(0, nul);
    listing.remove_prefix(nul == std::string_view::npos ? listing.size() : nul + 1);
    std::size_t tab = record.find('\t');
    std::size_t sp = record.find(' ');
    if (tab == std::string_view::npos || sp == std::string_view::npos || sp > tab) {
      return Internal("intake.git.failed", "unexpected git ls-tree output \"{}\"", record);
    }
    std::string_view mode = record.substr(0, sp);
    std::string path(record.substr(tab + 1));
    if (mode == "160000") {  // a submodule's commit: submodules are not fetched
      ++result.ignored;
      continue;
    }
    LUNAL_RETURN_IF_ERROR(CheckGitPath(path));
    LUNAL_RETURN_IF_ERROR(internal::CheckPath(kTree, path, options.limits));
    if (options.apply_ignore_files && matcher.IsIgnored(path, false)) {
      ++result.ignored;
      continue;
    }
    struct stat st = {};
    fs::path on_disk = source / path;
    if (::lstat(on_disk.c_str(), &st) != 0) {
      return Unavailable("intake.git.failed", "{}: not checked out: {}", path,
                         std::strerror(errno));
    }
    if (mode == "120000") {
      if (!S_ISLNK(st.st_mode)) {
        return Unavailable("intake.git.failed", "{}: checked out as something else", path);
      }
      std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlink(on_disk.c_str(), target.data(), target.size());
      if (n < 0 || static_cast<std::size_t>(n) >= target.size()) {
        return Unavailable("intake.tree.io", "{}: readlink failed", path);
      }
      target.resize(static_cast<std::size_t>(n));
      LUNAL_RETURN_IF_ERROR(internal::CheckLinkTarget(kTree, path, target));
      LUNAL_RETURN_IF_ERROR(internal::Charge(kTree, path, 0, options.limits, budget));
      result.tree.entries.push_back({.path = path,
                                     .type = EntryType::kSymlink,
                                     .executable = false,
                                     .size = target.size(),
                                     .link_target = target});
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      return Unavailable("intake.git.failed", "{}: checked out as something else", path);
    }
    auto size = static_cast<std::uint64_t>(st.st_size);
    LUNAL_RETURN_IF_ERROR(internal::Charge(kTree, path, size, options.limits, budget));
    result.tree.entries.push_back({.path = path,
                                   .type = EntryType::kFile,
                                   .executable = mode == "100755",
                                   .size = size,
                                   .link_target = {}});
  }
  std::sort(result.tree.entries.begin(), result.tree.entries.end(),
            [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
  return Status::Ok();
}

}  // namespace

namespace internal {
std::string RedactUrl(std::string_view url) {
  if (!StartsWith(url, "https://") && !StartsWith(url, "http://")) return std::string(url);
  std::size_t start = url.find("://") + 3;
  std::size_t end = url.find('/', start);
  std::string_view authority =
      url.substr(start, end == std::string_view::npos ? url.npos : end - start);
  std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, start)) + std::string(url.substr(start + at + 1));
}
}  // namespace internal

Result<IntakeResult> IntakeGit(std::string_view url, std::string_view ref, const fs::path& work_dir,
                               const IntakeOptions& options) {
  if (!IsGitUrl(url)) {
    return InvalidArgument("intake.git.bad_url",
                           "\"{}\" is not an https://, http://, ssh://, git://, file:// or "
                           "user@host:path URL",
                           url);
  }
  if (!IsPlausibleRef(ref)) {
    return InvalidArgument("intake.git.bad_ref", "\"{}\" is not a valid ref name", ref);
  }
  std::error_code ec;
  if (!fs::is_directory(work_dir, ec)) {
    return InvalidArgument("intake.work_dir.not_directory", "{}: not a folder", work_dir.string());
  }
  fs::path source = fs::absolute(work_dir / "source", ec).lexically_normal();
  if (fs::exists(fs::symlink_status(source, ec))) {
    return Conflict("intake.work_dir.source_exists", "{} already exists", source.string());
  }
  std::string home_template = (work_dir / ".intake-git-home-XXXXXX").string();
  if (::mkdtemp(home_template.data()) == nullptr) {
    return Unavailable("intake.tree.io", "{}: mkdtemp: {}", home_template, std::strerror(errno));
  }
  TempHome home{fs::path(home_template)};
  Git git(home.path, std::string(url), internal::RedactUrl(url));
  auto fail = [&](Status s) {
    std::error_code rm_ec;
    fs::remove_all(source, rm_ec);
    return s;
  };

  Result<std::string> cloned =
      git.Run({},
              {"clone", "--quiet", "--no-checkout", "--no-recurse-submodules", "--",
               std::string(url), source.string()},
              kCloneTimeout);
  if (!cloned) return fail(std::move(cloned).error());
  Result<std::string> commit = ResolveRef(git, source, ref);
  if (!commit) return fail(std::move(commit).error());
  Result<std::string> checked_out =
      git.Run(source, {"checkout", "--quiet", "--detach", *commit, "--"});
  if (!checked_out) return fail(std::move(checked_out).error());
  Result<std::string> listing = git.Run(source, {"ls-tree", "-r", "-z", "--full-tree", *commit});
  if (!listing) return fail(std::move(listing).error());

  IntakeResult result;
  Status built = BuildTree(source, *listing, options, result);
  if (!built.ok()) return fail(std::move(built));
  result.tree.root = source;
  result.origin = {.kind = "git",
                   .uri = internal::RedactUrl(url),
                   .digest = "gitCommit:" + *commit,
                   .ref = std::string(ref)};
  return result;
}

Result<IntakeResult> Intake(std::string_view spec, const fs::path& work_dir,
                            const IntakeOptions& options) {
  struct stat st = {};
  std::string spec_str(spec);
  if (!spec.empty() && ::stat(spec_str.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return IntakeFolder(spec_str, options);
    if (S_ISREG(st.st_mode)) return IntakeArchive(spec_str, work_dir, options);
    return InvalidArgument("intake.spec.unsupported",
                           "{}: neither a folder nor a regular file (an archive)", spec);
  }
  std::string_view url = spec;
  std::string_view ref;
  if (std::size_t hash = spec.rfind('#'); hash != std::string_view::npos) {
    url = spec.substr(0, hash);
    ref = spec.substr(hash + 1);
  }
  if (!IsGitUrl(url)) {
    return NotFound("intake.spec.not_found",
                    "\"{}\" is not an existing folder or archive, nor a git URL", spec);
  }
  return IntakeGit(url, ref, work_dir, options);
}

}  // namespace lunal::build
