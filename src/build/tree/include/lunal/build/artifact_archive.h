// A deterministic tar of an output folder: the same bytes for the same tree whatever the files'
// owners, timestamps, umask, creation order or the file system's directory order.
//
// Format (POSIX pax, libarchive's restricted pax writer: a ustar header per entry, a pax
// extended header only when ustar cannot hold a field, e.g. a name over 100 bytes):
//   - every folder (without the root itself), regular file and symlink under `dir`, sorted by
//     path compared as bytes, so a folder precedes its contents;
//   - mtime = options.mtime (seconds, SOURCE_DATE_EPOCH), uid = gid = 0, no user or group
//     names, no atime/ctime/xattrs/ACLs;
//   - mode 0755 for folders and for files with any execute bit, 0644 for other files, 0777 for
//     symlinks, whose target is stored as it is; hard links are stored as separate files;
//   - with options.gzip, a gzip stream (RFC 1952) without a file name and with MTIME 0.
//
// Refused: special files (build.archive.special_file, kInvalidArgument), symlinks whose target is
// absolute or leaves `dir` (build.tree.link_escapes), names with a newline (build.tree.bad_path),
// an output file inside `dir` (build.archive.output_inside, kInvalidArgument). I/O failures are
// build.archive.io (kUnavailable); a file that changes size while archived build.tree.changed.
// On failure the output file is removed. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <filesystem>

#include "lunal/common/status.h"

namespace lunal::build {

struct ArchiveOptions {
  std::int64_t mtime = 0;  // seconds since the epoch, for every entry
  bool gzip = false;
};

Status WriteDeterministicArchive(const std::filesystem::path& dir,
                                 const std::filesystem::path& out_file,
                                 const ArchiveOptions& options = {});

}  // namespace lunal::build
