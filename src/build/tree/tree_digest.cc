// The tree digest (docs/formats/tree-digest.md): validation, ScanDirectory and the parallel
// DigestTree.
#include "lunal/build/tree_digest.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>
#include <unordered_set>

#include "lunal/common/encoding.h"
#include "lunal/common/unique_fd.h"
#include "lunal/crypto/digest.h"
#include "paths.h"

namespace lunal::build {

namespace {

using Sha256Digest = std::array<std::uint8_t, 32>;

constexpr std::string_view kDomain = "lunal-tree-v1\n";
// Per-thread read buffer: large reads amortise the system call, and memory stays bounded by
// threads x kBufferSize whatever the file sizes.
constexpr std::size_t kBufferSize = std::size_t{1} << 20;

Status Io(const std::string& path, const char* op, int error) {
  return Unavailable("build.tree.io", "{}: {}: {}", path, op, std::strerror(error));
}

Status Changed(const std::string& path, std::string_view what) {
  return Conflict("build.tree.changed", "{}: {} (the tree changed since it was scanned)", path,
                  what);
}

Status OpenError(const std::string& path, int error) {
  // ELOOP / EXDEV: a symbolic link where the tree has a file or folder; ENOENT/ENOTDIR: gone.
  if (error == ELOOP || error == EXDEV || error == ENOENT || error == ENOTDIR) {
    return Changed(path, "missing, or reached through a symbolic link");
  }
  return Io(path, "open", error);
}

Status HashFile(int root_fd, const TreeEntry& entry, crypto::Hasher& hasher, std::uint8_t* buffer,
                Sha256Digest& out) {
  const UniqueFd fd(internal::OpenBeneath(root_fd, entry.path, O_RDONLY | O_NONBLOCK));
  if (fd.get() < 0) return OpenError(entry.path, errno);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Io(entry.path, "fstat", errno);
  if (!S_ISREG(st.st_mode)) return Changed(entry.path, "no longer a regular file");
  if (static_cast<std::uint64_t>(st.st_size) != entry.size) {
    return Changed(entry.path, fmt::format("{} bytes, the tree says {}", st.st_size, entry.size));
  }
  if (((st.st_mode & 0111) != 0) != entry.executable) {
    return Changed(entry.path, "execute bit differs from the tree");
  }
  std::uint64_t done = 0;
  while (done < entry.size) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kBufferSize, entry.size - done));
    const ssize_t n = pread(fd.get(), buffer, want, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Io(entry.path, "read", errno);
    }
    if (n == 0) return Changed(entry.path, "shorter than the tree says");
    hasher.Update(ByteSpan(buffer, static_cast<std::size_t>(n)));
    done += static_cast<std::uint64_t>(n);
  }
  const Bytes digest = hasher.Finish();
  std::copy(digest.begin(), digest.end(), out.begin());
  return Status::Ok();
}

Status HashSymlink(int root_fd, const TreeEntry& entry, Sha256Digest& out) {
  const UniqueFd fd(internal::OpenBeneath(root_fd, entry.path, O_PATH));
  if (fd.get() < 0) return OpenError(entry.path, errno);
  std::string target(entry.link_target.size() + 1, '\0');
  const ssize_t n = readlinkat(fd.get(), "", target.data(), target.size());
  if (n < 0) {
    if (errno == EINVAL || errno == ENOENT) return Changed(entry.path, "no longer a symbolic link");
    return Io(entry.path, "readlink", errno);
  }
  target.resize(static_cast<std::size_t>(n));
  if (target != entry.link_target) return Changed(entry.path, "symbolic link target differs");
  out = crypto::Sha256(AsBytes(entry.link_target));
  return Status::Ok();
}

// The CPUs this thread may run on (taskset, cgroup cpusets), at most hardware_concurrency().
unsigned DefaultThreads() {
  unsigned n = std::thread::hardware_concurrency();
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int allowed = CPU_COUNT(&set);
    if (allowed > 0 && (n == 0 || static_cast<unsigned>(allowed) < n)) {
      n = static_cast<unsigned>(allowed);
    }
  }
  return std::max(1u, n);
}

}  // namespace

std::string_view TreeEntryMode(const TreeEntry& entry) {
  if (entry.type == EntryType::kSymlink) return "120000";
  return entry.executable ? "100755" : "100644";
}

Status ValidateTree(const SourceTree& tree) {
  std::unordered_set<std::string_view> paths;
  paths.reserve(tree.entries.size());
  internal::LinkMap links;
  for (std::size_t i = 0; i < tree.entries.size(); ++i) {
    const TreeEntry& e = tree.entries[i];
    if (const std::string_view problem = internal::PathProblem(e.path); !problem.empty()) {
      return Malformed("build.tree.bad_path", "entry {}: {}", i, problem);
    }
    if (i > 0 && !(tree.entries[i - 1].path < e.path)) {
      return Malformed("build.tree.unsorted", "entry {} ({}) does not sort after {}", i, e.path,
                       tree.entries[i - 1].path);
    }
    if (e.type == EntryType::kFile && !e.link_target.empty()) {
      return Malformed("build.tree.bad_entry", "{}: a file with a link target", e.path);
    }
    if (e.type == EntryType::kSymlink) {
      if (e.size != e.link_target.size()) {
        return Malformed("build.tree.bad_entry", "{}: size {} but the target has {} bytes", e.path,
                         e.size, e.link_target.size());
      }
      links.emplace(e.path, e.link_target);
    }
    paths.insert(e.path);
  }
  for (const TreeEntry& e : tree.entries) {
    for (std::size_t slash = e.path.find('/'); slash != std::string::npos;
         slash = e.path.find('/', slash + 1)) {
      if (paths.count(std::string_view(e.path).substr(0, slash)) != 0) {
        return Malformed("build.tree.path_conflict", "{} is inside {}, which is an entry", e.path,
                         e.path.substr(0, slash));
      }
    }
    if (e.type == EntryType::kSymlink && !internal::LinkStaysInside(links, e.path, e.link_target)) {
      return Malformed("build.tree.link_escapes", "symbolic link {} -> {} leads outside the tree",
                       e.path, e.link_target);
    }
  }
  return Status::Ok();
}

Result<SourceTree> ScanDirectory(const std::filesystem::path& dir) {
  LUNAL_ASSIGN_OR_RETURN(std::vector<internal::WalkEntry> walked,
                         internal::WalkDirectory(dir, /*include_directories=*/false,
                                                 "build.tree.special_file", "build.tree.io"));
  SourceTree tree{.root = dir};
  tree.entries.reserve(walked.size());
  for (internal::WalkEntry& w : walked) {
    tree.entries.push_back(
        {.path = std::move(w.path),
         .type = w.kind == internal::WalkKind::kSymlink ? EntryType::kSymlink : EntryType::kFile,
         .executable = w.executable,
         .size = w.size,
         .link_target = std::move(w.link_target)});
  }
  return tree;
}

Result<TreeDigestResult> DigestTree(const SourceTree& tree, const TreeDigestOptions& options) {
  LUNAL_RETURN_IF_ERROR(ValidateTree(tree));
  const std::string root = tree.root.string();
  struct stat st;
  if (stat(root.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound("build.tree.not_found", "{}: no such folder", root);
    return Io(root, "stat", errno);
  }
  if (!S_ISDIR(st.st_mode))
    return InvalidArgument("build.tree.not_directory", "{}: not a folder", root);
  const UniqueFd root_fd(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root_fd.get() < 0) return Io(root, "open", errno);

  const std::size_t n = tree.entries.size();
  // Largest files first, so that a big file never starts last and leaves the other threads idle.
  std::vector<std::uint32_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return tree.entries[a].size > tree.entries[b].size;
  });

  unsigned threads = options.threads != 0 ? options.threads : DefaultThreads();
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(std::max<std::size_t>(
                                                         1, std::min<std::size_t>(n, 1024)))));
  std::vector<Sha256Digest> digests(n);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  // The error of the lowest-numbered failing entry each thread saw.
  std::vector<std::pair<std::size_t, Status>> errors(threads, {n, Status::Ok()});

  auto work = [&](unsigned t) {
    crypto::Hasher hasher(crypto::DigestAlgorithm::kSha256);
    std::unique_ptr<std::uint8_t[]> buffer;
    while (!failed.load(std::memory_order_relaxed)) {
      const std::size_t k = next.fetch_add(1, std::memory_order_relaxed);
      if (k >= n) break;
      const std::size_t i = order[k];
      const TreeEntry& e = tree.entries[i];
      Status s;
      if (e.type == EntryType::kSymlink) {
        s = HashSymlink(root_fd.get(), e, digests[i]);
      } else {
        if (!buffer) buffer = std::make_unique<std::uint8_t[]>(kBufferSize);
        s = HashFile(root_fd.get(), e, hasher, buffer.get(), digests[i]);
      }
      if (!s.ok()) {
        errors[t] = {i, std::move(s).WithContext(root + ": ")};
        failed.store(true, std::memory_order_relaxed);
        break;
      }
    }
  };
  std::vector<std::jthread> pool;
  pool.reserve(threads - 1);
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  pool.clear();  // joins
  if (failed.load()) {
    auto first = std::min_element(errors.begin(), errors.end(),
                                  [](const auto& a, const auto& b) { return a.first < b.first; });
    return first->second;
  }

  TreeDigestResult result;
  result.entry_digests.reserve(n);
  std::string listing(kDomain);
  listing.reserve(kDomain.size() + n * 80);
  for (std::size_t i = 0; i < n; ++i) {
    const TreeEntry& e = tree.entries[i];
    const std::string hex = HexEncode(digests[i]);
    listing.append(TreeEntryMode(e))
        .append(" ")
        .append(hex)
        .append(" ")
        .append(e.path)
        .append("\n");
    result.entry_digests.push_back("sha256:" + hex);
    result.bytes += e.size;
  }
  result.files = n;
  result.digest = "sha256:" + HexEncode(crypto::Sha256(AsBytes(listing)));
  return result;
}

}  // namespace lunal::build
