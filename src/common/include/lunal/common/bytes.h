// Byte-buffer vocabulary shared by every component.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lunal {

using Bytes = std::vector<std::uint8_t>;         // owned bytes
using ByteSpan = std::span<const std::uint8_t>;  // borrowed, read-only bytes

// Views a string's characters as bytes (no copy; the span lives as long as `text`).
inline ByteSpan AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}
// Copies a string's characters into a byte vector.
inline Bytes ToBytes(std::string_view text) {
  ByteSpan view = AsBytes(text);
  return {view.begin(), view.end()};
}
// Views bytes as characters (no copy).
inline std::string_view AsStringView(ByteSpan bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline std::string ToString(ByteSpan bytes) { return std::string(AsStringView(bytes)); }

// Constant-time equality for secrets and MACs: the time taken depends only on the lengths.
bool ConstantTimeEqual(ByteSpan a, ByteSpan b);

}  // namespace lunal
