#include "ssh_wire.h"

#include <string>

namespace lunal::sign::internal {

Result<ByteSpan> ReadString(ByteReader& reader, std::string_view field) {
  std::string length_field = std::string(field) + ".length";
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t length, reader.U32Be(length_field));
  return reader.Bytes(length, field);
}

Result<ByteSpan> ReadPositiveMpint(ByteReader& reader, std::string_view field) {
  std::size_t at = reader.offset();
  LUNAL_ASSIGN_OR_RETURN(ByteSpan value, ReadString(reader, field));
  if (value.empty()) {
    return Malformed(std::string(field) + ".zero", "{}: zero at offset {}", field, at);
  }
  if ((value[0] & 0x80) != 0) {
    return Malformed(std::string(field) + ".negative", "{}: negative mpint at offset {}", field,
                     at);
  }
  // RFC 4251 §5: "Unnecessary leading bytes with the value 0 or 255 MUST NOT be included."
  if (value[0] == 0 && (value.size() == 1 || (value[1] & 0x80) == 0)) {
    return Malformed(std::string(field) + ".non_minimal",
                     "{}: unnecessary leading zero byte at offset {}", field, at);
  }
  return value[0] == 0 ? value.subspan(1) : value;
}

void AppendU32(Bytes& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>((value >> shift) & 0xff));
  }
}

void AppendString(Bytes& out, ByteSpan value) {
  AppendU32(out, static_cast<std::uint32_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
}

}  // namespace lunal::sign::internal
