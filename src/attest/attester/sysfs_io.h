// File operations on kernel attribute trees (configfs, sysfs) and devices, with errors that name
// the file and map errno to a stable reason under a caller-given prefix ("attest.configfs"):
//   EACCES, EPERM  kPermissionDenied  <prefix>.permission_denied
//   ENXIO, ENODEV  kUnavailable       <prefix>.no_provider (configfs: no TSM driver registered)
//   EFBIG          kResourceExhausted <prefix>.<what>_too_large (configfs: blob over its maximum)
//   otherwise      kUnavailable       <prefix>.io
// Reads go until end of file, so they work the same on regular files, kernel attributes (whose
// size is unknown before reading) and FIFOs. Not thread-safe only in the sense that the files are
// shared state; the functions keep none.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"

namespace lunal::attest::internal {

// The Status for `err` from `op` ("read", "open", "mkdir") on `path`. `what` names the object
// for the too-large reason ("outblob").
Status ErrnoStatus(int err, std::string_view prefix, std::string_view what, std::string_view op,
                   const std::filesystem::path& path);

// The whole file, failing with kResourceExhausted <prefix>.<what>_too_large as soon as it holds
// more than `max` bytes (reading stops there).
Result<Bytes> ReadBounded(const std::filesystem::path& path, std::size_t max,
                          std::string_view prefix, std::string_view what);
// As ReadBounded, but a file that does not exist is std::nullopt.
Result<std::optional<Bytes>> ReadBoundedIfExists(const std::filesystem::path& path, std::size_t max,
                                                 std::string_view prefix, std::string_view what);
// A short text attribute ("tdx_guest\n"), without its trailing newline (at most 4 KiB, a page:
// what sysfs_emit can produce).
Result<std::string> ReadAttribute(const std::filesystem::path& path, std::string_view prefix,
                                  std::string_view what);
// Writes all of `data` to an existing file (never creates one) and closes it, reporting a failed
// close. configfs hands a binary attribute's data to the driver only at close and cannot report
// the driver's failure there: callers check the effect (configfs-tsm: the generation).
Status WriteExisting(const std::filesystem::path& path, ByteSpan data, std::string_view prefix,
                     std::string_view what);

}  // namespace lunal::attest::internal
