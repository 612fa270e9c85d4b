// Path rules shared by the tree digest, ScanDirectory and the artifact archive (private).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lunal/common/result.h"

namespace lunal::build::internal {

// A relative '/'-separated path: not empty, not absolute, no empty, "." or ".." component, no
// NUL or newline byte. Returns what is wrong, or "" when the path is fine.
std::string_view PathProblem(std::string_view path);

// Symlinks of a tree by path → target, to resolve chains of links.
using LinkMap = std::unordered_map<std::string, std::string>;

// True when the symlink at `link_path` with `target` stays inside the tree: the target is
// relative and not empty, and resolving it from the link's folder, following the tree's other
// links in `links` as the kernel would (at most 40 of them), never climbs above the root.
// Dangling targets are inside (a path that does not exist cannot be walked out of).
bool LinkStaysInside(const LinkMap& links, std::string_view link_path, std::string_view target);

// Opens `path` (relative) beneath the folder `root_fd` without following any symbolic link on the
// way or at the end: openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS (Linux 5.6), falling
// back to openat(O_NOFOLLOW) on older kernels. `flags` are open(2) flags; O_NOFOLLOW and
// O_CLOEXEC are added. Returns the fd, or -1 with errno (ELOOP/EXDEV: a symlink on the way).
int OpenBeneath(int root_fd, const std::string& path, std::uint64_t flags);

enum class WalkKind { kDirectory, kFile, kSymlink };

struct WalkEntry {
  std::string path = {};
  WalkKind kind = WalkKind::kFile;
  bool executable = false;
  std::uint64_t size = 0;
  std::string link_target = {};
};

// Everything under `dir` (folders only when include_directories), never following a symlink,
// sorted by path as bytes; special files refused with `special_reason`; symlinks checked with
// LinkStaysInside. I/O errors carry `io_reason`.
Result<std::vector<WalkEntry>> WalkDirectory(const std::filesystem::path& dir,
                                             bool include_directories,
                                             std::string_view special_reason,
                                             std::string_view io_reason);

}  // namespace lunal::build::internal
