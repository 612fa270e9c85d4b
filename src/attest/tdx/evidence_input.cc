// DecodeQuoteContainer: raw, hex, base64 and the JSON envelopes TDX quotes travel in. The JSON
// shapes were taken from real files in ../shared/evidence (see evidence_input.h for the list).
#include "lunal/attest/tdx/evidence_input.h"

#include <fmt/format.h>

#include <string>

#include "lunal/attest/evidence_text.h"
#include "lunal/attest/tdx/quote_layout.h"
#include "lunal/common/byte_reader.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"

namespace lunal::attest::tdx {
namespace {

Container ContainerOf(TextEncoding encoding) {
  return encoding == TextEncoding::kHex ? Container::kHex : Container::kBase64;
}

// A raw quote starts with its version, a little-endian u16 of 4 or 5.
bool LooksRaw(ByteSpan bytes) {
  ByteReader r(bytes);
  Result<std::uint16_t> version = r.U16Le("tdx.container.version");
  return version.ok() && (*version == layout::kVersion4 || *version == layout::kVersion5);
}

// The quote member `key` of `object` (found at `path`): a hex/base64 string or a byte array.
Result<Bytes> QuoteMember(const Json& object, std::string_view key, std::string_view path) {
  return JsonBytesMember(object, key, path, "tdx");
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
  const std::string_view text = TrimAsciiSpace(AsStringView(file_bytes));
  // 2. JSON envelopes.
  if (!text.empty() && text.front() == '{') return DecodeJson(text);
  if (text.empty()) return Malformed("tdx.container.empty", "the evidence is only whitespace");
  // 3. Binary that is not text: raw, and ParseQuote names what is wrong with its header.
  if (!IsText(text)) {
    return DecodedQuote{Bytes(file_bytes.begin(), file_bytes.end()), Container::kRaw};
  }
  // 4. Hex, then base64.
  Result<DecodedText> decoded = DecodeEvidenceText(text);
  if (decoded.ok()) return DecodedQuote{std::move(decoded->bytes), ContainerOf(decoded->encoding)};
  return Malformed("tdx.container.unrecognized",
                   "not a raw quote (does not start with version 4 or 5), not JSON (does not start "
                   "with '{{'), not hex or base64 ({})",
                   decoded.error().message());
}

}  // namespace lunal::attest::tdx
