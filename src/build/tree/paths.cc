// Path rules and the directory walk shared by tree_digest.cc and artifact_archive.cc.
#include "paths.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace lunal::build::internal {

namespace {

// Linux's limit on symlinks followed while resolving one path (MAXSYMLINKS, path_resolution(7)).
constexpr int kMaxLinkHops = 40;

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

// Walks `target` from the folder `stack`, replacing every component that is a link of the tree
// by that link's own resolution. False as soon as it climbs above the root.
bool Resolve(const LinkMap& links, std::vector<std::string>& stack, std::string_view target,
             int& hops) {
  if (target.empty() || target.front() == '/') return false;
  while (!target.empty()) {
    const std::size_t slash = target.find('/');
    const std::string_view part = target.substr(0, slash);
    target = slash == std::string_view::npos ? std::string_view() : target.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (stack.empty()) return false;
      stack.pop_back();
      continue;
    }
    stack.emplace_back(part);
    const auto it = links.find(Join(stack));
    if (it != links.end()) {
      if (++hops > kMaxLinkHops) return false;
      stack.pop_back();
      if (!Resolve(links, stack, it->second, hops)) return false;
    }
  }
  return true;
}

struct Walker {
  std::string_view special_reason;
  std::string_view io_reason;
  bool include_directories = false;
  std::vector<WalkEntry> out = {};

  Status Io(const std::string& path, const char* op, int error) const {
    return Unavailable(std::string(io_reason), "{}: {}: {}", path.empty() ? "." : path, op,
                       std::strerror(error));
  }

  // Reads the folder open as `fd` (owned), whose path below the root is `prefix`.
  Status Walk(int fd, const std::string& prefix, int depth) {
    DIR* d = fdopendir(fd);
    if (d == nullptr) {
      const int error = errno;
      close(fd);
      return Io(prefix, "fdopendir", error);
    }
    struct Closer {
      DIR* d;
      ~Closer() { closedir(d); }
    } closer{d};
    if (depth > 4096) {
      return Malformed("build.tree.bad_path", "{}: folders nested too deeply", prefix);
    }
    while (true) {
      errno = 0;
      const dirent* e = readdir(d);
      if (e == nullptr) {
        if (errno != 0) return Io(prefix, "readdir", errno);
        break;
      }
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string path =
          prefix.empty() ? std::string(name) : prefix + "/" + std::string(name);
      if (name.find('\n') != std::string_view::npos) {
        return Malformed("build.tree.bad_path", "a name with a newline in {}",
                         prefix.empty() ? "." : prefix);
      }
      struct stat st;
      if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return Io(path, "fstatat", errno);
      }
      if (S_ISDIR(st.st_mode)) {
        if (include_directories) {
          out.push_back({.path = path, .kind = WalkKind::kDirectory, .executable = true});
        }
        const int child =
            openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0) return Io(path, "open", errno);
        LUNAL_RETURN_IF_ERROR(Walk(child, path, depth + 1));
      } else if (S_ISREG(st.st_mode)) {
        out.push_back({.path = path,
                       .kind = WalkKind::kFile,
                       .executable = (st.st_mode & 0111) != 0,
                       .size = static_cast<std::uint64_t>(st.st_size)});
      } else if (S_ISLNK(st.st_mode)) {
        std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
        while (true) {
          const ssize_t n = readlinkat(dirfd(d), e->d_name, target.data(), target.size());
          if (n < 0) return Io(path, "readlink", errno);
          if (static_cast<std::size_t>(n) < target.size()) {
            target.resize(static_cast<std::size_t>(n));
            break;
          }
          target.resize(target.size() * 2);
        }
        out.push_back({.path = path,
                       .kind = WalkKind::kSymlink,
                       .size = target.size(),
                       .link_target = std::move(target)});
      } else {
        return InvalidArgument(std::string(special_reason),
                               "{}: not a regular file, folder or symbolic link (mode {:o})", path,
                               st.st_mode & S_IFMT);
      }
    }
    return Status::Ok();
  }
};

}  // namespace

std::string_view PathProblem(std::string_view path) {
  if (path.empty()) return "empty path";
  if (path.front() == '/') return "absolute path";
  if (path.find('\0') != std::string_view::npos) return "NUL byte in path";
  if (path.find('\n') != std::string_view::npos) return "newline in path";
  std::string_view rest = path;
  while (true) {
    const std::size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    if (part.empty()) return "empty path component";
    if (part == "." || part == "..") return "\".\" or \"..\" component";
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return {};
}

bool LinkStaysInside(const LinkMap& links, std::string_view link_path, std::string_view target) {
  std::vector<std::string> stack;
  std::string_view rest = link_path;
  for (std::size_t slash = rest.find('/'); slash != std::string_view::npos;
       slash = rest.find('/')) {
    stack.emplace_back(rest.substr(0, slash));
    rest = rest.substr(slash + 1);
  }
  int hops = 0;
  return Resolve(links, stack, target, hops);
}

// Without openat2 an intermediate symlink would be followed; a tree from ScanDirectory or intake
// has none, so the fallback only loses the defence against a swap during the read.
int OpenBeneath(int root_fd, const std::string& path, std::uint64_t flags) {
  static std::atomic<bool> no_openat2{false};
  if (!no_openat2.load(std::memory_order_relaxed)) {
    open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = flags | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const long fd = syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS) return static_cast<int>(fd);
    no_openat2.store(true, std::memory_order_relaxed);
  }
  return openat(root_fd, path.c_str(), static_cast<int>(flags) | O_NOFOLLOW | O_CLOEXEC);
}

Result<std::vector<WalkEntry>> WalkDirectory(const std::filesystem::path& dir,
                                             bool include_directories,
                                             std::string_view special_reason,
                                             std::string_view io_reason) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return NotFound("build.tree.not_found", "{}: no such folder", dir.string());
    return Unavailable(std::string(io_reason), "{}: stat: {}", dir.string(), std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return InvalidArgument("build.tree.not_directory", "{}: not a folder", dir.string());
  }
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Unavailable(std::string(io_reason), "{}: open: {}", dir.string(), std::strerror(errno));
  }
  Walker walker{.special_reason = special_reason,
                .io_reason = io_reason,
                .include_directories = include_directories};
  LUNAL_RETURN_IF_ERROR(walker.Walk(fd, "", 0).WithContext(dir.string() + ": "));
  std::vector<WalkEntry> entries = std::move(walker.out);
  std::sort(entries.begin(), entries.end(),
            [](const WalkEntry& a, const WalkEntry& b) { return a.path < b.path; });
  LinkMap links;
  for (const WalkEntry& e : entries) {
    if (e.kind == WalkKind::kSymlink) links.emplace(e.path, e.link_target);
  }
  for (const WalkEntry& e : entries) {
    if (e.kind == WalkKind::kSymlink && !LinkStaysInside(links, e.path, e.link_target)) {
      return Malformed("build.tree.link_escapes", "{}: symbolic link {} -> {} leads outside",
                       dir.string(), e.path, e.link_target);
    }
  }
  return entries;
}

}  // namespace lunal::build::internal
