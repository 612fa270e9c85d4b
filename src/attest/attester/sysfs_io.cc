#include "sysfs_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "lunal/common/unique_fd.h"

namespace lunal::attest::internal {
namespace {

std::string ErrnoText(int err) {
  std::array<char, 128> buffer{};
  // GNU strerror_r returns the message (possibly a static string), not an int.
  return ::strerror_r(err, buffer.data(), buffer.size());
}

// Reads until end of file, failing as soon as more than `max` bytes arrived.
Result<Bytes> ReadFd(int fd, const std::filesystem::path& path, std::size_t max,
                     std::string_view prefix, std::string_view what) {
  Bytes out;
  std::array<std::uint8_t, 16384> chunk{};
  for (;;) {
    ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, prefix, what, "read", path);
    }
    if (n == 0) return out;
    auto got = static_cast<std::size_t>(n);
    if (got > max - out.size()) {
      return ResourceExhausted(std::string(prefix) + "." + std::string(what) + "_too_large",
                               "{}: more than {} bytes (our bound for {})", path.string(), max,
                               what);
    }
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  }
}

}  // namespace

Status ErrnoStatus(int err, std::string_view prefix, std::string_view what, std::string_view op,
                   const std::filesystem::path& path) {
  std::string p(prefix);
  std::string message = fmt::format("{} {}: {}", op, path.string(), ErrnoText(err));
  switch (err) {
    case EACCES:
    case EPERM:
      return PermissionDenied(p + ".permission_denied", std::move(message));
    case ENXIO:
    case ENODEV:
      return Unavailable(p + ".no_provider", std::move(message));
    case EFBIG:
      return ResourceExhausted(p + "." + std::string(what) + "_too_large", std::move(message));
    default:
      return Unavailable(p + ".io", std::move(message));
  }
}

Result<Bytes> ReadBounded(const std::filesystem::path& path, std::size_t max,
                          std::string_view prefix, std::string_view what) {
  LUNAL_ASSIGN_OR_RETURN(std::optional<Bytes> bytes, ReadBoundedIfExists(path, max, prefix, what));
  if (!bytes) return ErrnoStatus(ENOENT, prefix, what, "open", path);
  return std::move(*bytes);
}

Result<std::optional<Bytes>> ReadBoundedIfExists(const std::filesystem::path& path, std::size_t max,
                                                 std::string_view prefix, std::string_view what) {
  int raw;
  do {
    raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) {
    if (errno == ENOENT) return std::optional<Bytes>();
    return ErrnoStatus(errno, prefix, what, "open", path);
  }
  UniqueFd fd(raw);
  LUNAL_ASSIGN_OR_RETURN(Bytes bytes, ReadFd(fd.get(), path, max, prefix, what));
  return std::optional<Bytes>(std::move(bytes));
}

Result<std::string> ReadAttribute(const std::filesystem::path& path, std::string_view prefix,
                                  std::string_view what) {
  LUNAL_ASSIGN_OR_RETURN(Bytes bytes, ReadBounded(path, 4096, prefix, what));
  std::string text = ToString(bytes);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

Status WriteExisting(const std::filesystem::path& path, ByteSpan data, std::string_view prefix,
                     std::string_view what) {
  int raw;
  do {
    raw = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) return ErrnoStatus(errno, prefix, what, "open", path);
  UniqueFd fd(raw);
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, prefix, what, "write", path);
    }
    done += static_cast<std::size_t>(n);
  }
  if (int err = fd.Close(); err != 0) return ErrnoStatus(err, prefix, what, "close", path);
  return Status::Ok();
}

}  // namespace lunal::attest::internal
