// The exact bytes of a top-level member's value in a JSON text, as served.
//
// Intel signs the bytes of the `tcbInfo` / `enclaveIdentity` value exactly as its PCS serves them
// (Intel PCS API v4, "Get TDX TCB Information" and "Get TD QE Identity": "signature … calculated
// over tcbInfo / enclaveIdentity body"), so a verifier must find that byte span in the original
// text: re-serializing a parsed document would change whitespace, key order or number spelling
// and break (or, worse, bypass) the signature. This scanner walks the JSON grammar (RFC 8259 §2-7)
// once, validating as it goes, and records where each top-level member's value starts and ends.
//
// It is deliberately small: the full document is also parsed by lunal::ParseJson, and callers
// parse the fields they use FROM the returned span, so what is checked is what was signed.
//
// Errors (kMalformed, stable reasons):
//   tdx.raw_json.syntax          not JSON, or the top-level value is not an object (with offset)
//   tdx.raw_json.too_deep        nesting deeper than max_depth
//   tdx.raw_json.duplicate_key   a top-level key appears twice (after unescaping)
//   tdx.raw_json.missing_member  MemberValue: no such top-level key
// Thread-safe (no state); returned views borrow `text`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/result.h"

namespace lunal::attest::tdx::raw_json {

struct Member {
  std::string key;           // unescaped (RFC 8259 §7), UTF-8
  std::string_view value;    // the value's exact bytes, no surrounding whitespace
  std::size_t value_offset;  // where `value` starts in the text
};

inline constexpr std::size_t kDefaultMaxDepth = 32;

// Every member of the top-level object, in document order. Whitespace may surround the object;
// anything else before or after it is a syntax error.
Result<std::vector<Member>> TopLevelMembers(std::string_view text,
                                            std::size_t max_depth = kDefaultMaxDepth);

// The exact bytes of the value of top-level member `key`.
Result<std::string_view> MemberValue(std::string_view text, std::string_view key,
                                     std::size_t max_depth = kDefaultMaxDepth);

}  // namespace lunal::attest::tdx::raw_json
