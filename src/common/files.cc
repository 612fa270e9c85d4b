#include "lunal/common/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "lunal/common/unique_fd.h"

namespace lunal {
namespace {

namespace fs = std::filesystem;

Status IoError(std::string_view what, const fs::path& path, int error) {
  return Unavailable("file.io", "{} {}: {}", what, path.string(), std::strerror(error));
}

Status WriteAll(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write", path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status SyncDirectory(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("cannot open", dir, errno);
  if (::fsync(fd.get()) != 0) return IoError("cannot fsync", dir, errno);
  return Status::Ok();
}

// Opens `path` for reading as the options ask; nullopt when it does not exist.
Result<std::optional<int>> OpenForReading(const fs::path& path, const ReadFileOptions& options) {
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
  if (options.require_private || options.no_follow) flags |= O_NOFOLLOW;
  const int fd = ::open(path.c_str(), flags);
  if (fd >= 0) return std::optional<int>(fd);
  if (errno == ENOENT) return std::optional<int>();
  if (errno == ELOOP && (flags & O_NOFOLLOW) != 0) {
    return Unavailable("file.not_regular", "{} is a symbolic link; refusing to follow it",
                       path.string());
  }
  return IoError("cannot open", path, errno);
}

Result<std::string> ReadOpen(int raw_fd, const fs::path& path, const ReadFileOptions& options) {
  UniqueFd fd(raw_fd);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return IoError("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return Unavailable("file.not_regular", "{} is not a regular file", path.string());
  }
  if (options.require_private && (st.st_mode & 077) != 0) {
    return PermissionDenied("file.insecure_permissions",
                            "{} has mode {:04o}: it must be private to its owner (chmod 600)",
                            path.string(), st.st_mode & 07777);
  }
  if (static_cast<std::uint64_t>(st.st_size) > options.max_bytes) {
    return ResourceExhausted("file.too_large", "{} has {} bytes; the limit is {}", path.string(),
                             st.st_size, options.max_bytes);
  }
  std::string out;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot read", path, errno);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    // The file may have grown since fstat.
    if (out.size() > options.max_bytes) {
      return ResourceExhausted("file.too_large", "{} has more than {} bytes", path.string(),
                               options.max_bytes);
    }
  }
  return out;
}

}  // namespace

Status EnsureDirectory(const fs::path& dir, mode_t mode) {
  std::error_code ec;
  if (dir.has_parent_path() && !dir.parent_path().empty()) {
    fs::create_directories(dir.parent_path(), ec);
    if (ec) return IoError("cannot create", dir.parent_path(), ec.value());
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    return IoError("cannot create", dir, errno);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return IoError("cannot stat", dir, errno);
  if (!S_ISDIR(st.st_mode)) {
    return Unavailable("file.not_directory", "{} exists and is not a directory", dir.string());
  }
  return Status::Ok();
}

Status WriteFileAtomically(const fs::path& path, std::string_view contents, mode_t mode) {
  std::string temp = path.string() + ".tmp.XXXXXX";
  UniqueFd fd(::mkstemp(temp.data()));  // O_EXCL, mode 0600
  if (fd.get() < 0) return IoError("cannot create a temporary file for", path, errno);
  Status status = [&]() -> Status {
    // The umask can only remove bits; fchmod makes the mode exactly `mode`.
    if (::fchmod(fd.get(), mode) != 0) return IoError("cannot chmod", temp, errno);
    LUNAL_RETURN_IF_ERROR(WriteAll(fd.get(), contents, temp));
    if (::fsync(fd.get()) != 0) return IoError("cannot fsync", temp, errno);
    if (int err = fd.Close(); err != 0) return IoError("cannot close", temp, err);
    if (::rename(temp.c_str(), path.c_str()) != 0) return IoError("cannot rename to", path, errno);
    return Status::Ok();
  }();
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  // The rename is durable once the directory entry is.
  return SyncDirectory(path.has_parent_path() ? path.parent_path() : fs::path("."));
}

Result<std::optional<std::string>> ReadFileIfExists(const fs::path& path,
                                                    const ReadFileOptions& options) {
  LUNAL_ASSIGN_OR_RETURN(std::optional<int> fd, OpenForReading(path, options));
  if (!fd) return std::optional<std::string>();
  LUNAL_ASSIGN_OR_RETURN(std::string text, ReadOpen(*fd, path, options));
  return std::optional<std::string>(std::move(text));
}

Result<std::string> ReadFile(const fs::path& path, const ReadFileOptions& options) {
  LUNAL_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadFileIfExists(path, options));
  if (!text) return NotFound("file.not_found", "{} does not exist", path.string());
  return std::move(*text);
}

Result<std::string> ReadPrivateFile(const fs::path& path, std::size_t max_bytes) {
  return ReadFile(path, {.max_bytes = max_bytes, .require_private = true, .no_follow = true});
}

Status RemoveFile(const fs::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return IoError("cannot remove", path, errno);
  return Status::Ok();
}

Result<FileLock> FileLock::Lock(const fs::path& path, bool wait) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot open", path, errno);
  while (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    if (errno == EINTR) continue;
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return Conflict("file.locked", "{} is locked by another holder", path.string());
    }
    return IoError("cannot lock", path, error);
  }
  return FileLock(fd);
}

Result<FileLock> FileLock::Acquire(const fs::path& path) { return Lock(path, true); }
Result<FileLock> FileLock::TryAcquire(const fs::path& path) { return Lock(path, false); }

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace lunal
