// lunal.config.yaml parser (src/build): any bytes either parse or give positioned errors; a
// parsed config prints to YAML that parses back to the same config.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lunal/build/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  lunal::build::ConfigParse parsed = lunal::build::ParseConfig(text, "fuzz.yaml");
  if (!parsed.ok()) return 0;
  lunal::build::ConfigParse again =
      lunal::build::ParseConfig(lunal::build::ToYaml(parsed.config), "printed.yaml");
  if (!again.ok() || !(again.config == parsed.config)) std::abort();
  (void)lunal::build::ToJson(parsed.config).dump();
  return 0;
}
