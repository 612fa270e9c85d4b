// SSH wire encoding (RFC 4251 §5): uint32, string and mpint, read through ByteReader so every
// bound is checked in one place, and written for the structures we sign (PROTOCOL.sshsig).
// Private to lunal::sign.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lunal/common/byte_reader.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::sign::internal {

// `string` (RFC 4251 §5): uint32 length, then that many bytes. Reasons `<field>.truncated`.
Result<ByteSpan> ReadString(ByteReader& reader, std::string_view field);

// `mpint` (RFC 4251 §5) that must be positive: two's complement big-endian with no unnecessary
// leading zero byte. Returns the magnitude without a leading zero. Reasons (kMalformed):
// `<field>.negative`, `<field>.non_minimal`, `<field>.zero`.
Result<ByteSpan> ReadPositiveMpint(ByteReader& reader, std::string_view field);

void AppendU32(Bytes& out, std::uint32_t value);
void AppendString(Bytes& out, ByteSpan value);
inline void AppendString(Bytes& out, std::string_view value) { AppendString(out, AsBytes(value)); }

}  // namespace lunal::sign::internal
