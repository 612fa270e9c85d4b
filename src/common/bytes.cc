#include "lunal/common/bytes.h"

namespace lunal {

bool ConstantTimeEqual(ByteSpan a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  // Accumulate differences without an early exit; volatile keeps the compiler from turning the
  // loop into a short-circuiting memcmp.
  volatile std::uint8_t diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff = static_cast<std::uint8_t>(diff | (a[i] ^ b[i]));
  return diff == 0;
}

}  // namespace lunal
