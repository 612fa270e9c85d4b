// Files that must survive crashes and other users: atomic replacement, bounded reads that refuse
// what is not a regular file (and, for secrets, what others may read), folders created with a
// mode, an advisory lock between processes. POSIX only (open/fsync/rename/flock).
//
// Used by every component that keeps state on disk (attest/sim's simulation root, attest/token's
// key ring, attest/collateral's cache). Callers that publish their own reasons map these at the
// call site (e.g. file.io -> sim.state.io); the path is in every message.
//
// Errors (stable reasons; messages name the path and, for system errors, strerror):
//   kUnavailable       file.io               a system call failed (open, write, fsync, rename, ...)
//                      file.not_regular      a directory, device, FIFO, or (when a private read or
//                                            a no-follow read was asked for) a symbolic link
//                      file.not_directory    EnsureDirectory found something else at the path
//   kNotFound          file.not_found        ReadFile of a path that does not exist
//   kPermissionDenied  file.insecure_permissions  a private read of a file with group or other
//                                            permission bits (mode & 077)
//   kResourceExhausted file.too_large        more than ReadFileOptions::max_bytes
//   kConflict          file.locked           FileLock::TryAcquire while another holder has it
//
// Thread-safety: the functions are; concurrent writers of one path each replace it whole (the last
// rename wins). A FileLock object belongs to one thread at a time.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "lunal/common/result.h"
#include "lunal/common/status.h"

namespace lunal {

// Creates `dir` when missing (its missing parents with the default mode less the umask, the leaf
// with `mode` less the umask). An existing directory is accepted whatever its mode.
Status EnsureDirectory(const std::filesystem::path& dir, mode_t mode = 0700);

// Replaces `path` so that a reader, or a crash at any point, sees the old file or the new one and
// never a mix: a new temporary file beside it (mkstemp: O_EXCL, mode 0600), fchmod to exactly
// `mode` (the umask does not apply), write, fsync, close, rename(2) over `path` (atomic within a
// file system), then fsync the folder so the rename itself is durable. On failure the temporary
// file is removed and `path` is untouched.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents,
                           mode_t mode = 0600);

struct ReadFileOptions {
  std::size_t max_bytes = std::size_t{1} << 20;
  // Refuse group/other permission bits (file.insecure_permissions) and symbolic links: for keys.
  bool require_private = false;
  // Refuse a symbolic link at `path` itself (implied by require_private).
  bool no_follow = false;
};

// The whole file, or nullopt when it does not exist. Only regular files are read (opened
// O_NONBLOCK so a FIFO cannot hang the caller); permission bits are checked on the open file
// (fstat), so there is no window between the check and the read.
Result<std::optional<std::string>> ReadFileIfExists(const std::filesystem::path& path,
                                                    const ReadFileOptions& options = {});

// The same, with a missing file an error (file.not_found).
Result<std::string> ReadFile(const std::filesystem::path& path,
                             const ReadFileOptions& options = {});

// ReadFile with require_private: for key material.
Result<std::string> ReadPrivateFile(const std::filesystem::path& path,
                                    std::size_t max_bytes = std::size_t{1} << 20);

// Removes `path`; a missing file is not an error.
Status RemoveFile(const std::filesystem::path& path);

// An exclusive flock(2) on `path` (created 0600 when missing), released on destruction. flock
// locks belong to the open file description, so two FileLocks on one path exclude each other in
// one process as across processes.
class FileLock {
 public:
  // Blocks until the lock is free.
  static Result<FileLock> Acquire(const std::filesystem::path& path);
  // kConflict file.locked when another holder has it.
  static Result<FileLock> TryAcquire(const std::filesystem::path& path);

  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  static Result<FileLock> Lock(const std::filesystem::path& path, bool wait);
  int fd_;
};

}  // namespace lunal
