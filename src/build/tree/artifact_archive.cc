// The deterministic artifact archive (artifact_archive.h): libarchive's restricted pax writer
// over a sorted walk, with every varying field (owner, times, umask bits) fixed.
#include "lunal/build/artifact_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>
#include <vector>

#include "paths.h"

namespace lunal::build {

namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

Status ArchiveError(archive* a, std::string_view what) {
  const char* message = archive_error_string(a);
  return Unavailable("build.archive.io", "{}: {}", what, message ? message : "libarchive error");
}

Status Io(const std::string& path, const char* op, int error) {
  return Unavailable("build.archive.io", "{}: {}: {}", path, op, std::strerror(error));
}

// Copies the file's bytes into the archive: exactly `size` of them, as the header promised.
Status CopyFile(archive* a, int root_fd, const std::string& path, std::uint64_t size,
                std::vector<char>& buffer) {
  const int fd = internal::OpenBeneath(root_fd, path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ELOOP || errno == EXDEV || errno == ENOENT || errno == ENOTDIR) {
      return Conflict("build.tree.changed", "{}: missing, or reached through a symbolic link",
                      path);
    }
    return Io(path, "open", errno);
  }
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) return Io(path, "fstat", errno);
  if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) != size) {
    return Conflict("build.tree.changed", "{}: changed since the folder was listed", path);
  }
  std::uint64_t done = 0;
  while (done < size) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, size - done));
    const ssize_t n = read(fd, buffer.data(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Io(path, "read", errno);
    }
    if (n == 0) {
      return Conflict("build.tree.changed", "{}: shorter than when it was listed", path);
    }
    if (archive_write_data(a, buffer.data(), static_cast<std::size_t>(n)) != n) {
      return ArchiveError(a, path);
    }
    done += static_cast<std::uint64_t>(n);
  }
  return Status::Ok();
}

Status WriteEntries(archive* a, const std::filesystem::path& dir,
                    const std::vector<internal::WalkEntry>& entries, std::int64_t mtime) {
  const int root_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return Io(dir.string(), "open", errno);
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{root_fd};
  std::vector<char> buffer(kChunk);
  for (const internal::WalkEntry& w : entries) {
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), w.path.c_str());
    archive_entry_set_mtime(e.get(), static_cast<time_t>(mtime), 0);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    switch (w.kind) {
      case internal::WalkKind::kDirectory:
        archive_entry_set_filetype(e.get(), AE_IFDIR);
        archive_entry_set_perm(e.get(), 0755);
        break;
      case internal::WalkKind::kFile:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), w.executable ? 0755 : 0644);
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(w.size));
        break;
      case internal::WalkKind::kSymlink:
        archive_entry_set_filetype(e.get(), AE_IFLNK);
        archive_entry_set_perm(e.get(), 0777);
        archive_entry_set_symlink(e.get(), w.link_target.c_str());
        break;
    }
    if (archive_write_header(a, e.get()) != ARCHIVE_OK) return ArchiveError(a, w.path);
    if (w.kind == internal::WalkKind::kFile) {
      LUNAL_RETURN_IF_ERROR(CopyFile(a, root_fd, w.path, w.size, buffer));
    }
  }
  return Status::Ok();
}

}  // namespace

Status WriteDeterministicArchive(const std::filesystem::path& dir,
                                 const std::filesystem::path& out_file,
                                 const ArchiveOptions& options) {
  std::error_code ec;
  const std::filesystem::path abs_dir = std::filesystem::weakly_canonical(dir, ec);
  const std::filesystem::path abs_out = std::filesystem::weakly_canonical(out_file, ec);
  if (!ec) {
    const std::string d = abs_dir.string() + "/";
    if (abs_out.string().compare(0, d.size(), d) == 0) {
      return InvalidArgument("build.archive.output_inside", "{} is inside the folder archived, {}",
                             out_file.string(), dir.string());
    }
  }
  LUNAL_ASSIGN_OR_RETURN(std::vector<internal::WalkEntry> entries,
                         internal::WalkDirectory(dir, /*include_directories=*/true,
                                                 "build.archive.special_file", "build.archive.io"));

  std::unique_ptr<archive, ArchiveDeleter> a(archive_write_new());
  if (!a) return Internal("build.archive.io", "archive_write_new failed");
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "pax format");
  }
  // Pad the tar stream to whole 10240-byte records as tar(1) does, whatever the output is
  // (libarchive otherwise decides by the kind of file it writes to).
  if (archive_write_set_bytes_per_block(a.get(), 10240) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a.get(), 10240) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "block size");
  }
  if (options.gzip) {
    // RFC 1952 §2.3: MTIME 0 means "no time stamp"; libarchive writes no FNAME unless asked.
    if (archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK ||
        archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr) != ARCHIVE_OK) {
      return ArchiveError(a.get(), "gzip filter");
    }
  }
  if (archive_write_open_filename(a.get(), out_file.c_str()) != ARCHIVE_OK) {
    return ArchiveError(a.get(), out_file.string());
  }
  Status status = WriteEntries(a.get(), dir, entries, options.mtime);
  if (archive_write_close(a.get()) != ARCHIVE_OK && status.ok()) {
    status = ArchiveError(a.get(), out_file.string());
  }
  if (!status.ok()) std::filesystem::remove(out_file, ec);
  return status;
}

}  // namespace lunal::build
