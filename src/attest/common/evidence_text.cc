#include "lunal/attest/evidence_text.h"

#include <algorithm>

#include "lunal/common/encoding.h"

namespace lunal::attest {

bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimAsciiSpace(std::string_view text) {
  while (!text.empty() && IsAsciiSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsAsciiSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool IsText(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return IsAsciiSpace(c) || (c >= 0x20 && c < 0x7f); });
}

Result<DecodedText> DecodeEvidenceText(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (!IsAsciiSpace(c)) compact.push_back(c);
  }
  auto is_hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  if (!compact.empty() && std::all_of(compact.begin(), compact.end(), is_hex)) {
    LUNAL_ASSIGN_OR_RETURN(Bytes bytes, HexDecode(compact));
    return DecodedText{std::move(bytes), TextEncoding::kHex};
  }
  const bool url = compact.find_first_of("-_") != std::string::npos;
  Base64DecodeOptions options{
      .alphabet = url ? Base64Alphabet::kUrl : Base64Alphabet::kStandard,
      .padding = Base64DecodeOptions::Padding::kOptional,
      .ignore_whitespace = true,
  };
  LUNAL_ASSIGN_OR_RETURN(Bytes bytes, Base64Decode(text, options));
  return DecodedText{std::move(bytes), TextEncoding::kBase64};
}

Result<Bytes> JsonByteArray(const Json& array, const std::string& path, std::string_view platform) {
  Bytes out;
  out.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    const Json& v = array[i];
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 0xff) {
      return Malformed(fmt::format("{}.container.bad_byte_array", platform),
                       "{}: expected a byte value 0..255, got {}", JsonPath(path, i), v.dump());
    }
    out.push_back(static_cast<std::uint8_t>(v.get<std::uint64_t>()));
  }
  return out;
}

Result<Bytes> JsonBytesMember(const Json& object, std::string_view key, std::string_view path,
                              std::string_view platform, PemText pem) {
  const std::string member_path = JsonPath(path, key);
  const auto it = object.find(key);
  if (it == object.end()) return Malformed("json.missing_field", "{}: missing", member_path);
  if (it->is_array()) return JsonByteArray(*it, member_path, platform);
  if (!it->is_string()) {
    return Malformed("json.wrong_type", "{}: expected a string or an array of bytes, got {}",
                     member_path, JsonTypeName(*it));
  }
  const std::string& text = it->get_ref<const std::string&>();
  if (pem == PemText::kKeep && TrimAsciiSpace(text).starts_with("-----BEGIN")) {
    return ToBytes(text);
  }
  Result<DecodedText> decoded = DecodeEvidenceText(text);
  if (!decoded.ok()) return decoded.error().WithContext(member_path + ": ");
  return std::move(decoded->bytes);
}

}  // namespace lunal::attest
