#include "der_reader.h"

#include <utility>

namespace lunal::attest::tdx::internal {

Status DerReader::Error(std::string_view reason, std::string message) const {
  return Malformed(fmt::format("{}.{}", prefix_, reason), std::move(message));
}

// X.690 §8.1.3 (definite form) with the DER restrictions of §10.1: the short form for lengths
// below 128, otherwise the fewest length octets, never the indefinite form (0x80).
Result<std::size_t> DerReader::Length(std::string_view what) {
  std::size_t at = reader_.offset();
  auto first = reader_.U8(prefix_);
  if (!first.ok()) return first.error().WithContext(what);
  if (*first < 0x80) return std::size_t{*first};
  std::size_t count = *first & 0x7Fu;
  if (count == 0 || count > 4) {
    return Error("bad_length", fmt::format("{}: unsupported length form 0x{:02x} at offset {}",
                                           what, *first, at));
  }
  std::size_t length = 0;
  for (std::size_t i = 0; i < count; ++i) {
    auto byte = reader_.U8(prefix_);
    if (!byte.ok()) return byte.error().WithContext(what);
    if (i == 0 && *byte == 0) {
      return Error("bad_length", fmt::format("{}: non-minimal length at offset {}", what, at));
    }
    length = (length << 8) | *byte;
  }
  if (length < 0x80) {
    return Error("bad_length", fmt::format("{}: non-minimal length at offset {}", what, at));
  }
  return length;
}

Result<DerElement> DerReader::Next(std::string_view what) {
  DerElement element{};
  element.offset = reader_.offset();
  auto tag = reader_.U8(prefix_);
  if (!tag.ok()) return tag.error().WithContext(what);
  if ((*tag & 0x1Fu) == 0x1Fu) {  // high-tag-number form: nothing in this extension uses it
    return Error("bad_tag", fmt::format("{}: multi-byte tag at offset {}", what, element.offset));
  }
  element.tag = *tag;
  LUNAL_ASSIGN_OR_RETURN(std::size_t length, Length(what));
  auto value = reader_.Bytes(length, prefix_);
  if (!value.ok()) return value.error().WithContext(what);
  element.value = *value;
  element.contents_offset = reader_.offset() - length;
  return element;
}

Result<DerElement> DerReader::Next(std::uint8_t tag, std::string_view what) {
  LUNAL_ASSIGN_OR_RETURN(DerElement element, Next(what));
  if (element.tag != tag) {
    return Error("bad_tag", fmt::format("{}: expected tag 0x{:02x}, found 0x{:02x} at offset {}",
                                        what, tag, element.tag, element.offset));
  }
  return element;
}

Result<DerReader> DerReader::Sequence(std::string_view what) {
  LUNAL_ASSIGN_OR_RETURN(DerElement element, Next(der_tag::kSequence, what));
  return DerReader(element.value, prefix_, element.contents_offset);
}

Result<DerReader> DerReader::Enter(const DerElement& element, std::string_view what) const {
  if (element.tag != der_tag::kSequence) {
    return Error("bad_tag", fmt::format("{}: expected a SEQUENCE, found tag 0x{:02x} at offset {}",
                                        what, element.tag, element.offset));
  }
  return DerReader(element.value, prefix_, element.contents_offset);
}

Status DerReader::ExpectEnd(std::string_view what) const {
  if (reader_.empty()) return Status::Ok();
  return Error("trailing_bytes", fmt::format("{}: {} unexpected bytes at offset {}", what,
                                             reader_.remaining(), reader_.offset()));
}

// X.690 §8.3: two's complement, minimal (the first nine bits not all equal). Only non-negative
// values are meaningful for SVNs and enumerations.
Result<std::uint64_t> DerReader::Unsigned(const DerElement& element, std::uint64_t max,
                                          std::string_view what) const {
  ByteSpan v = element.value;
  if (v.empty()) return Error("bad_integer", fmt::format("{}: empty integer", what));
  if (v.size() > 1 && ((v[0] == 0x00 && v[1] < 0x80) || (v[0] == 0xFF && v[1] >= 0x80))) {
    return Error("bad_integer", fmt::format("{}: non-minimal integer encoding", what));
  }
  if (v[0] >= 0x80) return Error("bad_integer", fmt::format("{}: negative integer", what));
  if (v.size() > 9 || (v.size() == 9 && v[0] != 0)) {
    return Error("out_of_range", fmt::format("{}: integer wider than 64 bits", what));
  }
  std::uint64_t value = 0;
  for (std::uint8_t b : v) value = (value << 8) | b;
  if (value > max) {
    return Error("out_of_range", fmt::format("{}: {} is larger than {}", what, value, max));
  }
  return value;
}

Result<bool> DerReader::Boolean(const DerElement& element, std::string_view what) const {
  if (element.value.size() != 1 || (element.value[0] != 0x00 && element.value[0] != 0xFF)) {
    return Error("bad_boolean", fmt::format("{}: BOOLEAN must be one byte 00 or ff", what));
  }
  return element.value[0] == 0xFF;
}

// X.690 §8.19: base-128 subidentifiers, high bit set on all but the last byte, no leading 0x80;
// the first subidentifier encodes the first two arcs.
Result<std::string> DerReader::Oid(const DerElement& element, std::string_view what) const {
  ByteSpan v = element.value;
  if (v.empty() || (v.back() & 0x80u) != 0) {
    return Error("bad_oid", fmt::format("{}: truncated object identifier", what));
  }
  std::string out;
  std::uint64_t arc = 0;
  bool first = true;
  bool start = true;
  for (std::uint8_t b : v) {
    if (start && b == 0x80) {
      return Error("bad_oid", fmt::format("{}: non-minimal object identifier", what));
    }
    if (arc > (UINT64_MAX >> 7)) {
      return Error("bad_oid", fmt::format("{}: object identifier arc too large", what));
    }
    arc = (arc << 7) | (b & 0x7Fu);
    start = (b & 0x80u) == 0;
    if (!start) continue;
    if (first) {
      std::uint64_t top = arc < 40 ? 0 : (arc < 80 ? 1 : 2);
      out = fmt::format("{}.{}", top, arc - top * 40);
      first = false;
    } else {
      out += fmt::format(".{}", arc);
    }
    arc = 0;
  }
  return out;
}

}  // namespace lunal::attest::tdx::internal
