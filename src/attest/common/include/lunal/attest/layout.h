// Fixed-layout binary structures (TDX quotes, SNP reports): field tables and the reads that
// follow them. Layer 1 of the parsing layers in STYLE.md.
//
// A layout header lists each field as a Field{offset, size} with static_asserts (Tiles) that the
// fields fill the structure exactly; a parser then reads every field through Take<Field>, which
// also proves that the reader stands at the field's offset, so the code and the table cannot
// drift apart silently. Reads go through lunal::ByteReader (bounds-checked).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lunal/common/byte_reader.h"
#include "lunal/common/result.h"

namespace lunal::attest {

template <std::size_t N>
using FixedSpan = std::span<const std::uint8_t, N>;

// One field of a structure: its offset from the start of that structure and its size.
struct Field {
  std::size_t offset;
  std::size_t size;
  constexpr std::size_t end() const { return offset + size; }
};

// True when the fields start at 0, follow each other without gaps or overlap, and end at `total`.
template <typename... Fields>
constexpr bool Tiles(std::size_t total, Fields... fields) {
  std::size_t next = 0;
  bool ok = true;
  ((ok = ok && fields.offset == next, next = fields.end()), ...);
  return ok && next == total;
}

namespace internal {
// A reader that is not at the field's offset is our bug (layout table and parser disagree),
// never the input's: kInternal.
Status LayoutBug(std::string_view name, Field field, std::size_t position);
}  // namespace internal

// Reads field F (as `name` in error reasons) from `r`, which must stand at F.offset.
template <Field F>
Result<FixedSpan<F.size>> Take(ByteReader& r, std::string_view name) {
  if (r.position() != F.offset) return internal::LayoutBug(name, F, r.position());
  return r.Array<F.size>(name);
}

template <Field F>
Result<std::uint8_t> TakeU8(ByteReader& r, std::string_view name) {
  static_assert(F.size == 1);
  if (r.position() != F.offset) return internal::LayoutBug(name, F, r.position());
  return r.U8(name);
}

template <Field F>
Result<std::uint16_t> TakeU16(ByteReader& r, std::string_view name) {
  static_assert(F.size == 2);
  if (r.position() != F.offset) return internal::LayoutBug(name, F, r.position());
  return r.U16Le(name);
}

template <Field F>
Result<std::uint32_t> TakeU32(ByteReader& r, std::string_view name) {
  static_assert(F.size == 4);
  if (r.position() != F.offset) return internal::LayoutBug(name, F, r.position());
  return r.U32Le(name);
}

template <Field F>
Result<std::uint64_t> TakeU64(ByteReader& r, std::string_view name) {
  static_assert(F.size == 8);
  if (r.position() != F.offset) return internal::LayoutBug(name, F, r.position());
  return r.U64Le(name);
}

// A reserved field: must be zero (`<name>.not_zero`).
template <Field F>
Status TakeZero(ByteReader& r, std::string_view name) {
  if (r.position() != F.offset) return internal::LayoutBug(name, F, r.position());
  return r.ExpectZero(F.size, name);
}

}  // namespace lunal::attest
