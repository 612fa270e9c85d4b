// Runtime recipes: how a project of each runtime language is built in the hermetic sandbox
// (sandbox.h), as a fetch phase (network; dependencies named by lockfiles, into deps_dir) and a
// build phase (no network; source and deps read-only; artifacts into out_dir). The recipes, the
// output layout and every command: docs/formats/hermetic-build.md.
//
//   python  fetch (only when `requirements` names a file with entries and there is no vendor/
//           folder of wheels): pip download --only-binary=:all: -r /src/<req> -d /deps.
//           build: /src copied to /out/app (modes normalised to 0644/0755), deps installed with
//           pip install --no-index --find-links /deps|/src/vendor --target /out/deps, then
//           compileall --invalidation-mode unchecked-hash over /out/app (and /out/deps).
//   node    fetch (only when package-lock.json has dependencies): npm ci --ignore-scripts into
//           the npm cache /deps/npm-cache. build: copy to /out/app, npm ci --offline from a copy
//           of that cache when there are dependencies, npm run build when package.json has one.
//   go      fetch (when go.sum exists and there is no vendor/): go mod download into
//           /deps/gomod. build: go build -trimpath -buildvcs=false -o /out/app/<name>.
//   static  build: copy to /out/app.
//
// Errors (stable reasons):
//   kInvalidArgument   build.recipe.bad_input       null config, missing/non-empty folders,
//                                                    negative SOURCE_DATE_EPOCH
//                      build.recipe.no_runtime       config has neither runtime nor container
//                      build.recipe.bad_requirements requirements path absolute, escaping, missing
//                      build.recipe.missing_file     package.json / go.mod absent
//                      build.recipe.no_lockfile      node dependencies without package-lock.json
//                      build.phase_failed            a phase exited non-zero (the message has the
//                                                    exit code and the last 20 log lines)
//   kUnsupported       build.container_unsupported   container mode (not yet)
//                      build.recipe.unknown_language
//                      build.recipe.pyproject_unsupported  requirements is a pyproject.toml
//   kDeadlineExceeded  build.timeout                 a phase exceeded its timeout
//   kNotFound          build.tool_not_found          a toolchain program is missing
//   and RunInSandbox's / IdentifyTool's errors.
//
// Thread-safety: RunRecipe is thread-safe for distinct folders; `progress` is called on the
// calling thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/build/config.h"
#include "lunal/build/sandbox.h"
#include "lunal/common/result.h"

namespace lunal::build {

struct RecipeInput {
  const Config* config = nullptr;
  std::filesystem::path source_dir = {};  // materialised source tree (read-only in both phases)
  std::filesystem::path deps_dir = {};    // empty folder; written by the fetch phase only
  std::filesystem::path out_dir = {};     // empty folder; the artifacts (build phase only)
  std::int64_t source_date_epoch = 0;
  std::function<void(std::string_view)> progress = {};  // one line per step, for the CLI
};

struct RecipeRun {
  std::string recipe = {};                              // "python", "node", "go", "static"
  std::vector<ToolIdentity> toolchain = {};             // sorted by name
  std::vector<std::string> lockfiles = {};              // source-relative paths the fetch read
  std::map<std::string, std::string> environment = {};  // FixedEnvironment + e.g. "LUNAL_RECIPE"
  std::string log = {};
};

Result<RecipeRun> RunRecipe(const RecipeInput& input);

}  // namespace lunal::build
