// Fuzz target: RFC 3339 parser. Invariant: anything accepted formats to a string that parses
// back to the same instant.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lunal/common/time.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = lunal::ParseRfc3339(text);
  if (!t.ok()) return 0;
  auto again = lunal::ParseRfc3339(lunal::FormatRfc3339(*t));
  if (!again.ok() || *again != *t) std::abort();
  return 0;
}
