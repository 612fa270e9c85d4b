// Fuzz target: strict JSON parser. Invariant: a parsed document's canonical form (when it has
// one) parses again to an equal document.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lunal/common/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = lunal::ParseJson(text);
  if (!doc.ok()) return 0;
  auto canonical = lunal::CanonicalJson(*doc);
  if (!canonical.ok()) return 0;
  auto again = lunal::ParseJson(*canonical);
  if (!again.ok() || *again != *doc) std::abort();
  return 0;
}
