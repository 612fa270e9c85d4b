#include <fmt/format.h>

#include <algorithm>

#include "internal.h"
#include "lunal/common/files.h"

namespace lunal::build::internal {

std::string Reason(std::string_view prefix, std::string_view what) {
  return fmt::format("{}.{}", prefix, what);
}

Status CheckLinkTarget(std::string_view prefix, std::string_view link_path,
                       std::string_view target) {
  auto refuse = [&](std::string_view why) {
    // A folder or git tree can say what to leave out; an archive's author can fix the archive.
    std::string_view hint =
        prefix == "intake.tree" ? " (leave it out with .lunalignore or .gitignore)" : "";
    return InvalidArgument(Reason(prefix, "link_escapes"), "{}: symlink target \"{}\" {}{}",
                           link_path, target, why, hint);
  };
  if (target.empty()) return refuse("is empty");
  if (target.front() == '/') return refuse("is absolute");
  if (target.find('\0') != std::string_view::npos || target.find('\n') != std::string_view::npos) {
    return refuse("contains a NUL or newline byte");
  }
  // Depth of the link's folder below the root.
  long depth = static_cast<long>(std::count(link_path.begin(), link_path.end(), '/'));
  bool seen_name = false;
  std::string_view rest = target;
  while (!rest.empty()) {
    std::size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (seen_name) return refuse("has \"..\" after a name (it may climb out through a link)");
      if (--depth < 0) return refuse("leaves the tree");
    } else {
      seen_name = true;
      ++depth;
    }
  }
  return Status::Ok();
}

Status CheckPath(std::string_view prefix, std::string_view path, const IntakeLimits& limits) {
  if (path.find('\n') != std::string_view::npos || path.find('\0') != std::string_view::npos) {
    return InvalidArgument(Reason(prefix, "bad_name"), "\"{}\": a path with a newline or NUL byte",
                           path);
  }
  if (path.size() > limits.max_path_bytes) {
    return ResourceExhausted(Reason(prefix, "path_too_long"), "{}...: {} bytes, limit {}",
                             path.substr(0, 64), path.size(), limits.max_path_bytes);
  }
  long components = static_cast<long>(std::count(path.begin(), path.end(), '/')) + 1;
  if (components > limits.max_depth) {
    return ResourceExhausted(Reason(prefix, "too_deep"), "{}...: {} levels deep, limit {}",
                             path.substr(0, 64), components, limits.max_depth);
  }
  return Status::Ok();
}

Status Charge(std::string_view prefix, std::string_view path, std::uint64_t bytes,
              const IntakeLimits& limits, Budget& budget) {
  if (++budget.files > limits.max_files) {
    return ResourceExhausted(Reason(prefix, "too_many_files"), "{}: more than {} entries", path,
                             limits.max_files);
  }
  if (bytes > limits.max_file_bytes) {
    return ResourceExhausted(Reason(prefix, "file_too_large"), "{}: {} bytes, limit {}", path,
                             bytes, limits.max_file_bytes);
  }
  budget.bytes += bytes;
  if (budget.bytes > limits.max_total_bytes) {
    return ResourceExhausted(Reason(prefix, "too_large"), "{}: more than {} bytes in all", path,
                             limits.max_total_bytes);
  }
  return Status::Ok();
}

Result<std::optional<IgnoreFile>> LoadIgnoreFile(const std::filesystem::path& root,
                                                 std::string_view rel, std::string_view base) {
  std::error_code ec;
  std::filesystem::path path = root / rel;
  std::filesystem::file_status st = std::filesystem::symlink_status(path, ec);
  if (ec || !std::filesystem::is_regular_file(st)) return std::optional<IgnoreFile>();
  constexpr std::size_t kMaxIgnoreFile = std::size_t{4} << 20;
  Result<std::string> text = ReadFile(path, {.max_bytes = kMaxIgnoreFile, .no_follow = true});
  if (!text) {
    if (text.error().reason() == "file.too_large") {
      return ResourceExhausted("intake.tree.ignore_file_too_large", "{}: more than {} bytes", rel,
                               kMaxIgnoreFile);
    }
    return Unavailable("intake.tree.io", "{}: {}", rel, text.error().message());
  }
  return std::optional<IgnoreFile>(IgnoreFile::Parse(*text, base));
}

bool AlwaysExcluded(std::string_view name) { return name == ".git" || name == ".lunal"; }

}  // namespace lunal::build::internal
