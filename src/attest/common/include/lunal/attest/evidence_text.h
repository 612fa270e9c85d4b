// Evidence arrives as raw bytes, as hex or base64 text, or inside JSON documents whose byte
// fields are strings or arrays of numbers. These helpers are shared by every TEE's container
// decoder (tdx/evidence_input.h, snp/evidence_input.h).
#pragma once

#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"

namespace lunal::attest {

bool IsAsciiSpace(char c);
std::string_view TrimAsciiSpace(std::string_view text);
// True when every byte is printable ASCII or whitespace (text, not binary).
bool IsText(std::string_view text);

enum class TextEncoding { kHex, kBase64 };

struct DecodedText {
  Bytes bytes;
  TextEncoding encoding;
};

// Hex or base64 text, whitespace ignored. Hex when every non-blank character is a hex digit
// (binary evidence in base64 never is: quotes start "BAAC"/"BQAC", SNP reports "AgAA"/"AwAA"/
// "BQAA", each with a non-hex letter); otherwise base64, URL-safe when '-' or '_' appear,
// padding optional. Errors: the hex and base64 decoders' (with positions).
Result<DecodedText> DecodeEvidenceText(std::string_view text);

// A JSON array of byte values, as serde writes Vec<u8>. `platform` prefixes the reason:
// "<platform>.container.bad_byte_array".
Result<Bytes> JsonByteArray(const Json& array, const std::string& path, std::string_view platform);

// The bytes member `key` of `object` (found at JSON path `path`): a hex or base64 string
// (DecodeEvidenceText) or an array of byte values. With kKeepPem, a string starting
// "-----BEGIN" is returned as its text bytes (certificates travel as PEM). Errors name the
// member's path: json.missing_field, json.wrong_type, <platform>.container.bad_byte_array and
// the decoders' reasons.
enum class PemText { kDecode, kKeep };
Result<Bytes> JsonBytesMember(const Json& object, std::string_view key, std::string_view path,
                              std::string_view platform, PemText pem = PemText::kDecode);

}  // namespace lunal::attest
