#include "lunal/common/byte_reader.h"

namespace lunal {

Status ByteReader::Truncated(std::size_t need, std::string_view field) const {
  return Malformed(fmt::format("{}.truncated", field), "{}: need {} bytes at offset {}, have {}",
                   field, need, offset(), remaining());
}

Result<ByteSpan> ByteReader::Bytes(std::size_t n, std::string_view field) {
  if (n > remaining()) return Truncated(n, field);
  ByteSpan out = data_.subspan(position_, n);
  position_ += n;
  return out;
}

Result<std::uint8_t> ByteReader::U8(std::string_view field) {
  if (1 > remaining()) return Truncated(1, field);
  return data_[position_++];
}

namespace {
template <typename T>
T LoadLe(ByteSpan b) {
  T v = 0;
  for (std::size_t i = sizeof(T); i-- > 0;) v = static_cast<T>((v << 8) | b[i]);
  return v;
}
template <typename T>
T LoadBe(ByteSpan b) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | b[i]);
  return v;
}
}  // namespace

Result<std::uint16_t> ByteReader::U16Le(std::string_view field) {
  LUNAL_ASSIGN_OR_RETURN(ByteSpan b, Bytes(2, field));
  return LoadLe<std::uint16_t>(b);
}
Result<std::uint32_t> ByteReader::U32Le(std::string_view field) {
  LUNAL_ASSIGN_OR_RETURN(ByteSpan b, Bytes(4, field));
  return LoadLe<std::uint32_t>(b);
}
Result<std::uint64_t> ByteReader::U64Le(std::string_view field) {
  LUNAL_ASSIGN_OR_RETURN(ByteSpan b, Bytes(8, field));
  return LoadLe<std::uint64_t>(b);
}
Result<std::uint16_t> ByteReader::U16Be(std::string_view field) {
  LUNAL_ASSIGN_OR_RETURN(ByteSpan b, Bytes(2, field));
  return LoadBe<std::uint16_t>(b);
}
Result<std::uint32_t> ByteReader::U32Be(std::string_view field) {
  LUNAL_ASSIGN_OR_RETURN(ByteSpan b, Bytes(4, field));
  return LoadBe<std::uint32_t>(b);
}

Result<std::uint64_t> ByteReader::U64Be(std::string_view field) {
  LUNAL_ASSIGN_OR_RETURN(ByteSpan b, Bytes(8, field));
  return LoadBe<std::uint64_t>(b);
}

Status ByteReader::Skip(std::size_t n, std::string_view field) {
  if (n > remaining()) return Truncated(n, field);
  position_ += n;
  return Status();
}

Status ByteReader::ExpectZero(std::size_t n, std::string_view field) {
  std::size_t start = offset();
  LUNAL_ASSIGN_OR_RETURN(ByteSpan b, Bytes(n, field));
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (b[i] != 0) {
      return Malformed(fmt::format("{}.not_zero", field),
                       "{}: must be zero, byte 0x{:02x} at offset {}", field, b[i], start + i);
    }
  }
  return Status();
}

Result<ByteReader> ByteReader::Sub(std::size_t n, std::string_view field) {
  std::size_t start = offset();
  LUNAL_ASSIGN_OR_RETURN(ByteSpan b, Bytes(n, field));
  return ByteReader(b, start);
}

Status ByteReader::ExpectEnd(std::string_view field) const {
  if (remaining() == 0) return Status();
  return Malformed(fmt::format("{}.trailing_bytes", field), "{}: {} unexpected bytes at offset {}",
                   field, remaining(), offset());
}

}  // namespace lunal
