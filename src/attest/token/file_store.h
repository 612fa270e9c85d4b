// Private files for the key ring: atomic writes with mode 0600 and reads that refuse files other
// users could read. POSIX only (open/fsync/rename).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "lunal/common/result.h"

namespace lunal::attest::token::internal {

// Creates `dir` (and parents) with mode 0700 when missing; an existing path must be a folder.
Status EnsurePrivateDir(const std::filesystem::path& dir);

// Writes `contents` to `path` so that a reader (or a crash) sees the old file or the new one,
// never a mix: a temporary file in the same folder (O_EXCL, mode 0600), write, fsync, rename over
// `path`, then fsync the folder so the rename itself is durable.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents);

// Reads a regular file that is not a symlink and has no group/other permission bits
// (token.keyring.insecure_permissions otherwise).
Result<std::string> ReadPrivateFile(const std::filesystem::path& path);

// Removes `path`; a missing file is not an error.
Status RemoveFile(const std::filesystem::path& path);

}  // namespace lunal::attest::token::internal
