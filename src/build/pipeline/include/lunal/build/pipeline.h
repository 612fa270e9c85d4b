// The build pipeline (issue 6): `lunal build` as a library. One call takes what a developer hands
// over (a folder, an archive, a git URL) through every part of src/build and leaves, in an output
// folder, the artifact, the build manifest, the build hash, the build log and the signed
// provenance. Output layout, field by field: docs/formats/build-output.md.
//
// RunBuild, in order (each step's errors keep the part's reason; the message starts with the
// step, e.g. "intake: ...", "config: ...", "recipe: ..."):
//   1. a fresh work folder (mkdtemp) under work_root                   build.pipeline.io
//   2. intake: Intake(spec) (or IntakeGit(url, ref) with --ref)         intake.*
//   3. materialise: MaterializeTree(work/src): only the tree's entries intake.materialize.*
//   4. config: /src/lunal.config.yaml (ParseConfig: every diagnostic, file:line:col, in the
//      message; the first one's reason), or, when the tree has none, DetectProject's suggestion
//      (BuildResult::config_detected; said in progress)                config.*, detect.*
//   5. digest: DigestTree(work/src)                                     build.tree.*
//   6. recipe: RunRecipe(work/src, work/deps, work/out)                 build.* (sandbox, recipe)
//   7. archive: WriteDeterministicArchive(work/out → OUT/app.tar), uncompressed (gzip bytes
//      depend on the zlib version, tar bytes do not), mtime = SOURCE_DATE_EPOCH
//   8. manifest: source {tree, files, bytes}, lockfiles (digests from the tree digest's entry
//      digests), toolchain, environment, artifacts [app.tar]; BuildHash  build.manifest.*
//   9. provenance: SignProvenance with the builder key (and the attester: an attested build);
//      the key is loaded before step 1, so an unusable key fails before any work
//                                                                       provenance.*, attester's
//  10. publish: OUT/app.tar, build.log, manifest.json (exactly the canonical bytes, so
//      `sha256sum manifest.json` is the build hash), provenance.dsse.json, hash.txt (last), each
//      written under a temporary name and renamed, so a crash never leaves a half file
//  11. the work folder is removed (unless keep_work), on success and on failure.
//
// SOURCE_DATE_EPOCH defaults to 0 (1970-01-01T00:00:00Z), not to a git commit time: it must not
// depend on how the source arrived, so that a folder, an archive of it and a git clone of it give
// the same build hash (the origin is recorded in the provenance, never in the manifest).
//
// VerifyReproducible runs the whole build twice, each time in a fresh work folder and sandbox;
// the first build is published to out_dir as RunBuild would, the second is kept only long enough
// to compare. The report lists the manifest fields that differ and, for the output folder, each
// file that differs: its path, the first differing byte offset and up to 16 bytes of each side.
//
// Errors of the pipeline itself (the parts' reasons pass through unchanged):
//   kInvalidArgument  build.pipeline.bad_options   empty spec or out_dir, negative epoch, --ref
//                                                  with a folder or archive source
//   kUnavailable      build.pipeline.io            work folder / output folder / file I/O
//   kInternal         build.pipeline.lockfile_missing  the recipe read a lockfile not in the tree
//
// Thread-safety: RunBuild and VerifyReproducible may run concurrently with distinct out_dirs;
// `progress` is called on the calling thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/attester.h"
#include "lunal/build/config.h"
#include "lunal/build/intake.h"
#include "lunal/build/manifest.h"
#include "lunal/build/recipe.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"

namespace lunal::build {

// The SLSA builder id of a build run by `lunal build` on the developer's machine.
inline constexpr std::string_view kLocalBuilderId = "https://lunal.dev/builder/local@v1";

// Names of the published files inside BuildOptions::out_dir.
inline constexpr std::string_view kArtifactFile = "app.tar";
inline constexpr std::string_view kManifestFile = "manifest.json";
inline constexpr std::string_view kHashFile = "hash.txt";
inline constexpr std::string_view kProvenanceFile = "provenance.dsse.json";
inline constexpr std::string_view kLogFile = "build.log";

struct BuildOptions {
  std::string spec = {};  // PATH | ARCHIVE | GIT-URL[#ref], as intake.h's Intake reads it
  std::string ref = {};   // git only: overrides a "#ref" in spec
  std::filesystem::path out_dir = {};    // required; created (0755) when missing
  std::filesystem::path work_root = {};  // default: std::filesystem::temp_directory_path()
  std::int64_t source_date_epoch = 0;    // see above for why 0
  IntakeOptions intake = {};
  std::filesystem::path builder_key = {};  // default: DefaultBuilderKeyPath()
  attest::Attester* attester = nullptr;    // set: an attested build (e.g. sim-tdx)
  std::function<void(std::string_view)> progress = {};
  const Clock* clock = nullptr;  // provenance start/finish times; default: the system clock
  bool keep_work = false;        // leave the work folder (BuildResult::work_dir) for inspection
};

struct BuildResult {
  BuildManifest manifest = {};
  std::string manifest_json = {};  // the canonical bytes written to manifest.json
  std::string build_hash = {};     // "sha256:<hex>"
  Origin origin = {};
  std::uint64_t ignored = 0;     // paths intake left out by ignore rules
  Config config = {};            // the configuration built with
  bool config_detected = false;  // true: no lunal.config.yaml, DetectProject's suggestion
  RecipeRun run = {};
  std::string builder_key_id = {};          // the DSSE keyid ("sha256:<hex>")
  std::string builder_public_key_pem = {};  // what `lunal provenance verify --key` pins
  bool attested = false;
  std::filesystem::path artifact = {}, manifest_file = {}, hash_file = {}, provenance_file = {},
                        log_file = {};
  std::filesystem::path work_dir = {};  // only with keep_work
};

// $XDG_DATA_HOME/lunal/builder-key.pem, else $HOME/.local/share/lunal/builder-key.pem (XDG Base
// Directory Specification 0.8); relative XDG_DATA_HOME values are ignored, as the spec says.
std::filesystem::path DefaultBuilderKeyPath();

Result<BuildResult> RunBuild(const BuildOptions& options);

struct Difference {
  // "manifest": `where` is the JSON path of a manifest value ("source.tree",
  //   "artifacts[0].digest"), `a`/`b` the two values as JSON text ("" when absent).
  // "file": `where` is a path inside the output folder ("app/dist/random.txt"); `offset` the
  //   first differing byte; `a`/`b` up to 16 bytes from there in hex ("" at end of file).
  // "only_in_a" / "only_in_b" / "mode": a path present in one output only, or whose type or
  //   execute bit differs (`a`/`b`: "file", "executable file", "symlink -> target").
  std::string kind = {};
  std::string where = {};
  std::uint64_t offset = 0;
  std::string a = {}, b = {};
  std::string ToString() const;  // one line for people
};

struct ReproducibilityReport {
  bool reproducible = false;
  std::string hash_a = {}, hash_b = {};
  std::vector<Difference> differences = {};  // manifest fields first, then output files by path
  BuildResult first = {};                    // the published build (out_dir)
};

Result<ReproducibilityReport> VerifyReproducible(const BuildOptions& options);

// The JSON forms the CLI prints (docs/formats/build-output.md).
Json BuildResultToJson(const BuildResult& result);
Json ReproducibilityToJson(const ReproducibilityReport& report);

}  // namespace lunal::build
