// Fuzz target: hex and base64 decoders. Invariants: no crash; anything accepted re-encodes to
// an input the decoder accepts again with the same bytes (canonical round trip).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lunal/common/encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto hex = lunal::HexDecode(text); hex.ok()) {
    auto again = lunal::HexDecode(lunal::HexEncode(*hex));
    if (!again.ok() || *again != *hex) std::abort();
  }
  using P = lunal::Base64DecodeOptions::Padding;
  for (auto alphabet : {lunal::Base64Alphabet::kStandard, lunal::Base64Alphabet::kUrl}) {
    auto b64 = lunal::Base64Decode(
        text, {.alphabet = alphabet, .padding = P::kOptional, .ignore_whitespace = true});
    if (!b64.ok()) continue;
    auto again = lunal::Base64Decode(lunal::Base64Encode(*b64, alphabet), {.alphabet = alphabet});
    if (!again.ok() || *again != *b64) std::abort();
  }
  return 0;
}
