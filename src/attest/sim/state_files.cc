#include "state_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace lunal::attest::sim::internal {
namespace {

Status IoError(std::string_view what, const std::filesystem::path& path, int error) {
  return Unavailable("sim.state.io", "{} {}: {}", what, path.string(), std::strerror(error));
}

// Closes `fd` on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting close(2)'s error (a deferred write error on some file systems).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view contents, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot write", path, errno);
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status EnsureDirectory(const std::filesystem::path& dir, mode_t mode) {
  std::error_code ec;
  if (dir.has_parent_path() && !dir.parent_path().empty()) {
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) return IoError("cannot create", dir.parent_path(), ec.value());
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    return IoError("cannot create", dir, errno);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return IoError("cannot stat", dir, errno);
  if (!S_ISDIR(st.st_mode)) return IoError("not a directory:", dir, ENOTDIR);
  return Status::Ok();
}

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents,
                           mode_t mode) {
  std::string temp = path.string() + ".tmp.XXXXXX";
  Fd fd(::mkstemp(temp.data()));  // created 0600
  if (fd.get() < 0) return IoError("cannot create a temporary file for", path, errno);
  auto fail = [&](Status s) {
    ::unlink(temp.c_str());
    return s;
  };
  if (::fchmod(fd.get(), mode) != 0) return fail(IoError("cannot chmod", temp, errno));
  if (Status s = WriteAll(fd.get(), contents, temp); !s.ok()) return fail(std::move(s));
  if (::fsync(fd.get()) != 0) return fail(IoError("cannot fsync", temp, errno));
  if (fd.Close() != 0) return fail(IoError("cannot close", temp, errno));
  if (::rename(temp.c_str(), path.c_str()) != 0)
    return fail(IoError("cannot rename to", path, errno));
  // The rename is durable once the directory entry is.
  std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) return IoError("cannot open", dir, errno);
  if (::fsync(dir_fd.get()) != 0) return IoError("cannot fsync", dir, errno);
  return Status::Ok();
}

Result<std::optional<std::string>> ReadFileIfExists(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return IoError("cannot open", path, errno);
  }
  std::string out;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot read", path, errno);
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > (std::size_t{1} << 20)) {
      return IoError("refusing to read more than 1 MiB of", path, EFBIG);
    }
  }
  return std::optional<std::string>(std::move(out));
}

Result<mode_t> FileMode(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return IoError("cannot stat", path, errno);
  return static_cast<mode_t>(st.st_mode & 07777);
}

Result<FileLock> FileLock::Acquire(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot open", path, errno);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int error = errno;
    ::close(fd);
    return IoError("cannot lock", path, error);
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace lunal::attest::sim::internal
