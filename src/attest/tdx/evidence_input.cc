// DecodeQuoteContainer: raw, hex, base64 and the JSON envelopes TDX quotes travel in. The JSON
// shapes were taken from real files in ../shared/evidence (see evidence_input.h for the list).
#include "lunal/attest/tdx/evidence_input.h"

#include <fmt/format.h>

#include <string>

#include "lunal/attest/tdx/quote_layout.h"
#include "lunal/common/byte_reader.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"

namespace lunal::attest::tdx {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool IsTextByte(char c) { return IsSpace(c) || (c >= 0x20 && c < 0x7f); }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool AllOf(std::string_view text, bool (*pred)(char)) {
  for (char c : text) {
    if (!pred(c)) return false;
  }
  return true;
}

// A raw quote starts with its version, a little-endian u16 of 4 or 5.
bool LooksRaw(ByteSpan bytes) {
  ByteReader r(bytes);
  Result<std::uint16_t> version = r.U16Le("tdx.container.version");
  return version.ok() && (*version == layout::kVersion4 || *version == layout::kVersion5);
}

// Hex or base64 text (whitespace ignored). Hex when every non-blank character is a hex digit (a
// quote's base64 never is: it starts "BAACAIEA" or "BQACAIEA", and 'I' is not a hex digit);
// otherwise base64, URL-safe when '-' or '_' appear, standard otherwise, padding optional.
struct DecodedText {
  Bytes bytes;
  Container kind;
};
Result<DecodedText> DecodeText(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (!IsSpace(c)) compact.push_back(c);
  }
  if (!compact.empty() && AllOf(compact, IsHexDigit)) {
    LUNAL_ASSIGN_OR_RETURN(Bytes bytes, HexDecode(compact));
    return DecodedText{std::move(bytes), Container::kHex};
  }
  const bool url = compact.find_first_of("-_") != std::string::npos;
  Base64DecodeOptions options{
      .alphabet = url ? Base64Alphabet::kUrl : Base64Alphabet::kStandard,
      .padding = Base64DecodeOptions::Padding::kOptional,
      .ignore_whitespace = true,
  };
  LUNAL_ASSIGN_OR_RETURN(Bytes bytes, Base64Decode(text, options));
  return DecodedText{std::move(bytes), Container::kBase64};
}

// A JSON array of byte values, as serde writes Vec<u8> (trustee's az-tdx-vtpm evidence v0).
Result<Bytes> ByteArray(const Json& array, const std::string& path) {
  Bytes out;
  out.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    const Json& v = array[i];
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 0xff) {
      return Malformed("tdx.container.bad_byte_array", "{}: expected a byte value 0..255, got {}",
                       JsonPath(path, i), v.dump());
    }
    out.push_back(static_cast<std::uint8_t>(v.get<std::uint64_t>()));
  }
  return out;
}

// The quote member `key` of `object` (found at `path`): a hex/base64 string or a byte array.
Result<Bytes> QuoteMember(const Json& object, std::string_view key, std::string_view path) {
  const std::string member_path = JsonPath(path, key);
  const auto it = object.find(key);
  if (it == object.end()) {
    return Malformed("json.missing_field", "{}: missing (the TD quote)", member_path);
  }
  if (it->is_array()) return ByteArray(*it, member_path);
  if (!it->is_string()) {
    return Malformed("json.wrong_type", "{}: expected a string or an array of bytes, got {}",
                     member_path, JsonTypeName(*it));
  }
  Result<DecodedText> decoded = DecodeText(it->get_ref<const std::string&>());
  if (!decoded.ok()) return decoded.error().WithContext(member_path + ": ");
  return std::move(decoded->bytes);
}

Status WrongPlatform(std::string_view path, std::string_view platform) {
  return Unsupported("tdx.container.wrong_platform",
                     "{}: evidence for platform \"{}\" holds no TDX quote", path, platform);
}

// lunal-dev/attestation-rs AttestationEvidence: {"platform": …, "evidence": {…}}.
Result<DecodedQuote> AttestationRsEnvelope(const Json& doc) {
  LUNAL_ASSIGN_OR_RETURN(std::string platform, JsonString(doc, "platform"));
  LUNAL_ASSIGN_OR_RETURN(const Json* evidence, JsonObject(doc, "evidence"));
  if (platform == "tdx" || platform == "gcp-tdx") {
    LUNAL_ASSIGN_OR_RETURN(Bytes quote, QuoteMember(*evidence, "quote", "evidence"));
    return DecodedQuote{std::move(quote), Container::kAttestationRsTdx};
  }
  if (platform == "az-tdx") {
    LUNAL_ASSIGN_OR_RETURN(Bytes quote, QuoteMember(*evidence, "td_quote", "evidence"));
    return DecodedQuote{std::move(quote), Container::kAttestationRsAzTdx};
  }
  return WrongPlatform("platform", platform);
}

Result<DecodedQuote> DecodeJson(std::string_view text) {
  Result<Json> parsed = ParseJson(text);
  if (!parsed.ok()) return parsed.error().WithContext("JSON evidence: ");
  const Json& doc = *parsed;
  if (!doc.is_object()) {
    return Malformed("tdx.container.unrecognized", "JSON evidence: expected an object, got {}",
                     JsonTypeName(doc));
  }
  if (doc.contains("evidence")) return AttestationRsEnvelope(doc);
  if (doc.contains("platform")) {
    LUNAL_ASSIGN_OR_RETURN(std::string platform, JsonString(doc, "platform"));
    if (platform != "tdx") return WrongPlatform("platform", platform);
    LUNAL_ASSIGN_OR_RETURN(Bytes quote, QuoteMember(doc, "quote", ""));
    return DecodedQuote{std::move(quote), Container::kLunalEnvelope};
  }
  if (doc.contains("td_quote")) {
    LUNAL_ASSIGN_OR_RETURN(Bytes quote, QuoteMember(doc, "td_quote", ""));
    return DecodedQuote{std::move(quote), Container::kAzureTdxVtpm};
  }
  if (doc.contains("quote")) {
    LUNAL_ASSIGN_OR_RETURN(Bytes quote, QuoteMember(doc, "quote", ""));
    return DecodedQuote{std::move(quote), Container::kQuoteJson};
  }
  return Malformed("tdx.container.unrecognized",
                   "JSON evidence: an object with none of the members \"evidence\", \"platform\", "
                   "\"td_quote\" or \"quote\"");
}

}  // namespace

std::string_view ContainerName(Container container) {
  switch (container) {
    case Container::kRaw:
      return "raw";
    case Container::kHex:
      return "hex";
    case Container::kBase64:
      return "base64";
    case Container::kLunalEnvelope:
      return "lunal-envelope";
    case Container::kAttestationRsTdx:
      return "attestation-rs-tdx";
    case Container::kAttestationRsAzTdx:
      return "attestation-rs-az-tdx";
    case Container::kAzureTdxVtpm:
      return "azure-tdx-vtpm";
    case Container::kQuoteJson:
      return "quote-json";
  }
  return "unknown";
}

Result<DecodedQuote> DecodeQuoteContainer(ByteSpan file_bytes) {
  if (file_bytes.empty()) return Malformed("tdx.container.empty", "the evidence is empty");
  // 1. Raw: starts with a quote version.
  if (LooksRaw(file_bytes)) {
    return DecodedQuote{Bytes(file_bytes.begin(), file_bytes.end()), Container::kRaw};
  }
  const std::string_view text = Trim(AsStringView(file_bytes));
  // 2. JSON envelopes.
  if (!text.empty() && text.front() == '{') return DecodeJson(text);
  if (text.empty()) return Malformed("tdx.container.empty", "the evidence is only whitespace");
  // 3. Binary that is not text: raw, and ParseQuote names what is wrong with its header.
  if (!AllOf(text, IsTextByte)) {
    return DecodedQuote{Bytes(file_bytes.begin(), file_bytes.end()), Container::kRaw};
  }
  // 4. Hex, then base64.
  Result<DecodedText> decoded = DecodeText(text);
  if (decoded.ok()) return DecodedQuote{std::move(decoded->bytes), decoded->kind};
  return Malformed("tdx.container.unrecognized",
                   "not a raw quote (does not start with version 4 or 5), not JSON (does not start "
                   "with '{{'), not hex or base64 ({})",
                   decoded.error().message());
}

}  // namespace lunal::attest::tdx
