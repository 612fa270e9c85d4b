// IntakeFolder (a walk that never follows links) and MaterializeTree.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "internal.h"
#include "lunal/build/intake.h"
#include "lunal/common/unique_fd.h"

namespace lunal::build {
namespace fs = std::filesystem;
using internal::Budget;

namespace {

constexpr std::string_view kTree = "intake.tree";

struct Walk {
  const fs::path& root;
  const IntakeOptions& options;
  IgnoreMatcher matcher = {};
  Budget budget = {};
  IntakeResult result = {};
};

Status Io(std::string_view rel, std::string_view what, int err) {
  return Unavailable("intake.tree.io", "{}: {}: {}", rel.empty() ? "." : rel, what,
                     std::strerror(err));
}

// One folder (rel: "" for the root). Names are visited in byte order so that the first error
// reported is the same on every run.
Status WalkFolder(Walk& w, const std::string& rel) {
  fs::path dir = rel.empty() ? w.root : w.root / rel;
  if (w.options.apply_ignore_files) {
    std::string ignore_rel = rel.empty() ? ".gitignore" : rel + "/.gitignore";
    LUNAL_ASSIGN_OR_RETURN(std::optional<IgnoreFile> file,
                           internal::LoadIgnoreFile(w.root, ignore_rel, rel));
    if (file) w.matcher.AddIgnoreFile(std::move(*file));
  }
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return Io(rel, "cannot list the folder", ec.value());
  std::sort(names.begin(), names.end());

  for (const std::string& name : names) {
    if (internal::AlwaysExcluded(name)) continue;
    std::string path = rel.empty() ? name : rel + "/" + name;
    struct stat st = {};
    if (::lstat((w.root / path).c_str(), &st) != 0) return Io(path, "lstat", errno);
    bool is_dir = S_ISDIR(st.st_mode);
    if (w.options.apply_ignore_files && w.matcher.Excludes(path, is_dir)) {
      ++w.result.ignored;
      continue;
    }
    LUNAL_RETURN_IF_ERROR(internal::CheckPath(kTree, path, w.options.limits));
    if (is_dir) {
      LUNAL_RETURN_IF_ERROR(WalkFolder(w, path));
    } else if (S_ISREG(st.st_mode)) {
      auto size = static_cast<std::uint64_t>(st.st_size);
      LUNAL_RETURN_IF_ERROR(internal::Charge(kTree, path, size, w.options.limits, w.budget));
      w.result.tree.entries.push_back({.path = path,
                                       .type = EntryType::kFile,
                                       .executable = (st.st_mode & 0111) != 0,
                                       .size = size,
                                       .link_target = {}});
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlink((w.root / path).c_str(), target.data(), target.size());
      if (n < 0) return Io(path, "readlink", errno);
      if (static_cast<std::size_t>(n) >= target.size()) return Io(path, "readlink", ERANGE);
      target.resize(static_cast<std::size_t>(n));
      LUNAL_RETURN_IF_ERROR(internal::CheckLinkTarget(kTree, path, target));
      LUNAL_RETURN_IF_ERROR(internal::Charge(kTree, path, 0, w.options.limits, w.budget));
      w.result.tree.entries.push_back({.path = path,
                                       .type = EntryType::kSymlink,
                                       .executable = false,
                                       .size = target.size(),
                                       .link_target = target});
    } else {
      return InvalidArgument("intake.tree.special_file",
                             "{}: a device, FIFO or socket cannot be part of a source tree (leave "
                             "it out with .lunalignore or .gitignore)",
                             path);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<IntakeResult> IntakeFolder(const fs::path& dir, const IntakeOptions& options) {
  std::error_code ec;
  fs::path root = fs::absolute(dir, ec).lexically_normal();
  if (ec) return Unavailable("intake.tree.io", "{}: {}", dir.string(), ec.message());
  if (!root.has_filename() && root != root.root_path()) root = root.parent_path();
  fs::file_status st = fs::status(root, ec);
  if (!fs::exists(st)) {
    return NotFound("intake.tree.not_found", "{}: no such folder", root.string());
  }
  if (!fs::is_directory(st)) {
    return InvalidArgument("intake.tree.not_directory", "{}: not a folder", root.string());
  }
  Walk w{.root = root, .options = options};
  if (options.apply_ignore_files) {
    LUNAL_ASSIGN_OR_RETURN(std::optional<IgnoreFile> lunal_ignore,
                           internal::LoadIgnoreFile(root, ".lunalignore", ""));
    if (lunal_ignore) w.matcher.SetOverride(std::move(*lunal_ignore));
  }
  LUNAL_RETURN_IF_ERROR(WalkFolder(w, ""));
  std::sort(w.result.tree.entries.begin(), w.result.tree.entries.end(),
            [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
  w.result.tree.root = root;
  w.result.origin = {.kind = "folder", .uri = root.string(), .digest = "", .ref = ""};
  return std::move(w.result);
}

namespace {

Status MatIo(std::string_view path, std::string_view what, int err) {
  return Unavailable("intake.materialize.io", "{}: {}: {}", path, what, std::strerror(err));
}

// Opens (creating as needed, never through a link) the folder `rel` below dest_fd.
Result<int> OpenFolder(int dest_fd, std::string_view rel) {
  int fd = ::dup(dest_fd);
  if (fd < 0) return MatIo(rel, "dup", errno);
  UniqueFd cur{fd};
  std::size_t start = 0;
  while (start < rel.size()) {
    std::size_t slash = rel.find('/', start);
    if (slash == std::string_view::npos) slash = rel.size();
    std::string part(rel.substr(start, slash - start));
    if (::mkdirat(cur.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
      return MatIo(rel, "mkdir", errno);
    }
    int next = ::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return MatIo(rel, "open folder", errno);
    cur.reset(next);
    start = slash + 1;
  }
  return cur.release();
}

Status CopyFile(const fs::path& from, int to_fd, const TreeEntry& e) {
  UniqueFd in{::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)};
  if (in.get() < 0) {
    if (errno == ELOOP || errno == ENOENT) {
      return Conflict("intake.materialize.changed", "{}: no longer a regular file", e.path);
    }
    return MatIo(e.path, "open", errno);
  }
  struct stat st = {};
  if (::fstat(in.get(), &st) != 0) return MatIo(e.path, "fstat", errno);
  if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) != e.size) {
    return Conflict("intake.materialize.changed", "{}: changed since intake ({} bytes, now {})",
                    e.path, e.size, st.st_size);
  }
  std::vector<char> buf(std::size_t{1} << 18);
  std::uint64_t copied = 0;
  while (true) {
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return MatIo(e.path, "read", errno);
    if (n == 0) break;
    copied += static_cast<std::uint64_t>(n);
    if (copied > e.size) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(to_fd, buf.data() + off, static_cast<std::size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return MatIo(e.path, "write", errno);
      off += w;
    }
  }
  if (copied != e.size) {
    return Conflict("intake.materialize.changed", "{}: changed while copying", e.path);
  }
  return Status::Ok();
}

}  // namespace

Status MaterializeTree(const SourceTree& tree, const fs::path& dest) {
  if (::mkdir(dest.c_str(), 0755) != 0) {
    if (errno == EEXIST) {
      return Conflict("intake.materialize.dest_exists", "{}: already exists", dest.string());
    }
    return MatIo(dest.string(), "mkdir", errno);
  }
  UniqueFd dest_fd{::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
  if (dest_fd.get() < 0) return MatIo(dest.string(), "open", errno);
  ::fchmod(dest_fd.get(), 0755);
  IntakeLimits unlimited{.max_files = UINT64_MAX,
                         .max_total_bytes = UINT64_MAX,
                         .max_file_bytes = UINT64_MAX,
                         .max_compression_ratio = 0,
                         .max_path_bytes = SIZE_MAX,
                         .max_depth = INT32_MAX};
  for (const TreeEntry& e : tree.entries) {
    // The tree came from outside this function: check what makes the writes below safe.
    bool bad_part = false;
    for (std::string_view rest = e.path; !bad_part;) {
      std::size_t slash = rest.find('/');
      std::string_view part = rest.substr(0, slash);
      bad_part = part.empty() || part == "." || part == "..";
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    if (bad_part || !internal::CheckPath("intake.materialize", e.path, unlimited).ok()) {
      return InvalidArgument("intake.materialize.bad_entry", "\"{}\": not a relative tree path",
                             e.path);
    }
    std::size_t slash = e.path.rfind('/');
    std::string parent = slash == std::string::npos ? "" : e.path.substr(0, slash);
    std::string name = slash == std::string::npos ? e.path : e.path.substr(slash + 1);
    LUNAL_ASSIGN_OR_RETURN(int parent_fd, OpenFolder(dest_fd.get(), parent));
    UniqueFd parent_guard{parent_fd};
    if (e.type == EntryType::kSymlink) {
      Status ok = internal::CheckLinkTarget("intake.materialize", e.path, e.link_target);
      if (!ok.ok()) {
        return InvalidArgument("intake.materialize.bad_entry", "{}", ok.message());
      }
      if (::symlinkat(e.link_target.c_str(), parent_fd, name.c_str()) != 0) {
        return MatIo(e.path, "symlink", errno);
      }
      continue;
    }
    mode_t mode = e.executable ? 0755 : 0644;
    UniqueFd out{::openat(parent_fd, name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)};
    if (out.get() < 0) return MatIo(e.path, "create", errno);
    if (::fchmod(out.get(), mode) != 0) return MatIo(e.path, "chmod", errno);
    LUNAL_RETURN_IF_ERROR(CopyFile(tree.root / e.path, out.get(), e));
  }
  return Status::Ok();
}

}  // namespace lunal::build
