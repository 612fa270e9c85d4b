// SourceTree: the files a build reads, as intake (intake.h) hands them to the tree digest
// (tree_digest.h) and the sandbox. Directories are implicit (an empty directory is not part of a
// tree, as in git); special files never appear (intake refuses them).
//
// Paths are relative, '/'-separated, never empty, never absolute, no "." or ".." component, no
// NUL or newline byte, and `entries` is sorted by path compared as bytes (std::string operator<).
// Plain data; no invariants are enforced by the type itself: producers guarantee them and
// consumers that receive a tree from outside check them (ValidateTree in tree_digest.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lunal::build {

enum class EntryType { kFile, kSymlink };

struct TreeEntry {
  std::string path = {};  // relative to SourceTree::root
  EntryType type = EntryType::kFile;
  bool executable = false;       // files: any execute bit set on disk (git's 100755)
  std::uint64_t size = 0;        // files: bytes; symlinks: target length
  std::string link_target = {};  // symlinks: the target as stored, relative and inside the tree
};

struct SourceTree {
  std::filesystem::path root = {};  // where the entries are on disk
  std::vector<TreeEntry> entries = {};
};

}  // namespace lunal::build
