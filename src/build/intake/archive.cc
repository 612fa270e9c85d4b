// IntakeArchive: extraction entry by entry, every path opened relative to a folder fd of the
// extraction root, never through a link (openat with O_NOFOLLOW | O_CREAT | O_EXCL), so that no
// entry can redirect a later one. libarchive only decodes: it never writes to disk here
// (archive_read_extract is not used).
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "internal.h"
#include "lunal/build/intake.h"
#include "lunal/common/encoding.h"
#include "lunal/common/unique_fd.h"
#include "lunal/crypto/digest.h"

namespace lunal::build {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kArchive = "intake.archive";
// Below this many unpacked bytes the compression ratio is not judged: a small text file in a
// tar.gz easily compresses 100:1 and harms nobody.
constexpr std::uint64_t kRatioGraceBytes = std::uint64_t{1} << 20;
// libarchive's ARCHIVE_ERRNO_FILE_FORMAT on Linux ("Unrecognized archive format"): archive.h
// lists the name only; archive_platform.h defines it as EILSEQ.
constexpr int kFileFormatErrno = EILSEQ;

struct ArchiveCloser {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

enum class Kind { kFolder, kFile, kSymlink };

Status Io(std::string_view path, std::string_view what, int err) {
  return Unavailable("intake.archive.io", "{}: {}: {}", path, what, std::strerror(err));
}

// The entry's path as '/'-joined components: "./a//b/" → "a/b"; "" for the root itself.
// Errors: absolute_path, path_traversal (any ".." component: "a/../b" too, since nothing
// legitimate needs it and normalising it would let "a/../../x" through by accident).
Result<std::string> NormalisePath(std::string_view raw, const IntakeLimits& limits) {
  if (!raw.empty() && raw.front() == '/') {
    return InvalidArgument("intake.archive.absolute_path", "\"{}\": an absolute path", raw);
  }
  std::string out;
  for (std::string_view rest = raw; !rest.empty();) {
    std::size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      return InvalidArgument("intake.archive.path_traversal", "\"{}\": a \"..\" component", raw);
    }
    if (!out.empty()) out += '/';
    out += part;
    if (out.size() > limits.max_path_bytes) break;  // CheckPath reports it
  }
  if (!out.empty()) LUNAL_RETURN_IF_ERROR(internal::CheckPath(kArchive, out, limits));
  return out;
}

class Extractor {
 public:
  Extractor(struct archive* a, int root_fd, std::uint64_t archive_bytes,
            const IntakeOptions& options)
      : a_(a), root_fd_(root_fd), archive_bytes_(archive_bytes), limits_(options.limits) {}

  Status Run() {
    std::vector<char> buf(std::size_t{1} << 17);
    buf_.swap(buf);
    bool first = true;
    while (true) {
      struct archive_entry* entry = nullptr;
      int rc = archive_read_next_header(a_, &entry);
      if (rc == ARCHIVE_EOF) return Status::Ok();
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
        // No format bid for the data: not a tar or zip (or a tar inside an unsupported filter).
        if (first && archive_format(a_) == 0 && archive_errno(a_) == kFileFormatErrno) {
          return Unsupported("intake.archive.unsupported_format",
                             "not a .tar, .tar.gz or .zip archive ({})", ErrorString());
        }
        return Malformed("intake.archive.corrupt", "reading entry {}: {}", entries_ + 1,
                         ErrorString());
      }
      first = false;
      LUNAL_RETURN_IF_ERROR(Entry(entry));
    }
  }

 private:
  std::string ErrorString() const {
    const char* s = archive_error_string(a_);
    return s ? s : "unknown libarchive error";
  }

  Status Entry(struct archive_entry* entry) {
    const char* raw = archive_entry_pathname_utf8(entry);
    if (raw == nullptr) raw = archive_entry_pathname(entry);
    if (raw == nullptr) {
      return Malformed("intake.archive.corrupt", "entry {} has no path", entries_ + 1);
    }
    if (++entries_ > limits_.max_files) {
      return ResourceExhausted("intake.archive.too_many_files", "{}: more than {} entries", raw,
                               limits_.max_files);
    }
    LUNAL_ASSIGN_OR_RETURN(std::string path, NormalisePath(raw, limits_));
    const char* hardlink = archive_entry_hardlink(entry);
    if (hardlink != nullptr) return Hardlink(path, hardlink);
    mode_t type = archive_entry_filetype(entry);
    if (path.empty()) {
      if (type == AE_IFDIR) return Status::Ok();  // "./": the root itself
      return InvalidArgument("intake.archive.path_traversal", "\"{}\": names the root", raw);
    }
    switch (type) {
      case AE_IFDIR:
        return Folder(path);
      case AE_IFREG:
        return File(path, (archive_entry_perm(entry) & 0111) != 0);
      case AE_IFLNK: {
        const char* target = archive_entry_symlink_utf8(entry);
        if (target == nullptr) target = archive_entry_symlink(entry);
        return Symlink(path, target == nullptr ? "" : target);
      }
      default:
        return InvalidArgument("intake.archive.special_file",
                               "{}: a device, FIFO or socket (type {:o}) is not allowed", path,
                               type);
    }
  }

  // Opens the folder holding `path`, creating missing folders on the way; every component is
  // opened O_NOFOLLOW | O_DIRECTORY relative to the previous one.
  Result<UniqueFd> Parent(const std::string& path, std::string* name) {
    UniqueFd cur(::dup(root_fd_));
    if (cur.get() < 0) return Io(path, "dup", errno);
    std::size_t start = 0;
    while (true) {
      std::size_t slash = path.find('/', start);
      if (slash == std::string::npos) break;
      std::string so_far = path.substr(0, slash);
      std::string part = path.substr(start, slash - start);
      auto it = kinds_.find(so_far);
      if (it == kinds_.end()) {
        if (::mkdirat(cur.get(), part.c_str(), 0755) != 0) return Io(so_far, "mkdir", errno);
        kinds_[so_far] = Kind::kFolder;
      } else if (it->second == Kind::kSymlink) {
        return InvalidArgument("intake.archive.through_link",
                               "{}: \"{}\" is a symlink of this archive", path, so_far);
      } else if (it->second == Kind::kFile) {
        return InvalidArgument("intake.archive.duplicate_entry", "{}: \"{}\" is a file", path,
                               so_far);
      }
      UniqueFd next(
          ::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (next.get() < 0) return Io(so_far, "open folder", errno);
      cur = std::move(next);
      start = slash + 1;
    }
    *name = path.substr(start);
    return cur;
  }

  // A new name in this archive (a folder may be named again: archives often list a folder
  // after files inside it).
  Status Claim(const std::string& path, Kind kind) {
    auto [it, inserted] = kinds_.emplace(path, kind);
    if (!inserted && !(kind == Kind::kFolder && it->second == Kind::kFolder)) {
      return InvalidArgument("intake.archive.duplicate_entry", "{}: appears twice", path);
    }
    return Status::Ok();
  }

  Status Folder(const std::string& path) {
    bool existed = kinds_.count(path) != 0;
    LUNAL_RETURN_IF_ERROR(Claim(path, Kind::kFolder));
    if (existed) return Status::Ok();
    std::string name;
    LUNAL_ASSIGN_OR_RETURN(UniqueFd parent, Parent(path, &name));
    if (::mkdirat(parent.get(), name.c_str(), 0755) != 0) return Io(path, "mkdir", errno);
    return Status::Ok();
  }

  Status Symlink(const std::string& path, std::string_view target) {
    LUNAL_RETURN_IF_ERROR(internal::CheckLinkTarget(kArchive, path, target));
    LUNAL_RETURN_IF_ERROR(Claim(path, Kind::kSymlink));
    std::string name;
    LUNAL_ASSIGN_OR_RETURN(UniqueFd parent, Parent(path, &name));
    if (::symlinkat(std::string(target).c_str(), parent.get(), name.c_str()) != 0) {
      return Io(path, "symlink", errno);
    }
    return Status::Ok();
  }

  Result<UniqueFd> Create(const std::string& path, bool executable) {
    LUNAL_RETURN_IF_ERROR(Claim(path, Kind::kFile));
    std::string name;
    LUNAL_ASSIGN_OR_RETURN(UniqueFd parent, Parent(path, &name));
    mode_t mode = executable ? 0755 : 0644;
    UniqueFd out(::openat(parent.get(), name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (out.get() < 0) return Io(path, "create", errno);
    if (::fchmod(out.get(), mode) != 0) return Io(path, "chmod", errno);
    return out;
  }

  // Limits on bytes actually produced, checked before each write (headers' sizes are not
  // trusted: a header may understate what the data decompresses to).
  Status Count(const std::string& path, std::uint64_t file_bytes, std::uint64_t more) {
    if (file_bytes + more > limits_.max_file_bytes) {
      return ResourceExhausted("intake.archive.file_too_large", "{}: more than {} bytes", path,
                               limits_.max_file_bytes);
    }
    total_ += more;
    if (total_ > limits_.max_total_bytes) {
      return ResourceExhausted("intake.archive.too_large", "{}: more than {} bytes unpacked", path,
                               limits_.max_total_bytes);
    }
    if (total_ > kRatioGraceBytes && limits_.max_compression_ratio > 0 &&
        total_ / limits_.max_compression_ratio > archive_bytes_) {
      return ResourceExhausted("intake.archive.compression_ratio",
                               "{}: more than {} times the archive's {} bytes unpacked", path,
                               limits_.max_compression_ratio, archive_bytes_);
    }
    return Status::Ok();
  }

  Status Write(const std::string& path, int fd, const char* data, std::size_t n) {
    for (std::size_t off = 0; off < n;) {
      ssize_t w = ::write(fd, data + off, n - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Io(path, "write", errno);
      off += static_cast<std::size_t>(w);
    }
    return Status::Ok();
  }

  Status File(const std::string& path, bool executable) {
    LUNAL_ASSIGN_OR_RETURN(UniqueFd out, Create(path, executable));
    std::uint64_t written = 0;
    while (true) {
      la_ssize_t n = archive_read_data(a_, buf_.data(), buf_.size());
      if (n == 0) break;
      if (n < 0) {
        return Malformed("intake.archive.corrupt", "{}: {}", path, ErrorString());
      }
      auto got = static_cast<std::uint64_t>(n);
      LUNAL_RETURN_IF_ERROR(Count(path, written, got));
      LUNAL_RETURN_IF_ERROR(Write(path, out.get(), buf_.data(), static_cast<std::size_t>(n)));
      written += got;
    }
    return Status::Ok();
  }

  // Hardlinks are allowed only to an earlier regular file of this archive, and become a copy
  // of it (the extracted tree never shares an inode, with the archive's files or anything else).
  Status Hardlink(const std::string& path, std::string_view raw_target) {
    Result<std::string> target = NormalisePath(raw_target, limits_);
    auto it = target ? kinds_.find(*target) : kinds_.end();
    if (!target || it == kinds_.end() || it->second != Kind::kFile) {
      return InvalidArgument("intake.archive.link_escapes",
                             "{}: hardlink to \"{}\", which is not an earlier file of the archive",
                             path, raw_target);
    }
    std::string target_name;
    LUNAL_ASSIGN_OR_RETURN(UniqueFd target_parent, Parent(*target, &target_name));
    UniqueFd in(
        ::openat(target_parent.get(), target_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (in.get() < 0) return Io(*target, "open", errno);
    struct stat st = {};
    if (::fstat(in.get(), &st) != 0) return Io(*target, "fstat", errno);
    LUNAL_ASSIGN_OR_RETURN(UniqueFd out, Create(path, (st.st_mode & 0111) != 0));
    std::uint64_t written = 0;
    while (true) {
      ssize_t n = ::read(in.get(), buf_.data(), buf_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Io(*target, "read", errno);
      if (n == 0) break;
      auto got = static_cast<std::uint64_t>(n);
      LUNAL_RETURN_IF_ERROR(Count(path, written, got));
      LUNAL_RETURN_IF_ERROR(Write(path, out.get(), buf_.data(), static_cast<std::size_t>(n)));
      written += got;
    }
    return Status::Ok();
  }

  struct archive* a_;
  int root_fd_;
  std::uint64_t archive_bytes_;
  IntakeLimits limits_;
  std::uint64_t entries_ = 0;
  std::uint64_t total_ = 0;
  std::map<std::string, Kind> kinds_;
  std::vector<char> buf_;
};

// SHA-256 of the open file (then rewound), so the digest is of the bytes extracted.
Result<std::string> DigestFd(int fd, const std::string& path) {
  crypto::Hasher hasher(crypto::DigestAlgorithm::kSha256);
  std::vector<std::uint8_t> buf(std::size_t{1} << 17);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Io(path, "read", errno);
    if (n == 0) break;
    hasher.Update(ByteSpan(buf.data(), static_cast<std::size_t>(n)));
  }
  if (::lseek(fd, 0, SEEK_SET) != 0) return Io(path, "lseek", errno);
  return "sha256:" + HexEncode(hasher.Finish());
}

Status Extract(int archive_fd, std::uint64_t archive_bytes, int root_fd,
               const IntakeOptions& options) {
  std::unique_ptr<struct archive, ArchiveCloser> a(archive_read_new());
  if (!a) return Internal("intake.archive.io", "archive_read_new failed");
  // Content detection among exactly the formats promised: tar (ustar, pax, GNU) and zip, with
  // gzip or no compression.
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  archive_read_support_format_zip(a.get());
  if (archive_read_open_fd(a.get(), archive_fd, 1 << 16) != ARCHIVE_OK) {
    const char* s = archive_error_string(a.get());
    if (archive_errno(a.get()) == kFileFormatErrno) {
      return Unsupported("intake.archive.unsupported_format", "not a .tar, .tar.gz or .zip ({})",
                         s ? s : "unrecognised");
    }
    return Malformed("intake.archive.corrupt", "{}", s ? s : "unreadable archive");
  }
  return Extractor(a.get(), root_fd, archive_bytes, options).Run();
}

}  // namespace

Result<IntakeResult> IntakeArchive(const fs::path& archive, const fs::path& work_dir,
                                   const IntakeOptions& options) {
  std::error_code ec;
  fs::path archive_abs = fs::absolute(archive, ec).lexically_normal();
  UniqueFd in(::open(archive.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (in.get() < 0) {
    if (errno == ENOENT)
      return NotFound("intake.archive.not_found", "{}: no such file", archive.string());
    return Io(archive.string(), "open", errno);
  }
  struct stat st = {};
  if (::fstat(in.get(), &st) != 0) return Io(archive.string(), "fstat", errno);
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgument("intake.archive.not_a_file", "{}: not a regular file", archive.string());
  }
  LUNAL_ASSIGN_OR_RETURN(std::string digest, DigestFd(in.get(), archive.string()));

  UniqueFd work(::open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (work.get() < 0) {
    return InvalidArgument("intake.work_dir.not_directory", "{}: {}", work_dir.string(),
                           std::strerror(errno));
  }
  if (::mkdirat(work.get(), "source", 0755) != 0) {
    if (errno == EEXIST) {
      return Conflict("intake.work_dir.source_exists", "{}/source already exists",
                      work_dir.string());
    }
    return Io((work_dir / "source").string(), "mkdir", errno);
  }
  fs::path source = work_dir / "source";
  auto fail = [&](Status s) {
    std::error_code rm_ec;
    fs::remove_all(source, rm_ec);  // never follows links
    return s;
  };
  UniqueFd root(::openat(work.get(), "source", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (root.get() < 0) return fail(Io(source.string(), "open", errno));
  Status extracted = Extract(in.get(), static_cast<std::uint64_t>(st.st_size), root.get(), options);
  if (!extracted.ok()) return fail(std::move(extracted));
  Result<IntakeResult> result = IntakeFolder(source, options);
  if (!result) return fail(std::move(result).error());
  result->origin = {.kind = "archive", .uri = archive_abs.string(), .digest = digest, .ref = ""};
  return result;
}

}  // namespace lunal::build
