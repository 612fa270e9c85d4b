// lunald-instance: the instance agent (instance.h). Flags and wiring only.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "lunal/common/files.h"
#include "lunal/common/json.h"
#include "lunal/common/log.h"
#include "lunal/node/device.h"
#include "lunal/node/instance.h"

int main(int argc, char** argv) {
  CLI::App app(
      "lunald-instance: the Lunal instance agent. It runs inside the sandbox the node agent "
      "(lunald node) starts for each instance, as its first process: it extends RTMR3 with the "
      "build hash through the node's simulated TDX device, generates the instance key, obtains "
      "a mesh certificate from the CDS, starts the app and serves it behind mesh TLS. It is not "
      "meant to be run by hand.",
      "lunald-instance");
  std::string spec_path(lunal::node::kSpecPath);
  std::string log_level = "info";
  app.add_option("--spec", spec_path, "The instance spec (JSON) the node agent wrote")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto level = lunal::log::ParseLevel(log_level);
  if (!level.ok()) {
    std::fprintf(stderr, "lunald-instance: --log-level: %s\n", level.error().ToString().c_str());
    return 2;
  }
  lunal::log::Init({.level = *level, .format = lunal::log::Format::kText});
  auto text = lunal::ReadFile(spec_path);
  if (!text.ok()) {
    lunal::log::Error("instance.spec_unreadable", {{"path", spec_path},
                                                   {"reason", text.error().reason()},
                                                   {"message", text.error().message()}});
    return 1;
  }
  auto json = lunal::ParseJson(*text);
  auto spec = json.ok() ? lunal::node::ParseInstanceSpec(*json)
                        : lunal::Result<lunal::node::InstanceSpec>(json.error());
  if (!spec.ok()) {
    lunal::log::Error("instance.bad_spec", {{"path", spec_path},
                                            {"reason", spec.error().reason()},
                                            {"message", spec.error().message()}});
    return 1;
  }
  return lunal::node::RunInstanceAgent(*spec);
}
