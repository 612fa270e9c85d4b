// Intake: turns what a developer hands to `lunal build` (a folder, a .tar/.tar.gz/.zip upload, a
// git repository) into a SourceTree (source_tree.h), refusing what could harm the builder or
// smuggle files in: path traversal, absolute paths, links leaving the tree, device files, and
// archives beyond the configured limits (zip bombs). docs/formats/intake.md states the rules.
//
// Ownership: a result's tree.root points into the caller's folder (IntakeFolder) or into
// work_dir/source (IntakeArchive, IntakeGit), which the caller owns and removes. Nothing is
// copied until MaterializeTree, which writes only the tree's entries, so ignored files never
// reach a build.
//
// Errors: a Status with a stable reason (README.md lists them all), the message naming the entry
// at fault. Archive refusals: kInvalidArgument for hostile or unusable entries
// (intake.archive.path_traversal, ...), kResourceExhausted for limits
// (intake.archive.too_large, ...), kMalformed for intake.archive.corrupt, kUnsupported for
// intake.archive.unsupported_format; after any archive or git failure work_dir/source is gone.
//
// Thread-safety: the functions keep no state; concurrent calls need distinct work_dirs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "lunal/build/source_tree.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"

namespace lunal::build {

struct IntakeLimits {
  std::uint64_t max_files = 100'000;           // entries (archives: every header, folders too)
  std::uint64_t max_total_bytes = 4ull << 30;  // unpacked / walked bytes, counted as read
  std::uint64_t max_file_bytes = 2ull << 30;
  std::uint64_t max_compression_ratio = 100;  // archives: unpacked bytes / archive file bytes
  std::size_t max_path_bytes = 4096;
  int max_depth = 128;  // path components
};

struct IntakeOptions {
  IntakeLimits limits = {};
  bool apply_ignore_files = true;  // .gitignore (folders, archives) and .lunalignore (all)
};

struct Origin {             // recorded in provenance, never in the build manifest
  std::string kind = {};    // "folder" | "archive" | "git"
  std::string uri = {};     // absolute folder path, archive path, or git URL (an http(s)
                            // URL without its userinfo: "user:token@" is dropped)
  std::string digest = {};  // archive: "sha256:<hex of the archive file>"; git:
                            // "gitCommit:<40 hex>"; folder: ""
  std::string ref = {};     // git: the ref asked for ("main", a tag or a commit)
};

struct IntakeResult {
  SourceTree tree = {};
  Origin origin = {};
  std::uint64_t ignored = 0;  // paths left out by ignore rules (an ignored folder counts once)
};

// A folder as is (nothing copied): walks it, applies .gitignore files (at every level) and a
// top-level .lunalignore, always leaves out .git/ and .lunal/, refuses device/fifo/socket files
// and symlinks whose target leaves the tree (lexically, relative to the link's folder).
Result<IntakeResult> IntakeFolder(const std::filesystem::path& dir, const IntakeOptions& = {});

// Extracts a .tar / .tar.gz / .zip (detected by content with libarchive, not by name) into
// work_dir/source (work_dir must exist; work_dir/source must not), then as IntakeFolder.
Result<IntakeResult> IntakeArchive(const std::filesystem::path& archive,
                                   const std::filesystem::path& work_dir,
                                   const IntakeOptions& = {});

// Clones `url` into work_dir/source and checks out `ref` (branch, tag or full commit id; empty =
// the remote's default branch). The tree is git's tracked files at that commit (git ls-tree),
// minus .lunalignore; .git is not part of it. Submodules (gitlinks) are left out.
Result<IntakeResult> IntakeGit(std::string_view url, std::string_view ref,
                               const std::filesystem::path& work_dir, const IntakeOptions& = {});

// What `lunal build SPEC` calls: an existing directory → folder; an existing regular file →
// archive; otherwise a git URL (https://, http://, ssh://, git://, file://, user@host:path),
// optionally "URL#ref".
Result<IntakeResult> Intake(std::string_view spec, const std::filesystem::path& work_dir,
                            const IntakeOptions& = {});

// Copies the tree's entries into `dest` (must not exist; its parent must): files with 0644/0755,
// symlinks as symlinks, folders 0755. What the sandbox mounts read-only, so ignored files never
// reach a build. A file that changed type or size since intake is refused
// (intake.materialize.changed). Returns a Status (lunal::Result has no void form).
Status MaterializeTree(const SourceTree& tree, const std::filesystem::path& dest);

}  // namespace lunal::build
