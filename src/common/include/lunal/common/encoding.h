// Hex and base64 (RFC 4648 §4 standard and §5 URL-safe) codecs.
//
// Decoders are strict: every rejected input names the reason and the 0-based character position
// at fault, e.g. "invalid hex character 'g' at position 17". Nothing is silently skipped unless
// the caller asks for whitespace to be ignored (PEM bodies, files with trailing newlines).
#pragma once

#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal {

// Lowercase hex, two characters a byte.
std::string HexEncode(ByteSpan bytes);

// Accepts upper- and lowercase digits. Errors (kMalformed): hex.odd_length,
// hex.invalid_character.
Result<Bytes> HexDecode(std::string_view text);

enum class Base64Alphabet {
  kStandard,  // RFC 4648 §4: A-Z a-z 0-9 + /
  kUrl,       // RFC 4648 §5: A-Z a-z 0-9 - _
};

struct Base64DecodeOptions {
  Base64Alphabet alphabet = Base64Alphabet::kStandard;
  // Padding: kRequired demands '=' to a multiple of 4 (standard base64), kForbidden rejects it
  // (JWT/JWS base64url), kOptional accepts either.
  enum class Padding { kRequired, kOptional, kForbidden } padding = Padding::kRequired;
  // Skip ASCII whitespace (space, \t, \r, \n) anywhere; positions in errors still count it.
  bool ignore_whitespace = false;
};

std::string Base64Encode(ByteSpan bytes, Base64Alphabet alphabet = Base64Alphabet::kStandard,
                         bool pad = true);

// Errors (kMalformed): base64.invalid_character, base64.bad_padding, base64.bad_length,
// base64.non_canonical (unused low bits set in the last character, so one input has exactly one
// encoding).
Result<Bytes> Base64Decode(std::string_view text, const Base64DecodeOptions& options = {});

// base64url without padding (JWS, JWK): the common special case.
inline std::string Base64UrlEncode(ByteSpan bytes) {
  return Base64Encode(bytes, Base64Alphabet::kUrl, /*pad=*/false);
}
inline Result<Bytes> Base64UrlDecode(std::string_view text) {
  return Base64Decode(
      text, {.alphabet = Base64Alphabet::kUrl, .padding = Base64DecodeOptions::Padding::kOptional});
}

}  // namespace lunal
