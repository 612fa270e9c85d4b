// A small, bounded DER reader (ITU-T X.690 §8, §10) for the Intel SGX PCK certificate extension:
// single-byte tags, definite lengths in minimal form (at most 4 length octets), no indefinite
// lengths. All byte access goes through lunal::ByteReader. Private to attest/tdx.
//
// Errors (kMalformed), with <p> the prefix given to the reader ("tdx.pck_ext"):
//   <p>.truncated      a tag, length or value runs past its container (ByteReader's message)
//   <p>.bad_tag        an element has another tag than the structure requires
//   <p>.bad_length     indefinite, non-minimal or over-long length encoding
//   <p>.bad_integer    INTEGER/ENUMERATED empty, non-minimal or negative
//   <p>.out_of_range   a non-negative INTEGER larger than the field allows
//   <p>.bad_boolean    BOOLEAN not exactly one byte 0x00 or 0xFF (DER, X.690 §11.1)
//   <p>.bad_oid        an OBJECT IDENTIFIER that is not minimal base-128
//   <p>.trailing_bytes bytes left inside a structure that should be exhausted
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lunal/common/byte_reader.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::tdx::internal {

namespace der_tag {
inline constexpr std::uint8_t kBoolean = 0x01;
inline constexpr std::uint8_t kInteger = 0x02;
inline constexpr std::uint8_t kOctetString = 0x04;
inline constexpr std::uint8_t kOid = 0x06;
inline constexpr std::uint8_t kEnumerated = 0x0A;
inline constexpr std::uint8_t kSequence = 0x30;
}  // namespace der_tag

struct DerElement {
  std::uint8_t tag;
  ByteSpan value;               // the contents octets (a view into the input)
  std::size_t offset;           // of the tag, within the outermost buffer
  std::size_t contents_offset;  // of the contents, within the outermost buffer
};

class DerReader {
 public:
  DerReader(ByteSpan data, std::string_view prefix, std::size_t base_offset = 0)
      : reader_(data, base_offset), prefix_(prefix) {}

  bool empty() const { return reader_.empty(); }
  std::size_t offset() const { return reader_.offset(); }

  // The next element, whatever its tag.
  Result<DerElement> Next(std::string_view what);
  // The next element, which must have `tag`.
  Result<DerElement> Next(std::uint8_t tag, std::string_view what);
  // A reader over the contents of the next element, which must be a SEQUENCE.
  Result<DerReader> Sequence(std::string_view what);
  // A reader over the contents of `element` (already read), which must be a SEQUENCE.
  Result<DerReader> Enter(const DerElement& element, std::string_view what) const;
  // Fails with <p>.trailing_bytes unless everything was read.
  Status ExpectEnd(std::string_view what) const;

  // Errors with this reader's prefix.
  Status Error(std::string_view reason, std::string message) const;
  std::string_view prefix() const { return prefix_; }

  // Contents decoders (the element must already have the right tag).
  Result<std::uint64_t> Unsigned(const DerElement& element, std::uint64_t max,
                                 std::string_view what) const;
  Result<bool> Boolean(const DerElement& element, std::string_view what) const;
  // "1.2.840.113741.1.13.1.2" from OID contents; validates minimal base-128.
  Result<std::string> Oid(const DerElement& element, std::string_view what) const;

 private:
  Result<std::size_t> Length(std::string_view what);

  ByteReader reader_;
  std::string_view prefix_;
};

}  // namespace lunal::attest::tdx::internal
