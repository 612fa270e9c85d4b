// Private to lunal::build_pipeline: one run of the pipeline, shared by RunBuild and
// VerifyReproducible (which needs the output folder of each run to compare them).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "lunal/build/pipeline.h"
#include "lunal/build/provenance.h"
#include "lunal/common/result.h"

namespace lunal::build::internal {

// A folder made with mkdtemp and removed (remove_all, links not followed) on destruction unless
// released.
class WorkDir {
 public:
  // keep: never removed (BuildOptions::keep_work), also when the build fails.
  static Result<WorkDir> Create(const std::filesystem::path& root, bool keep);
  WorkDir(WorkDir&& other) noexcept : path_(std::move(other.path_)), keep_(other.keep_) {
    other.path_.clear();
  }
  WorkDir& operator=(WorkDir&&) = delete;
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path Release() { return std::exchange(path_, {}); }

 private:
  WorkDir(std::filesystem::path path, bool keep) : path_(std::move(path)), keep_(keep) {}
  std::filesystem::path path_;
  bool keep_ = false;
};

struct Execution {
  BuildResult result;
  WorkDir work;  // work/out holds the output folder that app.tar was made from
};

// publish = true: RunBuild's steps 1-10 (out_dir written, provenance signed). publish = false:
// steps 1-8 only, the artifact written inside the work folder (the reproducibility check's second
// build). The work folder is left to the caller (Execution::work).
Result<Execution> Execute(const BuildOptions& options, bool publish);

// Step 9's statement inputs (provenance_input.cc): subjects, external and internal parameters,
// resolved dependencies (source, fetched files, lockfiles, toolchain), builder id, invocation,
// byproducts (manifest.json, build.log with `log_hex`).
ProvenanceInput MakeProvenanceInput(const BuildResult& r, const std::string& log_hex,
                                    const std::vector<std::pair<std::string, std::string>>& fetched,
                                    Timestamp started, Timestamp finished);

// What the fetch phase downloaded (work/deps): each file's path and SHA-256 hex, for the
// provenance's resolvedDependencies (the lockfiles pin them; these are the bytes actually
// used). Past kMaxListedDeps files (an npm cache) none are listed: the lockfiles name them.
inline constexpr std::size_t kMaxListedDeps = 1000;
Result<std::vector<std::pair<std::string, std::string>>> FetchedFiles(
    const std::filesystem::path& deps);

}  // namespace lunal::build::internal
