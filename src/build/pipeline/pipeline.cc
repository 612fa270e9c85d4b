// RunBuild (pipeline.h): the numbered steps of the header, one function each.
#include "lunal/build/pipeline.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "internal.h"
#include "lunal/build/artifact_archive.h"
#include "lunal/build/detect.h"
#include "lunal/build/provenance.h"
#include "lunal/build/tree_digest.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/random.h"

namespace lunal::build {

namespace fs = std::filesystem;

namespace internal {

Result<WorkDir> WorkDir::Create(const fs::path& root, bool keep) {
  std::error_code ec;
  fs::path base = root.empty() ? fs::temp_directory_path(ec) : root;
  if (ec) return Unavailable("build.pipeline.io", "no temporary folder: {}", ec.message());
  std::string tmpl = (base / "lunal-build-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Unavailable("build.pipeline.io", "cannot create a work folder in {}: {}", base.string(),
                       std::strerror(errno));
  }
  return WorkDir(fs::path(tmpl), keep);
}

WorkDir::~WorkDir() {
  if (path_.empty() || keep_) return;
  std::error_code ec;
  // remove_all does not follow symbolic links: a link in the tree removes the link only.
  fs::remove_all(path_, ec);
}

}  // namespace internal

namespace {

using internal::Execution;
using internal::WorkDir;

constexpr std::size_t kReadChunk = std::size_t{1} << 20;

void Progress(const BuildOptions& o, std::string_view line) {
  if (o.progress) o.progress(line);
}

// SHA-256 hex and size of a file, streamed.
Result<std::pair<std::string, std::uint64_t>> FileSha256(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return Unavailable("build.pipeline.io", "{}: cannot open: {}", path.string(),
                       std::strerror(errno));
  }
  crypto::Hasher hasher(crypto::DigestAlgorithm::kSha256);
  std::vector<std::uint8_t> buffer(kReadChunk);
  std::uint64_t size = 0;
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Unavailable("build.pipeline.io", "{}: read: {}", path.string(), std::strerror(err));
    }
    if (n == 0) break;
    hasher.Update(ByteSpan(buffer.data(), static_cast<std::size_t>(n)));
    size += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  return std::make_pair(HexEncode(hasher.Finish()), size);
}

std::string Sha256Hex(std::string_view text) { return HexEncode(crypto::Sha256(AsBytes(text))); }

// Step 2. --ref applies to git sources only: an existing path with a ref is a usage error.
Result<IntakeResult> RunIntake(const BuildOptions& o, const fs::path& work) {
  if (o.ref.empty()) return Intake(o.spec, work, o.intake);
  std::error_code ec;
  if (fs::exists(o.spec, ec)) {
    return InvalidArgument("build.pipeline.bad_options",
                           "--ref {:?}: {} is a folder or file, not a git URL", o.ref, o.spec);
  }
  return IntakeGit(std::string_view(o.spec).substr(0, o.spec.find('#')), o.ref, work, o.intake);
}

// An output folder inside a source folder (`lunal build .` with the default ./lunal-build) must
// not become part of the source: its entries are dropped and counted as ignored. The source
// folder itself as the output folder is refused: every build would change the next one's input.
Status DropOutputFolder(IntakeResult& in, const fs::path& out_dir) {
  if (in.origin.kind != "folder") return Status();
  std::error_code ec;
  fs::path root = fs::weakly_canonical(in.tree.root, ec);
  fs::path out = fs::weakly_canonical(out_dir, ec);
  if (ec) return Status();
  fs::path rel = out.lexically_relative(root);
  if (rel == ".") {
    return InvalidArgument("build.pipeline.bad_options",
                           "the output folder {} is the source folder; name another (--out)",
                           out_dir.string());
  }
  if (rel.empty() || *rel.begin() == "..") return Status();
  const std::string prefix = rel.generic_string() + "/";
  auto& entries = in.tree.entries;
  auto before = entries.size();
  std::erase_if(entries, [&](const TreeEntry& e) { return e.path.starts_with(prefix); });
  if (entries.size() != before) ++in.ignored;
  return Status();
}

struct ConfigChoice {
  Config config;
  bool detected = false;
};

// Step 4: the tree's lunal.config.yaml, or DetectProject's suggestion when there is none.
Result<ConfigChoice> ChooseConfig(const BuildOptions& o, const SourceTree& tree,
                                  const Origin& origin) {
  constexpr std::string_view kName = "lunal.config.yaml";
  auto it = std::lower_bound(tree.entries.begin(), tree.entries.end(), kName,
                             [](const TreeEntry& e, std::string_view p) { return e.path < p; });
  if (it == tree.entries.end() || it->path != kName) {
    LUNAL_ASSIGN_OR_RETURN(Detection d, DetectProject(tree.root));
    std::string why;
    for (const Reason& r : d.reasons) {
      why += fmt::format("{}{}: {}", why.empty() ? "" : "; ", r.file, r.detail);
    }
    Progress(o, fmt::format("config: no lunal.config.yaml; using the detected configuration "
                            "({}) [{}]",
                            d.config.runtime ? d.config.runtime->language : "container", why));
    return ConfigChoice{.config = std::move(d.config), .detected = true};
  }
  // Named as the developer knows it: the file in their folder, or inside the upload / clone.
  const std::string display = origin.kind == "folder" ? (fs::path(origin.uri) / kName).string()
                                                      : fmt::format("{} ({})", kName, origin.uri);
  LUNAL_ASSIGN_OR_RETURN(std::string text,
                         ReadFile(tree.root / kName, {.max_bytes = kMaxConfigBytes}));
  ConfigParse parsed = ParseConfig(text, display);
  if (!parsed.ok()) {
    std::string message = fmt::format("{} is invalid ({} error{})", display, parsed.errors.size(),
                                      parsed.errors.size() == 1 ? "" : "s");
    // One error: its reason is the Status's. Several: each line names its own.
    for (const yaml::Diagnostic& d : parsed.errors) {
      message += parsed.errors.size() == 1 ? fmt::format("\n  {}", d.ToString())
                                           : fmt::format("\n  {} [{}]", d.ToString(), d.reason);
    }
    return InvalidArgument(parsed.errors.front().reason, "{}", message);
  }
  Progress(o, fmt::format("config: {} ({})", display,
                          parsed.config.runtime ? parsed.config.runtime->language : "container"));
  return ConfigChoice{.config = std::move(parsed.config), .detected = false};
}

// Step 8: the build manifest.
Result<BuildManifest> MakeManifest(const SourceTree& tree, const TreeDigestResult& digest,
                                   const RecipeRun& run, const std::string& artifact_hex,
                                   std::uint64_t artifact_size) {
  BuildManifest m;
  m.source = {.tree = digest.digest, .files = digest.files, .bytes = digest.bytes};
  for (const std::string& path : run.lockfiles) {
    auto it = std::lower_bound(tree.entries.begin(), tree.entries.end(), path,
                               [](const TreeEntry& e, const std::string& p) { return e.path < p; });
    if (it == tree.entries.end() || it->path != path) {
      return Internal("build.pipeline.lockfile_missing",
                      "the recipe read lockfile {} but it is not in the source tree", path);
    }
    std::string lock_digest =
        digest.entry_digests[static_cast<std::size_t>(it - tree.entries.begin())];
    if (it->type != EntryType::kFile) {  // a link: the content the fetch phase read
      LUNAL_ASSIGN_OR_RETURN(auto file, FileSha256(tree.root / path));
      lock_digest = "sha256:" + file.first;
    }
    m.lockfiles.push_back({.path = path, .digest = std::move(lock_digest)});
  }
  std::sort(m.lockfiles.begin(), m.lockfiles.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  for (const ToolIdentity& t : run.toolchain) {
    m.toolchain.push_back(
        {.name = t.name, .version = t.version, .path = t.path, .digest = t.digest});
  }
  std::sort(m.toolchain.begin(), m.toolchain.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  m.environment = run.environment;
  m.artifacts.push_back({.path = std::string(kArtifactFile),
                         .digest = "sha256:" + artifact_hex,
                         .size = artifact_size});
  return m;
}

Status CheckOptions(const BuildOptions& o) {
  if (o.spec.empty()) return InvalidArgument("build.pipeline.bad_options", "no source given");
  if (o.out_dir.empty()) {
    return InvalidArgument("build.pipeline.bad_options", "no output folder given");
  }
  if (o.source_date_epoch < 0) {
    return InvalidArgument("build.pipeline.bad_options", "SOURCE_DATE_EPOCH {} is negative",
                           o.source_date_epoch);
  }
  return Status();
}

// Removes a temporary file unless disarmed.
struct TempFileGuard {
  fs::path path;
  ~TempFileGuard() {
    std::error_code ec;
    if (!path.empty()) fs::remove(path, ec);
  }
};

Status Rename(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) {
    return Unavailable("build.pipeline.io", "cannot rename {} to {}: {}", from.string(),
                       to.string(), ec.message());
  }
  return Status();
}

}  // namespace

fs::path DefaultBuilderKeyPath() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  fs::path base;
  if (xdg != nullptr && fs::path(xdg).is_absolute()) {
    base = xdg;
  } else {
    const char* home = std::getenv("HOME");
    base = fs::path(home != nullptr ? home : "/") / ".local/share";
  }
  return base / "lunal" / "builder-key.pem";
}

namespace internal {

Result<Execution> Execute(const BuildOptions& o, bool publish) {
  LUNAL_RETURN_IF_ERROR(CheckOptions(o));
  // The builder key first: a key that cannot be used should not cost a whole build.
  std::optional<BuilderKey> key;
  if (publish) {
    const fs::path key_file = o.builder_key.empty() ? DefaultBuilderKeyPath() : o.builder_key;
    Result<BuilderKey> loaded = BuilderKey::LoadOrCreate(key_file);
    if (!loaded.ok()) {
      return std::move(loaded).error().WithContext("provenance: " + key_file.string());
    }
    key.emplace(std::move(*loaded));
  }
  const Clock& clock = o.clock != nullptr ? *o.clock : SystemClock::Instance();
  const Timestamp started = clock.Now();
  // 1. The work folder.
  LUNAL_ASSIGN_OR_RETURN(WorkDir work, WorkDir::Create(o.work_root, o.keep_work));
  if (o.keep_work) Progress(o, fmt::format("work folder (kept): {}", work.path().string()));
  const fs::path src = work.path() / "src", deps = work.path() / "deps", out = work.path() / "out";
  BuildResult r;

  // 2. Intake.
  Progress(o, fmt::format("intake: {}", o.spec));
  Result<IntakeResult> in = RunIntake(o, work.path());
  if (!in.ok()) return std::move(in).error().WithContext("intake");
  LUNAL_RETURN_IF_ERROR(DropOutputFolder(*in, o.out_dir));
  r.origin = in->origin;
  r.ignored = in->ignored;
  Progress(o, fmt::format("intake: {} {}: {} entries, {} ignored", r.origin.kind, r.origin.uri,
                          in->tree.entries.size(), r.ignored));

  // 3. Materialise: the sandbox sees only the tree's entries.
  if (Status s = MaterializeTree(in->tree, src); !s.ok()) return std::move(s).WithContext("intake");
  const SourceTree tree{.root = src, .entries = std::move(in->tree.entries)};

  // 4. Config.
  Result<ConfigChoice> config = ChooseConfig(o, tree, r.origin);
  if (!config.ok()) return std::move(config).error().WithContext("config");
  r.config = std::move(config->config);
  r.config_detected = config->detected;

  // 5. The source tree digest.
  Result<TreeDigestResult> digest = DigestTree(tree);
  if (!digest.ok()) return std::move(digest).error().WithContext("digest");
  Progress(o, fmt::format("digest: source {} ({} files, {} bytes)", digest->digest, digest->files,
                          digest->bytes));

  // 6. The recipe, in the sandbox.
  std::error_code ec;
  fs::create_directory(deps, ec);
  if (!ec) fs::create_directory(out, ec);
  if (ec) return Unavailable("build.pipeline.io", "{}: {}", work.path().string(), ec.message());
  Result<RecipeRun> run = RunRecipe({.config = &r.config,
                                     .source_dir = src,
                                     .deps_dir = deps,
                                     .out_dir = out,
                                     .source_date_epoch = o.source_date_epoch,
                                     .progress = o.progress});
  if (!run.ok()) return std::move(run).error().WithContext("recipe");
  r.run = std::move(*run);

  // 7. The artifact: under a temporary name in the output folder (publish), or in the work folder.
  TempFileGuard tmp_artifact;
  fs::path artifact_file = work.path() / kArtifactFile;
  if (publish) {
    if (Status s = EnsureDirectory(o.out_dir, 0755); !s.ok()) {
      return std::move(s).WithContext("publish");
    }
    artifact_file =
        o.out_dir / fmt::format(".{}.tmp-{}", kArtifactFile, HexEncode(crypto::RandomBytes(8)));
    tmp_artifact.path = artifact_file;
  }
  Status archived =
      WriteDeterministicArchive(out, artifact_file, {.mtime = o.source_date_epoch, .gzip = false});
  if (!archived.ok()) return std::move(archived).WithContext("archive");
  LUNAL_ASSIGN_OR_RETURN(auto artifact, FileSha256(artifact_file));
  Progress(o, fmt::format("archive: {} ({} bytes, sha256:{})", kArtifactFile, artifact.second,
                          artifact.first));

  // 8. The manifest and the build hash.
  Result<BuildManifest> manifest =
      MakeManifest(tree, *digest, r.run, artifact.first, artifact.second);
  if (!manifest.ok()) return std::move(manifest).error().WithContext("hash");
  r.manifest = std::move(*manifest);
  Result<std::string> canonical = CanonicalManifest(r.manifest);
  if (!canonical.ok()) return std::move(canonical).error().WithContext("hash");
  r.manifest_json = std::move(*canonical);
  r.build_hash = "sha256:" + Sha256Hex(r.manifest_json);  // = BuildHash(r.manifest)
  Progress(o, fmt::format("hash: {}", r.build_hash));
  if (!publish) {
    r.artifact = artifact_file;
    return Execution{.result = std::move(r), .work = std::move(work)};
  }

  // 9. Provenance.
  r.builder_key_id = key->KeyId();
  r.builder_public_key_pem = key->PublicKeyPem();
  r.attested = o.attester != nullptr;
  const std::string log_hex = Sha256Hex(r.run.log);
  Result<std::vector<std::pair<std::string, std::string>>> fetched = FetchedFiles(deps);
  if (!fetched.ok()) return std::move(fetched).error().WithContext("provenance");
  Result<std::string> envelope =
      SignProvenance(MakeProvenanceInput(r, log_hex, *fetched, started, clock.Now()), *key,
                     {.attester = o.attester});
  if (!envelope.ok()) return std::move(envelope).error().WithContext("provenance");
  Progress(o, fmt::format("provenance: signed by {}{}", r.builder_key_id,
                          r.attested ? fmt::format(" (attested, {})", o.attester->Name()) : ""));

  // 10. Publish: the artifact first, hash.txt (what a developer signs) last.
  r.artifact = o.out_dir / kArtifactFile;
  r.log_file = o.out_dir / kLogFile;
  r.manifest_file = o.out_dir / kManifestFile;
  r.provenance_file = o.out_dir / kProvenanceFile;
  r.hash_file = o.out_dir / kHashFile;
  LUNAL_RETURN_IF_ERROR(Rename(artifact_file, r.artifact));
  tmp_artifact.path.clear();
  for (const auto& [file, text] :
       std::vector<std::pair<fs::path, std::string_view>>{{r.log_file, r.run.log},
                                                          {r.manifest_file, r.manifest_json},
                                                          {r.provenance_file, *envelope}}) {
    if (Status s = WriteFileAtomically(file, text, 0644); !s.ok()) {
      return std::move(s).WithContext("publish");
    }
  }
  if (Status s = WriteFileAtomically(r.hash_file, r.build_hash + "\n", 0644); !s.ok()) {
    return std::move(s).WithContext("publish");
  }
  return Execution{.result = std::move(r), .work = std::move(work)};
}

}  // namespace internal

Result<BuildResult> RunBuild(const BuildOptions& options) {
  LUNAL_ASSIGN_OR_RETURN(internal::Execution e, internal::Execute(options, /*publish=*/true));
  if (options.keep_work) e.result.work_dir = e.work.Release();
  return std::move(e.result);
}

}  // namespace lunal::build
