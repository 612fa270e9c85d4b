// DetectProject: runtime detection for `lunal init` (issue 6: Python, Node.js, Go, static sites,
// container mode). Looks at a handful of named files in the project folder, never follows links.
#include "lunal/build/detect.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <sstream>

#include "lunal/common/files.h"

namespace lunal::build {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxDirEntries = 4096;  // entries examined when looking one level down

std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// "3.10" from ">=3.10,<4", "python-3.10.4", "3.10.4"; "18" from ">=18.0" when digits_only_major.
std::string VersionIn(std::string_view text, int parts) {
  std::size_t i = 0;
  while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  std::string out;
  int seen = 0;
  while (i < text.size() && seen < parts) {
    std::size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i) break;
    if (j - i > 6) return "";  // not a version anyone writes
    if (!out.empty()) out += '.';
    out += text.substr(i, j - i);
    ++seen;
    if (j >= text.size() || text[j] != '.') break;
    i = j + 1;
  }
  return out;
}

// A PEP 508 requirement's project name, normalised (PEP 503: lowercase, runs of -_. as "-").
std::string RequirementName(std::string_view spec) {
  std::string name;
  for (char c : spec) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (c == '-' || c == '_' || c == '.') {
      if (!name.empty() && name.back() != '-') name += '-';
    } else {
      break;
    }
  }
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name;
}

// A path inside the project as a config may name it: relative, no "..", no empty parts.
bool SafeRelative(const std::string& path) {
  const fs::path p(path);
  return !path.empty() && path.size() < 256 && p.is_relative() &&
         std::none_of(p.begin(), p.end(), [](const fs::path& c) { return c == ".."; });
}

struct Dependency {
  std::string name;
  std::string file;
  std::size_t line = 0;
};

class Folder {
 public:
  Folder(fs::path root, const DetectOptions& options, std::vector<std::string>& notes)
      : root_(std::move(root)), options_(options), notes_(notes) {}

  // A regular file (not a link) at `rel`.
  bool IsFile(const std::string& rel) const {
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(root_ / rel, ec);
    return !ec && fs::is_regular_file(st);
  }
  bool IsDir(const std::string& rel) const {
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(root_ / rel, ec);
    return !ec && fs::is_directory(st);
  }

  // The file's text, or nullopt when absent, a link, not a regular file or too large (noted).
  std::optional<std::string> Read(const std::string& rel) const {
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(root_ / rel, ec);
    if (ec || !fs::exists(st)) return std::nullopt;
    if (fs::is_symlink(st)) {
      notes_.push_back(fmt::format("{}: a symbolic link, not followed", rel));
      return std::nullopt;
    }
    if (!fs::is_regular_file(st)) return std::nullopt;
    Result<std::optional<std::string>> text = ReadFileIfExists(
        root_ / rel,
        {.max_bytes = options_.max_file_bytes, .require_private = false, .no_follow = true});
    if (!text.ok()) {
      notes_.push_back(fmt::format("{}: not read ({})", rel, text.error().message()));
      return std::nullopt;
    }
    return *text;
  }

  // Sub-folders of `rel` (not links, not hidden, plain names), sorted, at most kMaxDirEntries
  // looked at.
  std::vector<std::string> SubDirs(const std::string& rel) const {
    std::vector<std::string> dirs;
    std::error_code ec;
    fs::directory_iterator it(root_ / rel, ec), end;
    std::size_t n = 0;
    for (; !ec && it != end && n < kMaxDirEntries; it.increment(ec), ++n) {
      const std::string name = it->path().filename().string();
      std::error_code sec;
      // Only names a config can carry plainly: letters, digits, "_", "-", "." (not first).
      const bool plain =
          !name.empty() && name[0] != '.' && std::all_of(name.begin(), name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
          });
      if (!plain || !fs::is_directory(it->symlink_status(sec))) continue;
      dirs.push_back(name);
    }
    std::sort(dirs.begin(), dirs.end());
    return dirs;
  }

 private:
  fs::path root_;
  const DetectOptions& options_;
  std::vector<std::string>& notes_;
};

class Detector {
 public:
  Detector(Folder& folder, Detection& out) : f_(folder), out_(out) {}

  void Because(std::string file, std::string detail, std::string sets) {
    out_.reasons.push_back({std::move(file), std::move(detail), std::move(sets)});
  }

  bool DetectContainer() {
    std::optional<std::string> text = f_.Read("Dockerfile");
    if (!text) return false;
    Container c;
    Because("Dockerfile", "present", "container mode (container.dockerfile: Dockerfile)");
    const auto lines = Lines(*text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::string line = Trim(lines[i]);
      std::string upper = line.substr(0, 7);
      std::transform(upper.begin(), upper.end(), upper.begin(),
                     [](char ch) { return static_cast<char>(std::toupper(ch)); });
      if (upper != "EXPOSE ") continue;
      const std::string port_text = VersionIn(line.substr(7), 1);
      const unsigned long port = port_text.empty() ? 0 : std::stoul(port_text.substr(0, 6));
      if (port >= 1 && port <= 65535) {
        c.port = static_cast<std::uint32_t>(port);
        Because("Dockerfile", fmt::format("EXPOSE {} (line {})", port, i + 1),
                fmt::format("container.port: {}", port));
        break;
      }
    }
    out_.config.container = c;
    for (const char* other : {"package.json", "go.mod", "requirements.txt", "pyproject.toml"}) {
      if (f_.IsFile(other)) {
        out_.notes.push_back(fmt::format(
            "{} is present too; the Dockerfile decides how the project is built", other));
      }
    }
    return true;
  }

  bool DetectNode() {
    if (!f_.IsFile("package.json")) return false;
    Runtime rt{.language = "node"};
    Because("package.json", "present", "runtime.language: node");
    Json pkg = Json::object();
    if (std::optional<std::string> text = f_.Read("package.json")) {
      Result<Json> parsed = ParseJson(*text);
      if (parsed.ok() && parsed->is_object()) {
        pkg = std::move(*parsed);
      } else {
        out_.notes.push_back("package.json: not a JSON object; only its presence was used");
      }
    }
    const auto str_at = [&](const char* obj, const char* key) -> std::optional<std::string> {
      if (!pkg.contains(obj) || !pkg[obj].is_object()) return std::nullopt;
      const Json& o = pkg[obj];
      if (!o.contains(key) || !o[key].is_string()) return std::nullopt;
      return o[key].get<std::string>();
    };
    for (const char* fw : {"next", "express"}) {
      const char* where = str_at("dependencies", fw)      ? "dependencies"
                          : str_at("devDependencies", fw) ? "devDependencies"
                                                          : nullptr;
      if (where != nullptr) {
        rt.framework = fw;
        Because("package.json", fmt::format("{} lists \"{}\"", where, fw),
                fmt::format("runtime.framework: {}", fw));
        break;
      }
    }
    if (auto engine = str_at("engines", "node"); engine && !VersionIn(*engine, 1).empty()) {
      rt.version = VersionIn(*engine, 1);
      Because("package.json", fmt::format("engines.node is \"{}\"", *engine),
              fmt::format("runtime.version: \"{}\"", rt.version));
    } else {
      rt.version = std::string(DefaultVersion("node"));
    }
    if (auto start = str_at("scripts", "start")) {
      rt.command = {"npm", "start"};
      Because("package.json", fmt::format("scripts.start is \"{}\"", *start),
              "runtime.command: [npm, start]");
      for (std::string_view flag : {"--port ", "-p "}) {
        const auto at = start->find(flag);
        if (at == std::string::npos) continue;
        const std::string digits = VersionIn(start->substr(at + flag.size(), 6), 1);
        if (!digits.empty() && std::stoul(digits) >= 1 && std::stoul(digits) <= 65535) {
          rt.port = static_cast<std::uint32_t>(std::stoul(digits));
          Because("package.json", fmt::format("scripts.start passes {}{}", flag, digits),
                  fmt::format("runtime.port: {}", rt.port));
        }
        break;
      }
    } else if (pkg.contains("main") && pkg["main"].is_string() &&
               SafeRelative(pkg["main"].get<std::string>()) &&
               f_.IsFile(pkg["main"].get<std::string>())) {
      rt.entrypoint = pkg["main"].get<std::string>();
      Because("package.json", fmt::format("main is \"{}\"", rt.entrypoint),
              fmt::format("runtime.entrypoint: {}", rt.entrypoint));
    } else {
      for (const char* file : {"server.js", "index.js", "app.js"}) {
        if (!f_.IsFile(file)) continue;
        rt.entrypoint = file;
        Because(file, "present (package.json has no start script or main)",
                fmt::format("runtime.entrypoint: {}", file));
        break;
      }
    }
    if (rt.framework == "next" && rt.port == kDefaultPort) {
      rt.port = 3000;
      Because("package.json", "next start listens on port 3000 unless told otherwise",
              "runtime.port: 3000");
    }
    rt.requirements = f_.IsFile("package-lock.json") ? "package-lock.json" : "package.json";
    Because(rt.requirements,
            rt.requirements == "package.json" ? "the dependency list (no package-lock.json)"
                                              : "the locked dependency tree",
            fmt::format("runtime.requirements: {}", rt.requirements));
    out_.config.runtime = rt;
    return true;
  }

  bool DetectGo() {
    if (!f_.IsFile("go.mod")) return false;
    Runtime rt{.language = "go"};
    Because("go.mod", "present", "runtime.language: go");
    rt.version = std::string(DefaultVersion("go"));
    if (std::optional<std::string> text = f_.Read("go.mod")) {
      const auto lines = Lines(*text);
      for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string line = Trim(lines[i]);
        if (line.rfind("go ", 0) == 0 && !VersionIn(line.substr(3), 2).empty()) {
          rt.version = VersionIn(line.substr(3), 2);
          Because("go.mod", fmt::format("\"{}\" (line {})", line, i + 1),
                  fmt::format("runtime.version: \"{}\"", rt.version));
          break;
        }
      }
    }
    if (f_.IsFile("main.go")) {
      rt.entrypoint = ".";
      Because("main.go", "the main package is at the top level", "runtime.entrypoint: .");
    } else if (f_.IsDir("cmd")) {
      for (const std::string& name : f_.SubDirs("cmd")) {
        if (!f_.IsFile("cmd/" + name + "/main.go")) continue;
        rt.entrypoint = "cmd/" + name;
        Because(rt.entrypoint + "/main.go", "the first main package under cmd/",
                fmt::format("runtime.entrypoint: {}", rt.entrypoint));
        break;
      }
    }
    rt.requirements = "go.mod";
    Because("go.mod", "the module's dependency list", "runtime.requirements: go.mod");
    out_.config.runtime = rt;
    return true;
  }

  std::vector<Dependency> RequirementsTxt() {
    std::vector<Dependency> deps;
    std::optional<std::string> text = f_.Read("requirements.txt");
    if (!text) return deps;
    const auto lines = Lines(*text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::string line = Trim(lines[i].substr(0, lines[i].find('#')));
      if (line.empty() || line[0] == '-') continue;  // pip options: -r, -e, --hash
      std::string name = RequirementName(line);
      if (!name.empty()) deps.push_back({name, "requirements.txt", i + 1});
    }
    return deps;
  }

  // The parts of pyproject.toml that matter here: [project] dependencies and requires-python
  // (PEP 621), [tool.poetry.dependencies]. A line-level reading, not a TOML parser.
  std::vector<Dependency> Pyproject(std::string& python_version) {
    std::vector<Dependency> deps;
    std::optional<std::string> text = f_.Read("pyproject.toml");
    if (!text) return deps;
    const auto lines = Lines(*text);
    std::string table;
    bool in_array = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::string line = Trim(lines[i].substr(0, lines[i].find('#')));
      if (line.empty()) continue;
      if (!in_array && line.front() == '[') {
        table = line;
        continue;
      }
      if (table == "[project]" && line.rfind("requires-python", 0) == 0) {
        python_version = VersionIn(line, 2);
      }
      if (table == "[tool.poetry.dependencies]" && line.find('=') != std::string::npos) {
        const std::string key = Trim(line.substr(0, line.find('=')));
        if (key == "python") {
          python_version = VersionIn(line.substr(line.find('=')), 2);
        } else if (!RequirementName(key).empty()) {
          deps.push_back({RequirementName(key), "pyproject.toml", i + 1});
        }
        continue;
      }
      if (table == "[project]" && line.rfind("dependencies", 0) == 0) in_array = true;
      if (!in_array) continue;
      // Quoted strings on this line are requirement specifiers; a "]" outside them ends the
      // array ("uvicorn[standard]" has one inside).
      const bool opening = line.rfind("dependencies", 0) == 0;
      const std::size_t start =
          opening && line.find('[') != std::string::npos ? line.find('[') + 1 : 0;
      for (std::size_t p = start; p < line.size(); ++p) {
        if (line[p] == ']') {
          in_array = false;
          break;
        }
        if (line[p] != '"' && line[p] != '\'') continue;
        const std::size_t close = line.find(line[p], p + 1);
        if (close == std::string::npos) break;
        std::string name = RequirementName(line.substr(p + 1, close - p - 1));
        if (!name.empty()) deps.push_back({name, "pyproject.toml", i + 1});
        p = close;
      }
    }
    return deps;
  }

  bool DetectPython() {
    const bool has_req = f_.IsFile("requirements.txt");
    const bool has_pyproject = f_.IsFile("pyproject.toml");
    const char* lone = nullptr;
    for (const char* file : {"app.py", "main.py", "manage.py"}) {
      if (lone == nullptr && f_.IsFile(file)) lone = file;
    }
    if (!has_req && !has_pyproject && lone == nullptr) return false;
    Runtime rt{.language = "python"};
    if (has_req || has_pyproject) {
      const char* file = has_req ? "requirements.txt" : "pyproject.toml";
      Because(file, "present", "runtime.language: python");
    } else {
      Because(lone, "a Python file at the top level (no requirements.txt or pyproject.toml)",
              "runtime.language: python");
    }
    std::string version;
    std::vector<Dependency> deps = RequirementsTxt();
    std::vector<Dependency> more = Pyproject(version);
    deps.insert(deps.end(), more.begin(), more.end());
    for (const char* fw : {"django", "fastapi", "flask"}) {
      const auto dep =
          std::find_if(deps.begin(), deps.end(), [&](const Dependency& d) { return d.name == fw; });
      if (dep == deps.end()) continue;
      rt.framework = fw;
      Because(dep->file, fmt::format("lists {} (line {})", fw, dep->line),
              fmt::format("runtime.framework: {}", fw));
      break;
    }
    PythonVersion(rt, version);
    PythonEntrypoint(rt);
    if (has_req || has_pyproject) {
      rt.requirements = has_req ? "requirements.txt" : "pyproject.toml";
      Because(rt.requirements, "the dependency list",
              fmt::format("runtime.requirements: {}", rt.requirements));
    }
    out_.config.runtime = rt;
    return true;
  }

  void PythonVersion(Runtime& rt, const std::string& from_pyproject) {
    rt.version = std::string(DefaultVersion("python"));
    if (std::optional<std::string> pv = f_.Read(".python-version")) {
      const std::string first = Lines(*pv).empty() ? "" : Trim(Lines(*pv)[0]);
      if (!VersionIn(first, 2).empty()) {
        rt.version = VersionIn(first, 2);
        Because(".python-version", fmt::format("\"{}\"", first),
                fmt::format("runtime.version: \"{}\"", rt.version));
        return;
      }
    }
    if (std::optional<std::string> rtxt = f_.Read("runtime.txt")) {
      const std::string first = Lines(*rtxt).empty() ? "" : Trim(Lines(*rtxt)[0]);
      if (first.rfind("python-", 0) == 0 && !VersionIn(first, 2).empty()) {
        rt.version = VersionIn(first, 2);
        Because("runtime.txt", fmt::format("\"{}\"", first),
                fmt::format("runtime.version: \"{}\"", rt.version));
        return;
      }
    }
    if (!from_pyproject.empty()) {
      rt.version = from_pyproject;
      Because("pyproject.toml", "requires-python",
              fmt::format("runtime.version: \"{}\"", rt.version));
    }
  }

  void PythonEntrypoint(Runtime& rt) {
    std::vector<std::string> order = {"app.py", "main.py", "manage.py", "wsgi.py", "asgi.py"};
    if (rt.framework == "django") order = {"manage.py", "wsgi.py", "asgi.py", "app.py", "main.py"};
    for (const std::string& file : order) {
      if (!f_.IsFile(file)) continue;
      rt.entrypoint = file;
      Because(file, "present at the top level", fmt::format("runtime.entrypoint: {}", file));
      return;
    }
    // A package holding the WSGI/ASGI application (Django's <project>/wsgi.py layout).
    const char* first = rt.framework == "fastapi" ? "asgi.py" : "wsgi.py";
    const char* second = rt.framework == "fastapi" ? "wsgi.py" : "asgi.py";
    for (const char* module : {first, second}) {
      for (const std::string& dir : f_.SubDirs(".")) {
        const std::string path = dir + "/" + module;
        if (!f_.IsFile(path)) continue;
        rt.entrypoint = path;
        Because(path, fmt::format("the {} application module", module[0] == 'w' ? "WSGI" : "ASGI"),
                fmt::format("runtime.entrypoint: {}", path));
        return;
      }
    }
    out_.notes.push_back(
        "no Python entrypoint found (app.py, main.py, manage.py, wsgi.py, "
        "asgi.py); set runtime.entrypoint or runtime.command");
  }

  bool DetectStatic() {
    if (!f_.IsFile("index.html")) return false;
    Runtime rt{.language = "static", .entrypoint = "index.html"};
    Because("index.html", "present, and no server runtime (package.json, go.mod, Python files)",
            "runtime.language: static, runtime.entrypoint: index.html");
    out_.config.runtime = rt;
    return true;
  }

 private:
  Folder& f_;
  Detection& out_;
};

}  // namespace

Result<Detection> DetectProject(const std::filesystem::path& root, const DetectOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(root, ec)) &&
      !(fs::is_symlink(fs::symlink_status(root, ec)) && fs::is_directory(root, ec))) {
    return InvalidArgument("detect.not_a_directory", "{}: not a folder", root.string());
  }
  Detection out;
  Folder folder(root, options, out.notes);
  Detector d(folder, out);
  if (d.DetectContainer() || d.DetectNode() || d.DetectGo() || d.DetectPython() || d.DetectStatic())
    return out;
  return NotFound("detect.nothing_found",
                  "{}: no runtime recognised (looked for Dockerfile, package.json, go.mod, "
                  "requirements.txt, pyproject.toml, app.py, main.py, manage.py, index.html)",
                  root.string());
}

std::string SuggestedConfigYaml(const Detection& detection) {
  std::string header = "# lunal.config.yaml suggested by `lunal init`. Why:\n";
  for (const Reason& r : detection.reasons) {
    header += fmt::format("#   {}: {} -> {}\n", r.file, r.detail, r.sets);
  }
  for (const std::string& note : detection.notes) header += fmt::format("# Note: {}\n", note);
  header += "# Everything else is a default (docs/formats/lunal-config.md).\n";
  return ToYaml(detection.config, header);
}

Json DetectionToJson(const Detection& detection) {
  Json reasons = Json::array();
  for (const Reason& r : detection.reasons) {
    reasons.push_back({{"file", r.file}, {"detail", r.detail}, {"sets", r.sets}});
  }
  return {{"config", ToJson(detection.config)}, {"reasons", reasons}, {"notes", detection.notes}};
}

}  // namespace lunal::build
