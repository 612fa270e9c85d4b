#include "der.h"

namespace lunal::mesh::internal {

Status DerReader::Fail(std::string_view what) const {
  return Malformed(reason_, "{}: bad DER at offset {}", what, reader_.offset());
}

Result<Tlv> DerReader::Next() {
  Result<std::uint8_t> tag = reader_.U8("der.tag");
  if (!tag) return Fail("tag");
  // High-tag-number form (X.690 §8.1.2.4) is never used by the profile.
  if ((*tag & 0x1f) == 0x1f) return Fail("tag");
  Result<std::uint8_t> first = reader_.U8("der.length");
  if (!first) return Fail("length");
  std::size_t length = *first;
  if (*first == 0x81) {
    // X.690 §10.1: the definite form with the fewest octets.
    Result<std::uint8_t> l = reader_.U8("der.length");
    if (!l || *l < 0x80) return Fail("length");
    length = *l;
  } else if (*first == 0x82) {
    Result<std::uint16_t> l = reader_.U16Be("der.length");
    if (!l || *l < 0x100) return Fail("length");
    length = *l;
  } else if (*first >= 0x80) {
    return Fail("length");  // indefinite (0x80) or longer than 65535 bytes
  }
  Result<ByteSpan> value = reader_.Bytes(length, "der.value");
  if (!value) return Fail("value");
  return Tlv{.tag = *tag, .value = *value};
}

Result<ByteSpan> DerReader::Expect(std::uint8_t tag, std::string_view what) {
  LUNAL_ASSIGN_OR_RETURN(Tlv tlv, Next());
  if (tlv.tag != tag) {
    return Malformed(reason_, "{}: expected tag 0x{:02x}, found 0x{:02x}", what, tag, tlv.tag);
  }
  return tlv.value;
}

Status DerReader::ExpectEnd(std::string_view what) const {
  if (!reader_.empty()) {
    return Malformed(reason_, "{}: {} unexpected bytes at the end", what, reader_.remaining());
  }
  return Status::Ok();
}

Result<ByteSpan> ReadWhole(ByteSpan der, std::uint8_t tag, const std::string& reason,
                           std::string_view what) {
  DerReader reader(der, reason);
  LUNAL_ASSIGN_OR_RETURN(ByteSpan value, reader.Expect(tag, what));
  LUNAL_RETURN_IF_ERROR(reader.ExpectEnd(what));
  return value;
}

Result<std::string> OidToString(ByteSpan contents, const std::string& reason) {
  if (contents.empty()) return Malformed(reason, "empty OBJECT IDENTIFIER");
  ByteReader reader(contents);
  std::string out;
  bool first = true;
  while (!reader.empty()) {
    std::uint64_t value = 0;
    bool start = true;
    while (true) {
      Result<std::uint8_t> byte = reader.U8("oid");
      if (!byte) return Malformed(reason, "truncated OBJECT IDENTIFIER");
      // X.690 §8.19.2: no leading 0x80 octet; keep the value within 63 bits.
      if ((start && *byte == 0x80) || value > (std::uint64_t{1} << 56)) {
        return Malformed(reason, "bad OBJECT IDENTIFIER encoding");
      }
      start = false;
      value = (value << 7) | (*byte & 0x7fu);
      if ((*byte & 0x80) == 0) break;
    }
    if (first) {
      // X.690 §8.19.4: the first sub-identifier packs the first two arcs.
      std::uint64_t arc1 = value < 40 ? 0 : (value < 80 ? 1 : 2);
      out = std::to_string(arc1) + "." + std::to_string(value - arc1 * 40);
      first = false;
    } else {
      out += "." + std::to_string(value);
    }
  }
  return out;
}

}  // namespace lunal::mesh::internal
