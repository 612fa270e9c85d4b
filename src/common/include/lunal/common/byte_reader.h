// ByteReader: the only code that indexes attacker-controlled bytes.
//
// Every read is bounds-checked before it happens (written `n > remaining()`, never by computing
// an end pointer that could overflow) and reports failures with a stable reason derived from the
// field name and a message giving the absolute offset:
//
//   ByteReader r(quote_bytes);
//   LUNAL_ASSIGN_OR_RETURN(uint16_t version, r.U16Le("tdx.header.version"));
//   LUNAL_RETURN_IF_ERROR(r.ExpectZero(16, "tdx.header.reserved"));
//   // on a 10-byte input: malformed [tdx.header.reserved.truncated]:
//   //   tdx.header.reserved: need 16 bytes at offset 2, have 8
//
// Field names are dotted prefixes; the reader appends `.truncated`, `.not_zero` or
// `.trailing_bytes`. All multi-byte integers are little-endian unless the name says Be (TDX and
// SNP structures are little-endian; DER and network formats are big-endian).
//
// A ByteReader borrows its input: the spans it returns point into the caller's buffer, which must
// outlive them. Not thread-safe (a cursor); copying it is cheap and forks the cursor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal {

class ByteReader {
 public:
  // `base_offset` is added to positions in messages, so a reader over a nested structure reports
  // offsets within the outermost buffer.
  explicit ByteReader(ByteSpan data, std::size_t base_offset = 0)
      : data_(data), base_offset_(base_offset) {}

  std::size_t position() const { return position_; }               // within this reader
  std::size_t offset() const { return base_offset_ + position_; }  // within the outer buffer
  std::size_t remaining() const { return data_.size() - position_; }
  std::size_t size() const { return data_.size(); }
  bool empty() const { return remaining() == 0; }
  // The unread bytes, without consuming them.
  ByteSpan rest() const { return data_.subspan(position_); }

  Result<std::uint8_t> U8(std::string_view field);
  Result<std::uint16_t> U16Le(std::string_view field);
  Result<std::uint32_t> U32Le(std::string_view field);
  Result<std::uint64_t> U64Le(std::string_view field);
  Result<std::uint16_t> U16Be(std::string_view field);
  Result<std::uint32_t> U32Be(std::string_view field);
  Result<std::uint64_t> U64Be(std::string_view field);

  // The next n bytes (a view into the input).
  Result<ByteSpan> Bytes(std::size_t n, std::string_view field);

  // The next N bytes as a fixed-size view, for spec fields of fixed length (MRTD is 48 bytes).
  template <std::size_t N>
  Result<std::span<const std::uint8_t, N>> Array(std::string_view field) {
    LUNAL_ASSIGN_OR_RETURN(ByteSpan bytes, Bytes(N, field));
    return std::span<const std::uint8_t, N>(bytes.data(), N);
  }

  Status Skip(std::size_t n, std::string_view field);

  // Consumes n bytes that the spec says must be zero (reserved fields). Error reason
  // `<field>.not_zero`, naming the first non-zero byte's offset.
  Status ExpectZero(std::size_t n, std::string_view field);

  // A reader over the next n bytes (consumed here), for a nested structure with its own length.
  Result<ByteReader> Sub(std::size_t n, std::string_view field);

  // Fails with `<field>.trailing_bytes` unless everything was consumed.
  Status ExpectEnd(std::string_view field) const;

 private:
  Status Truncated(std::size_t need, std::string_view field) const;

  ByteSpan data_;
  std::size_t base_offset_;
  std::size_t position_ = 0;
};

}  // namespace lunal
