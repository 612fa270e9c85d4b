// An owned POSIX file descriptor: the one RAII holder used wherever code opens a descriptor
// itself (files, subprocess pipes, build-tree walks, sysfs/configfs I/O, the node's device
// socket). POSIX only (close(2)).
//
// Contract:
//   - A UniqueFd holds one descriptor number or -1 (empty). Any negative number given to the
//     constructor or reset() is stored as given and treated as empty (never closed), so the
//     result of a failed open(2) can be wrapped first and checked with valid() / get() < 0.
//   - The destructor closes a held descriptor and ignores close(2)'s result; callers that must
//     see a deferred error (a write-back failure reported by close on some file systems) call
//     Close() and check what it returns.
//   - Move-only: moving transfers ownership and leaves the source empty; move assignment first
//     closes what the target held. Copying is not allowed (two owners would close twice).
//   - release() hands the number to the caller without closing it; reset(fd) closes the held
//     descriptor (unless it is `fd` itself) and takes `fd`.
//   - close(2) is never retried on EINTR (on Linux the descriptor is released either way).
//
// Errors: Close() returns close(2)'s errno (0 on success), EBADF for an empty object (like
// close(-1), but without the call); errno is left as close(2) set it. Nothing else reports errors.
//
// Thread-safety: none of its own; one object belongs to one thread at a time (like an int). The
// descriptor itself may be used from several threads through get(), as the kernel allows.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace lunal {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }

  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }

  // The held number (negative when empty); ownership stays here.
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Gives up ownership without closing: the caller now owns the returned number (-1 if empty).
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }

  // Closes the held descriptor (ignoring close(2)'s result) and takes `fd`.
  void reset(int fd = -1) {
    const int old = std::exchange(fd_, fd);
    if (old >= 0 && old != fd) ::close(old);
  }

  // Closes now and returns close(2)'s errno, or 0 when it succeeded; the object is empty
  // afterwards either way. EBADF when the object was already empty.
  int Close() {
    const int old = std::exchange(fd_, -1);
    if (old < 0) return EBADF;
    return ::close(old) == 0 ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

}  // namespace lunal
