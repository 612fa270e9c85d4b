#include "config_commands.h"

#include <fmt/format.h>

#include <filesystem>

#include "lunal/build/config.h"
#include "lunal/build/detect.h"
#include "lunal/cli/output.h"
#include "lunal/common/files.h"

namespace lunal::cli {
namespace {

namespace fs = std::filesystem;

Json DiagnosticJson(const yaml::Diagnostic& d) {
  return {{"reason", d.reason}, {"file", d.source}, {"line", d.line},
          {"column", d.column}, {"field", d.field}, {"message", d.message}};
}

int RunValidate(const ConfigCommands& c, bool json) {
  build::ConfigParse parsed = build::LoadConfigFile(c.file);
  // An unreadable file is not an invalid config: report it as an error of its own.
  if (parsed.errors.size() == 1 && parsed.errors[0].line == 0 &&
      (parsed.errors[0].reason == "config.read_failed" ||
       parsed.errors[0].reason == "config.too_large")) {
    const yaml::Diagnostic& d = parsed.errors[0];
    const bool missing = d.reason == "config.read_failed" && !fs::exists(fs::path(c.file));
    Status s = missing ? NotFound(d.reason, "{}: no such file", c.file)
                       : InvalidArgument(d.reason, "{}", d.message);
    return ReportError(s, json);
  }
  if (json) {
    Json out = {{"file", c.file}, {"valid", parsed.ok()}};
    if (parsed.ok()) {
      out["config"] = build::ToJson(parsed.config);
    } else {
      Json errors = Json::array();
      for (const auto& d : parsed.errors) errors.push_back(DiagnosticJson(d));
      out["errors"] = errors;
    }
    PrintJson(out);
    return parsed.ok() ? kExitOk : kExitFailed;
  }
  if (!parsed.ok()) {
    for (const auto& d : parsed.errors) {
      std::fprintf(stderr, "error: %s [%s]\n", d.ToString().c_str(), d.reason.c_str());
    }
    std::fprintf(stderr, "%s: invalid (%zu error%s)\n", c.file.c_str(), parsed.errors.size(),
                 parsed.errors.size() == 1 ? "" : "s");
    return kExitFailed;
  }
  std::fprintf(stdout, "%s: valid\n\n# The effective configuration, defaults filled in:\n%s",
               c.file.c_str(), build::ToYaml(parsed.config).c_str());
  return kExitOk;
}

int RunInit(const ConfigCommands& c, bool json) {
  Result<build::Detection> detection = build::DetectProject(c.path);
  if (!detection.ok()) return ReportError(detection.error(), json);
  const std::string text = build::SuggestedConfigYaml(*detection);
  // The suggestion must itself be valid: anything else is our bug.
  build::ConfigParse check = build::ParseConfig(text, "suggested lunal.config.yaml");
  if (!check.ok()) {
    return ReportError(Internal("init.invalid_suggestion", "{}", check.errors[0].ToString()), json);
  }
  const fs::path target = fs::path(c.path) / "lunal.config.yaml";
  if (c.write) {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(target, ec))) {
      return ReportError(Conflict("init.exists",
                                  "{} already exists; not replaced (run without --write to "
                                  "see the suggestion)",
                                  target.string()),
                         json);
    }
    Status written = WriteFileAtomically(target, text, 0644);
    if (!written.ok()) return ReportError(written, json);
  }
  if (json) {
    Json out = build::DetectionToJson(*detection);
    out["yaml"] = text;
    if (c.write) out["written"] = target.string();
    PrintJson(out);
    return kExitOk;
  }
  std::fputs(text.c_str(), stdout);
  if (c.write) std::fprintf(stderr, "wrote %s\n", target.string().c_str());
  return kExitOk;
}

}  // namespace

std::unique_ptr<ConfigCommands> AddConfigCommands(CLI::App& app) {
  auto c = std::make_unique<ConfigCommands>();
  CLI::App* config = app.add_subcommand("config", "Check a project's lunal.config.yaml");
  config->require_subcommand(1);
  c->validate = config->add_subcommand(
      "validate",
      "Validate lunal.config.yaml strictly (docs/formats/lunal-config.md): every error with its\n"
      "file:line:column and field, unknown keys with a did-you-mean suggestion");
  c->validate->add_option("FILE", c->file, "The config file (default ./lunal.config.yaml)");
  c->validate->footer(
      "Examples:\n"
      "  lunal config validate\n"
      "  lunal config validate app/lunal.config.yaml --json\n"
      "Exit status: 0 valid, 1 invalid (every error listed), 2 bad usage or unreadable file,\n"
      "5 no such file.");
  c->init = app.add_subcommand(
      "init",
      "Detect a project's runtime (Python, Node.js, Go, static site, or a Dockerfile) and\n"
      "suggest a lunal.config.yaml, with the reason for each choice");
  c->init->add_option("PATH", c->path, "The project folder (default .)");
  c->init->add_flag("--write", c->write,
                    "Create PATH/lunal.config.yaml (never replaces an existing one)");
  c->init->footer(
      "Examples:\n"
      "  lunal init\n"
      "  lunal init ./my-app --write\n"
      "Exit status: 0 suggested (and written), 1 lunal.config.yaml exists already with --write,\n"
      "2 bad usage, 5 no runtime recognised.");
  return c;
}

std::optional<int> RunConfigCommands(const ConfigCommands& commands, bool json) {
  if (commands.validate != nullptr && commands.validate->parsed()) {
    return RunValidate(commands, json);
  }
  if (commands.init != nullptr && commands.init->parsed()) return RunInit(commands, json);
  return std::nullopt;
}

}  // namespace lunal::cli
