// A minimal DER reader (ITU-T X.690 §8, §10) for the few extension values the mesh profile
// defines. Only what those need: single-byte tags, definite lengths in minimal form up to 65535
// bytes. Bytes are read through lunal::ByteReader; every failure is Malformed with the caller's
// reason, so a bad extension reports as that extension (mesh.cert.san, ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lunal/common/byte_reader.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::mesh::internal {

// DER tags used by the profile (X.690 §8.1.2; RFC 5280 §4.2.1.6 for the GeneralName tags).
inline constexpr std::uint8_t kTagBoolean = 0x01;
inline constexpr std::uint8_t kTagBitString = 0x03;
inline constexpr std::uint8_t kTagOid = 0x06;
inline constexpr std::uint8_t kTagUtf8String = 0x0c;
inline constexpr std::uint8_t kTagSequence = 0x30;
inline constexpr std::uint8_t kTagUri = 0x86;  // GeneralName uniformResourceIdentifier [6] IMPLICIT

struct Tlv {
  std::uint8_t tag = 0;
  ByteSpan value{};
};

class DerReader {
 public:
  DerReader(ByteSpan der, std::string reason) : reader_(der), reason_(std::move(reason)) {}

  bool empty() const { return reader_.empty(); }
  // The next TLV, any tag.
  Result<Tlv> Next();
  // The next TLV, which must carry `tag`; its contents.
  Result<ByteSpan> Expect(std::uint8_t tag, std::string_view what);
  // Nothing may follow.
  Status ExpectEnd(std::string_view what) const;

 private:
  Status Fail(std::string_view what) const;
  ByteReader reader_;
  std::string reason_;
};

// A single TLV with `tag` spanning all of `der`; its contents.
Result<ByteSpan> ReadWhole(ByteSpan der, std::uint8_t tag, const std::string& reason,
                           std::string_view what);

// Dotted text of an OBJECT IDENTIFIER's contents (X.690 §8.19), e.g. "1.3.6.1.5.5.7.3.1".
// Arcs above 2^63 and non-minimal sub-identifiers are refused.
Result<std::string> OidToString(ByteSpan contents, const std::string& reason);

}  // namespace lunal::mesh::internal
