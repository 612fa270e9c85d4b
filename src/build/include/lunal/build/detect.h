// `lunal init`: suggests a lunal.config.yaml for a project folder, and says why.
//
// Contract:
//   - DetectProject looks only at files directly in `root` and at a few named files one level
//     down (<package>/wsgi.py, <package>/asgi.py, cmd/<name>/main.go); it never follows a symbolic
//     link, never reads outside `root`, and reads at most DetectOptions::max_file_bytes of any
//     file (a larger one is skipped and said so in `notes`).
//   - Order of precedence: a Dockerfile makes it container mode; else package.json (Node.js),
//     go.mod (Go), requirements.txt / pyproject.toml (Python), index.html (a static site).
//   - Every choice in the suggested config has a Reason naming the file and what in it decided.
//   - Errors: detect.not_a_directory (kInvalidArgument), detect.nothing_found (kNotFound: no
//     runtime recognised; the message lists what was looked for).
// Thread-compatible; reads the file system only.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "lunal/build/config.h"
#include "lunal/common/result.h"

namespace lunal::build {

struct Reason {
  std::string file;    // relative to the root: "requirements.txt"
  std::string detail;  // what in it: "lists flask (line 2)"
  std::string sets;    // what it decided: "runtime.framework: flask"
  bool operator==(const Reason&) const = default;
};

struct Detection {
  Config config{};                   // the suggestion, defaults filled in
  std::vector<Reason> reasons{};     // in the order the decisions were made
  std::vector<std::string> notes{};  // files skipped or ambiguous findings
};

struct DetectOptions {
  std::size_t max_file_bytes = std::size_t{256} << 10;
};

Result<Detection> DetectProject(const std::filesystem::path& root,
                                const DetectOptions& options = {});

// The suggested lunal.config.yaml: the reasons as comments, then ToYaml(config).
std::string SuggestedConfigYaml(const Detection& detection);
Json DetectionToJson(const Detection& detection);

}  // namespace lunal::build
