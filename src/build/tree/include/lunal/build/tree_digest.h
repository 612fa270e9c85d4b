// The tree digest: one "sha256:<hex>" naming every file and symbolic link of a SourceTree
// (source_tree.h) with its path, content and mode, the `source.tree` of the build manifest
// (manifest.h). Format and a shell recipe that recomputes it: docs/formats/tree-digest.md.
//
//   listing = for each entry, in the tree's order: "<mode> <hex SHA-256 of content> <path>\n"
//             mode "100644" (file), "100755" (file with any execute bit), "120000" (symlink,
//             content = the target's bytes)
//   digest  = "sha256:" + hex(SHA-256("lunal-tree-v1\n" + listing))
//
// DigestTree reads the files under tree.root in parallel (a fixed pool of threads for the call,
// each with one reusable buffer: memory is bounded by threads x 1 MiB whatever the file sizes).
// It opens every path beneath root without following any symbolic link (openat2
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), and checks what it finds against the tree: a file whose
// type, size or execute bit differs from its entry, or a symlink whose target differs, fails
// with build.tree.changed, so the digest always describes the bytes on disk.
//
// Errors (stable reasons):
//   kMalformed         build.tree.bad_path        empty, absolute, "."/".." component, empty
//                                                 component, NUL or newline byte
//                      build.tree.unsorted        entries not strictly ascending by bytes
//                                                 (a duplicate path is unsorted too)
//                      build.tree.path_conflict   an entry's path is a parent folder of another
//                      build.tree.bad_entry       a file with a link target, a symlink whose
//                                                 size is not its target's length
//                      build.tree.link_escapes    a symlink target that is empty, absolute or
//                                                 leads outside the tree
//   kNotFound          build.tree.not_found       ScanDirectory / DigestTree: no such root
//   kInvalidArgument   build.tree.not_directory   the root is not a directory
//                      build.tree.special_file    ScanDirectory: a device, FIFO or socket
//   kConflict          build.tree.changed         the disk no longer matches the tree
//   kUnavailable       build.tree.io              a system call failed (message: path, errno)
//
// Thread-safety: all functions are reentrant; DigestTree must not race with writers of the tree
// (it detects changes of size/type/mode, not a same-size rewrite during the read).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lunal/build/source_tree.h"
#include "lunal/common/result.h"

namespace lunal::build {

// Checks the source_tree.h contract (paths, order, entry fields, symlink targets inside the tree).
// (A Status, the codebase's Result<void>: Result<T> holds a value, and void is none.)
Status ValidateTree(const SourceTree& tree);

// Every regular file and symlink under `dir` (no ignore rules: for artifact folders), sorted per
// the contract; folders are implicit. Refuses special files and symlinks whose target is absolute
// or leads outside `dir`. `executable` is any execute bit; `size` is st_size (files) or the
// target's length (symlinks). root = dir.
Result<SourceTree> ScanDirectory(const std::filesystem::path& dir);

struct TreeDigestOptions {
  // 0 = std::thread::hardware_concurrency(), or fewer when the process may run on fewer CPUs
  // (sched_getaffinity: taskset, cpusets).
  unsigned threads = 0;
};

struct TreeDigestResult {
  std::string digest = {};                      // "sha256:<64 hex>"
  std::uint64_t files = 0;                      // entries (files and symlinks)
  std::uint64_t bytes = 0;                      // sum of sizes (file contents and symlink targets)
  std::vector<std::string> entry_digests = {};  // "sha256:<hex>", parallel to tree.entries
};

Result<TreeDigestResult> DigestTree(const SourceTree& tree, const TreeDigestOptions& options = {});

// The listing line's mode for an entry: "100644", "100755" or "120000".
std::string_view TreeEntryMode(const TreeEntry& entry);

}  // namespace lunal::build
