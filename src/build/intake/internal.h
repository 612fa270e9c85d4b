// Checks shared by the folder walk, archive extraction and the git tree (private to intake).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "lunal/build/ignore.h"
#include "lunal/build/intake.h"

namespace lunal::build::internal {

// "<prefix>.<what>", e.g. Reason("intake.tree", "link_escapes").
std::string Reason(std::string_view prefix, std::string_view what);

// A symlink at `link_path` (relative to the root) pointing at `target` stays inside the tree:
// not empty, not absolute, no NUL or newline, and, read lexically from the link's folder, never
// above the root. Stricter than the lexical rule alone: ".." may only lead the target
// ("../../x"), never follow a name ("a/../b"), because "a" may itself be a link (a -> ".", then
// "a/.." is the root's parent to the kernel). Leading ".." climbs real folders only (walks and
// extraction never create a folder through a link), so every link stays inside by induction.
// Error: <prefix>.link_escapes (kInvalidArgument).
Status CheckLinkTarget(std::string_view prefix, std::string_view link_path,
                       std::string_view target);

// Path length and depth (components) limits: <prefix>.path_too_long, <prefix>.too_deep
// (kResourceExhausted), and <prefix>.bad_name (kInvalidArgument) for a newline.
Status CheckPath(std::string_view prefix, std::string_view path, const IntakeLimits& limits);

// Counts one more entry of `bytes` bytes against the limits: <prefix>.too_many_files,
// <prefix>.file_too_large, <prefix>.too_large (kResourceExhausted).
struct Budget {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};
Status Charge(std::string_view prefix, std::string_view path, std::uint64_t bytes,
              const IntakeLimits& limits, Budget& budget);

// Reads `rel` (a file in `root`) as an ignore file with the given base; a missing file, or
// something other than a regular file (a symlinked .gitignore is not followed, as git >= 2.32
// does), is no file. Errors: intake.tree.io, intake.tree.ignore_file_too_large.
Result<std::optional<IgnoreFile>> LoadIgnoreFile(const std::filesystem::path& root,
                                                 std::string_view rel, std::string_view base);

// Whether a folder-walk name is never part of a tree (".git" and ".lunal", at any level).
bool AlwaysExcluded(std::string_view name);

// The URL as recorded in a git origin (and so in provenance): the userinfo of an http(s) URL
// ("https://user:token@host/x" → "https://host/x") is dropped, since it may hold a token.
std::string RedactUrl(std::string_view url);

}  // namespace lunal::build::internal
