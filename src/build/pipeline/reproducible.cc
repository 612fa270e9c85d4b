// VerifyReproducible (pipeline.h): two full builds in fresh work folders and sandboxes, then the
// differences, in the terms a developer can act on: manifest fields, then each differing output
// file with its first differing byte (reproducible-builds.org's "diffoscope" question, answered
// with the first offset only).
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "internal.h"
#include "lunal/build/pipeline.h"
#include "lunal/build/tree_digest.h"
#include "lunal/common/encoding.h"
#include "lunal/common/unique_fd.h"

namespace lunal::build {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kShownBytes = 16;
constexpr std::size_t kChunk = std::size_t{64} << 10;

// Every leaf of the manifest JSON that differs, by JSON path ("artifacts[0].digest").
void DiffJson(const Json& a, const Json& b, const std::string& path, std::vector<Difference>& out) {
  if (a == b) return;
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.insert(k);
    for (const auto& [k, v] : b.items()) keys.insert(k);
    for (const std::string& k : keys) {
      const std::string child = path.empty() ? k : path + "." + k;
      const bool in_a = a.contains(k), in_b = b.contains(k);
      if (in_a && in_b) {
        DiffJson(a[k], b[k], child, out);
      } else {
        out.push_back({.kind = "manifest",
                       .where = child,
                       .a = in_a ? a[k].dump() : "",
                       .b = in_b ? b[k].dump() : ""});
      }
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
      const std::string child = fmt::format("{}[{}]", path, i);
      if (i < a.size() && i < b.size()) {
        DiffJson(a[i], b[i], child, out);
      } else {
        out.push_back({.kind = "manifest",
                       .where = child,
                       .a = i < a.size() ? a[i].dump() : "",
                       .b = i < b.size() ? b[i].dump() : ""});
      }
    }
    return;
  }
  out.push_back({.kind = "manifest", .where = path, .a = a.dump(), .b = b.dump()});
}

// Opens a file for reading, never through a symbolic link (-1 on failure, errno set).
int OpenToRead(const fs::path& p) { return ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW); }

// Reads up to buffer.size() bytes at `offset`; the count read.
Result<std::size_t> ReadAt(const UniqueFd& fd, const fs::path& p, std::uint64_t offset,
                           std::span<std::uint8_t> buffer) {
  std::size_t got = 0;
  while (got < buffer.size()) {
    ssize_t n = ::pread(fd.get(), buffer.data() + got, buffer.size() - got,
                        static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Unavailable("build.pipeline.io", "{}: read: {}", p.string(), std::strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

// The first differing byte of two files, as a Difference; nullopt when they are equal.
Result<std::optional<Difference>> CompareFiles(const fs::path& pa, const fs::path& pb,
                                               const std::string& where) {
  UniqueFd fa(OpenToRead(pa)), fb(OpenToRead(pb));
  if (fa.get() < 0 || fb.get() < 0) {
    return Unavailable("build.pipeline.io", "cannot open {} or {}", pa.string(), pb.string());
  }
  std::vector<std::uint8_t> ba(kChunk), bb(kChunk);
  for (std::uint64_t offset = 0;; offset += kChunk) {
    LUNAL_ASSIGN_OR_RETURN(std::size_t na, ReadAt(fa, pa, offset, ba));
    LUNAL_ASSIGN_OR_RETURN(std::size_t nb, ReadAt(fb, pb, offset, bb));
    const std::size_t n = std::min(na, nb);
    auto [ia, ib] =
        std::mismatch(ba.begin(), ba.begin() + static_cast<std::ptrdiff_t>(n), bb.begin());
    std::size_t at = static_cast<std::size_t>(ia - ba.begin());
    if (at == n && na == nb) {
      if (na < kChunk) return std::optional<Difference>();
      continue;
    }
    const std::uint64_t diff = offset + at;
    std::array<std::uint8_t, kShownBytes> sa{}, sb{};
    LUNAL_ASSIGN_OR_RETURN(std::size_t ka, ReadAt(fa, pa, diff, sa));
    LUNAL_ASSIGN_OR_RETURN(std::size_t kb, ReadAt(fb, pb, diff, sb));
    return std::optional<Difference>(Difference{.kind = "file",
                                                .where = where,
                                                .offset = diff,
                                                .a = HexEncode(ByteSpan(sa.data(), ka)),
                                                .b = HexEncode(ByteSpan(sb.data(), kb))});
  }
}

std::string Describe(const TreeEntry& e) {
  if (e.type == EntryType::kSymlink) return "symlink -> " + e.link_target;
  return e.executable ? "executable file" : "file";
}

// Each differing path of two output folders, in path order.
Status DiffOutputs(const fs::path& a, const fs::path& b, std::vector<Difference>& out) {
  LUNAL_ASSIGN_OR_RETURN(SourceTree ta, ScanDirectory(a));
  LUNAL_ASSIGN_OR_RETURN(SourceTree tb, ScanDirectory(b));
  std::map<std::string, std::pair<const TreeEntry*, const TreeEntry*>> paths;
  for (const TreeEntry& e : ta.entries) paths[e.path].first = &e;
  for (const TreeEntry& e : tb.entries) paths[e.path].second = &e;
  for (const auto& [path, pair] : paths) {
    const auto [ea, eb] = pair;
    if (ea == nullptr || eb == nullptr) {
      out.push_back({.kind = ea == nullptr ? "only_in_b" : "only_in_a",
                     .where = path,
                     .a = ea ? Describe(*ea) : "",
                     .b = eb ? Describe(*eb) : ""});
    } else if (Describe(*ea) != Describe(*eb)) {
      out.push_back({.kind = "mode", .where = path, .a = Describe(*ea), .b = Describe(*eb)});
    } else if (ea->type == EntryType::kFile) {
      LUNAL_ASSIGN_OR_RETURN(auto d, CompareFiles(a / path, b / path, path));
      if (d) out.push_back(std::move(*d));
    }
  }
  return Status();
}

}  // namespace

std::string Difference::ToString() const {
  if (kind == "manifest") {
    return fmt::format("manifest {}: {} vs {}", where, a.empty() ? "(absent)" : a,
                       b.empty() ? "(absent)" : b);
  }
  if (kind == "file") {
    return fmt::format("{}: differs from byte {}: {} vs {}", where, offset,
                       a.empty() ? "(end of file)" : a, b.empty() ? "(end of file)" : b);
  }
  if (kind == "mode") return fmt::format("{}: {} vs {}", where, a, b);
  return fmt::format("{}: only in build {}", where, kind == "only_in_a" ? 1 : 2);
}

Result<ReproducibilityReport> VerifyReproducible(const BuildOptions& options) {
  auto labelled = [&](std::string label) {
    BuildOptions o = options;
    if (options.progress) {
      o.progress = [&options, label](std::string_view line) {
        options.progress(fmt::format("[{}] {}", label, line));
      };
    }
    return o;
  };
  LUNAL_ASSIGN_OR_RETURN(internal::Execution a,
                         internal::Execute(labelled("build 1/2"), /*publish=*/true));
  LUNAL_ASSIGN_OR_RETURN(internal::Execution b,
                         internal::Execute(labelled("build 2/2"), /*publish=*/false));
  ReproducibilityReport report;
  report.hash_a = a.result.build_hash;
  report.hash_b = b.result.build_hash;
  report.reproducible = report.hash_a == report.hash_b;
  if (!report.reproducible) {
    DiffJson(ManifestToJson(a.result.manifest), ManifestToJson(b.result.manifest), "",
             report.differences);
    const std::size_t before = report.differences.size();
    LUNAL_RETURN_IF_ERROR(
        DiffOutputs(a.work.path() / "out", b.work.path() / "out", report.differences));
    // Folders are implicit in the scan: an archive that differs with no file to blame (an empty
    // folder in one build only) is compared as it is.
    if (report.differences.size() == before &&
        a.result.manifest.artifacts != b.result.manifest.artifacts) {
      LUNAL_ASSIGN_OR_RETURN(
          auto d, CompareFiles(a.result.artifact, b.result.artifact, std::string(kArtifactFile)));
      if (d) report.differences.push_back(std::move(*d));
    }
  }
  report.first = std::move(a.result);
  if (options.keep_work) report.first.work_dir = a.work.Release();
  return report;
}

Json BuildResultToJson(const BuildResult& r) {
  Json origin = {{"kind", r.origin.kind}, {"uri", r.origin.uri}, {"ignored", r.ignored}};
  if (!r.origin.digest.empty()) origin["digest"] = r.origin.digest;
  if (!r.origin.ref.empty()) origin["ref"] = r.origin.ref;
  Json out = {
      {"build_hash", r.build_hash},
      {"manifest", ManifestToJson(r.manifest)},
      {"origin", std::move(origin)},
      {"config",
       {{"file", r.config_detected ? Json(nullptr) : Json("lunal.config.yaml")},
        {"detected", r.config_detected},
        {"effective", ToJson(r.config)}}},
      {"recipe", r.run.recipe},
      {"builder",
       {{"id", std::string(kLocalBuilderId)},
        {"key_id", r.builder_key_id},
        {"public_key_pem", r.builder_public_key_pem},
        {"attested", r.attested}}},
      {"files",
       {{"artifact", r.artifact.string()},
        {"manifest", r.manifest_file.string()},
        {"hash", r.hash_file.string()},
        {"provenance", r.provenance_file.string()},
        {"log", r.log_file.string()}}},
  };
  if (!r.work_dir.empty()) out["work_dir"] = r.work_dir.string();
  return out;
}

Json ReproducibilityToJson(const ReproducibilityReport& report) {
  Json differences = Json::array();
  for (const Difference& d : report.differences) {
    Json j = {{"kind", d.kind}, {"where", d.where}, {"a", d.a}, {"b", d.b}};
    if (d.kind == "file") j["offset"] = d.offset;
    differences.push_back(std::move(j));
  }
  return {{"reproducible", report.reproducible},
          {"hash_a", report.hash_a},
          {"hash_b", report.hash_b},
          {"differences", std::move(differences)}};
}

}  // namespace lunal::build
