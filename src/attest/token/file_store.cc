#include "file_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lunal/common/encoding.h"
#include "lunal/crypto/random.h"

namespace lunal::attest::token::internal {
namespace {

Status IoError(std::string_view what, const std::filesystem::path& path, int err) {
  return Unavailable("token.keyring.io", "{} {}: {}", what, path.string(), std::strerror(err));
}

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now and reports close's error (it can carry a deferred write error).
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("writing", path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status();
}

Status SyncDir(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("opening", dir, errno);
  if (::fsync(fd.get()) != 0) return IoError("syncing", dir, errno);
  return Status();
}

}  // namespace

Status EnsurePrivateDir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return Status();
  if (std::filesystem::exists(dir, ec)) {
    return Unavailable("token.keyring.io", "{} exists and is not a folder", dir.string());
  }
  if (dir.has_parent_path()) {
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) return Unavailable("token.keyring.io", "creating {}: {}", dir.string(), ec.message());
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return IoError("creating", dir, errno);
  return Status();
}

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents) {
  const std::filesystem::path tmp =
      path.parent_path() / (path.filename().string() + ".tmp-" + HexEncode(crypto::RandomBytes(8)));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return IoError("creating", tmp, errno);
  Status status = [&]() -> Status {
    // The umask can only remove bits; fchmod makes the mode exactly 0600 whatever it is.
    if (::fchmod(fd.get(), 0600) != 0) return IoError("chmod", tmp, errno);
    LUNAL_RETURN_IF_ERROR(WriteAll(fd.get(), contents, tmp));
    if (::fsync(fd.get()) != 0) return IoError("syncing", tmp, errno);
    if (fd.Close() != 0) return IoError("closing", tmp, errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) return IoError("renaming to", path, errno);
    return SyncDir(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
  }();
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

Result<std::string> ReadPrivateFile(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return IoError("opening", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return IoError("stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return Unavailable("token.keyring.io", "{} is not a regular file", path.string());
  }
  if ((st.st_mode & 077) != 0) {
    return PermissionDenied("token.keyring.insecure_permissions",
                            "{} has mode {:o}: key files must be readable by their owner only "
                            "(chmod 600)",
                            path.string(), st.st_mode & 0777);
  }
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("reading", path, errno);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

Status RemoveFile(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return IoError("removing", path, errno);
  return Status();
}

}  // namespace lunal::attest::token::internal
