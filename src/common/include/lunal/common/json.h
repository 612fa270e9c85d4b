// JSON helpers over nlohmann-json, with Status errors instead of exceptions.
//
// ParseJson is stricter than nlohmann's default: duplicate object keys are rejected (two parsers
// that keep different duplicates are a classic signature-bypass), nesting depth is bounded, and
// errors carry the byte offset. Field accessors produce messages that name the JSON path:
//   invalid_argument [json.wrong_type]: tcbInfo.tcbLevels[2].tcbStatus: expected string, got number
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "lunal/common/result.h"

namespace lunal {

using Json = nlohmann::json;

struct JsonParseOptions {
  std::size_t max_depth = 128;
  bool allow_duplicate_keys = false;
};

// Errors (kMalformed): json.syntax (with the byte offset), json.duplicate_key, json.too_deep.
Result<Json> ParseJson(std::string_view text, const JsonParseOptions& options = {});

// Canonical form: object keys sorted by byte order, no insignificant whitespace, UTF-8 output
// (strings with invalid UTF-8 are an error). This is the form hashed for build manifests and
// REPORT_DATA payloads (DESIGN.md "Binding formats"), so it must never change.
// Errors (kInvalidArgument): json.invalid_utf8; json.float_not_canonical for non-integer numbers,
// whose textual form differs between implementations.
Result<std::string> CanonicalJson(const Json& value);

// Compact text, byte for byte what nlohmann's dump(-1, ' ', false, error_handler_t::replace) writes
// (invalid UTF-8 becomes U+FFFD; never throws on strings), without its per-character cost on the
// printable-ASCII strings records are made of: the attestation service serialises a ~2 KB record
// per request. Values it has no fast path for (non-ASCII or escaped strings, floats, binary) go
// through nlohmann's own serializer.
std::string DumpJson(const Json& value);
void DumpJsonTo(const Json& value, std::string& out);

// Typed access to a member of `object`, which is found at `path` ("" for the root) so that errors
// name "path.key". Missing → kMalformed json.missing_field; wrong type → kMalformed
// json.wrong_type; `object` not an object → json.wrong_type.
Result<std::string> JsonString(const Json& object, std::string_view key,
                               std::string_view path = "");
Result<std::int64_t> JsonInt(const Json& object, std::string_view key, std::string_view path = "");
Result<std::uint64_t> JsonUint(const Json& object, std::string_view key,
                               std::string_view path = "");
Result<bool> JsonBool(const Json& object, std::string_view key, std::string_view path = "");
// Returned pointers point into `object`.
Result<const Json*> JsonObject(const Json& object, std::string_view key,
                               std::string_view path = "");
Result<const Json*> JsonArray(const Json& object, std::string_view key, std::string_view path = "");

// Optional variants: std::nullopt when the key is absent (or null); wrong type is still an error.
Result<std::optional<std::string>> JsonOptionalString(const Json& object, std::string_view key,
                                                      std::string_view path = "");

// "a.b" from ("a", "b"); "b" from ("", "b"); "a[3]" from ("a", 3).
std::string JsonPath(std::string_view path, std::string_view key);
std::string JsonPath(std::string_view path, std::size_t index);

// The JSON type name used in messages: "string", "number", "object", ...
std::string_view JsonTypeName(const Json& value);

}  // namespace lunal
