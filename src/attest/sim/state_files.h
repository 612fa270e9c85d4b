// Files of the simulation root's state directory: atomic writes (a crash leaves the old file or
// the new one, never a torn one), reads that tell "absent" from "unreadable", and an advisory lock
// serialising concurrent first starts. POSIX only. Private to attest/sim.
//
// Errors: sim.state.io (kUnavailable), with the path and strerror in the message.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "lunal/common/result.h"
#include "lunal/common/status.h"

namespace lunal::attest::sim::internal {

// Creates `dir` (and its parents) when missing; a new leaf directory gets `mode`.
Status EnsureDirectory(const std::filesystem::path& dir, mode_t mode);

// Writes `contents` to a temporary file beside `path` created with `mode`, fsyncs it, renames it
// over `path` and fsyncs the directory (POSIX rename(2) is atomic within a file system).
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents,
                           mode_t mode);

// The whole file, or nullopt when it does not exist.
Result<std::optional<std::string>> ReadFileIfExists(const std::filesystem::path& path);

// The permission bits of `path` (st_mode & 07777).
Result<mode_t> FileMode(const std::filesystem::path& path);

// An exclusive flock(2) on `path` (created 0600 if missing), released on destruction.
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::filesystem::path& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace lunal::attest::sim::internal
