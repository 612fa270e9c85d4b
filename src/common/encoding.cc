#include "lunal/common/encoding.h"

#include <array>
#include <cctype>

namespace lunal {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A printable rendering of one input character for error messages.
std::string Printable(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("0x{:02x}", u);
}

constexpr std::string_view kStandardAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Reverse tables: 0..63 for alphabet characters, -1 otherwise.
constexpr std::array<std::int8_t, 256> MakeReverse(std::string_view alphabet) {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}
constexpr auto kStandardReverse = MakeReverse(kStandardAlphabet);
constexpr auto kUrlReverse = MakeReverse(kUrlAlphabet);

bool IsBase64Whitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::string HexEncode(ByteSpan bytes) {
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0x0f];
  }
  return out;
}

Result<Bytes> HexDecode(std::string_view text) {
  Bytes out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (HexValue(text[i]) < 0) {
      return Malformed("hex.invalid_character", "invalid hex character {} at position {}",
                       Printable(text[i]), i);
    }
  }
  if (text.size() % 2 != 0) {
    return Malformed("hex.odd_length", "hex string has odd length {}", text.size());
  }
  for (std::size_t i = 0; i < text.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>((HexValue(text[i]) << 4) | HexValue(text[i + 1])));
  }
  return out;
}

std::string Base64Encode(ByteSpan bytes, Base64Alphabet alphabet, bool pad) {
  std::string_view table = alphabet == Base64Alphabet::kUrl ? kUrlAlphabet : kStandardAlphabet;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) |
                      std::uint32_t{bytes[i + 2]};
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += table[v & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

Result<Bytes> Base64Decode(std::string_view text, const Base64DecodeOptions& options) {
  const auto& reverse = options.alphabet == Base64Alphabet::kUrl ? kUrlReverse : kStandardReverse;
  using Padding = Base64DecodeOptions::Padding;

  Bytes out(text.size() / 4 * 3 + 3);
  std::size_t written = 0;
  std::uint32_t accumulator = 0;
  int bits = 0;             // bits held in accumulator
  std::size_t symbols = 0;  // alphabet characters seen
  std::size_t padding = 0;  // '=' characters seen
  std::size_t last_symbol_pos = 0;
  std::size_t pos = 0;
  // Fast path: whole groups of four alphabet characters, three bytes each. It stops before the
  // last eight characters (where padding may be) and at the first group holding anything else
  // (whitespace, '=', an invalid character); the careful loop below then continues from that
  // group in exactly the state it would have reached itself (no bits pending).
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  while (pos + 8 <= text.size()) {
    const int a = reverse[p[pos]], b = reverse[p[pos + 1]], c = reverse[p[pos + 2]],
              d = reverse[p[pos + 3]];
    if ((a | b | c | d) < 0) break;
    const auto v = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
    out[written++] = static_cast<std::uint8_t>(v >> 16);
    out[written++] = static_cast<std::uint8_t>(v >> 8);
    out[written++] = static_cast<std::uint8_t>(v);
    pos += 4;
    symbols += 4;
    last_symbol_pos = pos - 1;
  }
  for (; pos < text.size(); ++pos) {
    char c = text[pos];
    if (options.ignore_whitespace && IsBase64Whitespace(c)) continue;
    if (c == '=') {
      if (options.padding == Padding::kForbidden) {
        return Malformed("base64.bad_padding", "padding '=' at position {} is not allowed", pos);
      }
      ++padding;
      continue;
    }
    int v = reverse[static_cast<unsigned char>(c)];
    if (v < 0) {
      return Malformed("base64.invalid_character", "invalid base64 character {} at position {}",
                       Printable(c), pos);
    }
    if (padding > 0) {
      return Malformed("base64.bad_padding", "data after padding at position {}", pos);
    }
    accumulator = (accumulator << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    ++symbols;
    last_symbol_pos = pos;
    if (bits >= 8) {
      bits -= 8;
      out[written++] = static_cast<std::uint8_t>((accumulator >> bits) & 0xff);
      accumulator &= (1u << bits) - 1;
    }
  }
  out.resize(written);
  std::size_t tail = symbols % 4;
  if (tail == 1) {
    return Malformed("base64.bad_length",
                     "{} base64 characters: a final group of one character is impossible", symbols);
  }
  std::size_t expected_padding = tail == 0 ? 0 : 4 - tail;
  if (padding != 0 && padding != expected_padding) {
    return Malformed("base64.bad_padding", "expected {} padding characters, found {}",
                     expected_padding, padding);
  }
  if (options.padding == Padding::kRequired && padding != expected_padding) {
    return Malformed("base64.bad_padding", "missing {} padding character(s) at the end",
                     expected_padding - padding);
  }
  // RFC 4648 §3.5: the unused low bits of the last character must be zero, so that every byte
  // string has exactly one encoding (no malleable encodings of signed data).
  if (bits > 0 && accumulator != 0) {
    return Malformed("base64.non_canonical",
                     "non-zero unused bits in the last base64 character at position {}",
                     last_symbol_pos);
  }
  return out;
}

}  // namespace lunal
