#include "raw_json.h"

#include <cstdint>
#include <utility>

namespace lunal::attest::tdx::raw_json {
namespace {

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }  // RFC 8259 §2

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  auto put = [&](std::uint32_t b) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(b)));
  };
  if (cp < 0x80) {
    put(cp);
  } else if (cp < 0x800) {
    put(0xC0 | (cp >> 6));
    put(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    put(0xE0 | (cp >> 12));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  } else {
    put(0xF0 | (cp >> 18));
    put(0x80 | ((cp >> 12) & 0x3F));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  }
}

// A recursive-descent walk of RFC 8259's grammar with a depth bound. Positions only move
// forward; every read checks `pos_ < text_.size()` first.
class Scanner {
 public:
  Scanner(std::string_view text, std::size_t max_depth) : text_(text), max_depth_(max_depth) {}

  Result<std::vector<Member>> TopLevel() {
    SkipWs();
    if (!Peek('{')) return Syntax("expected '{' (the top-level value must be an object)");
    if (max_depth_ < 1) return TooDeep();
    ++pos_;
    std::vector<Member> members;
    SkipWs();
    if (Peek('}')) {
      ++pos_;
    } else {
      while (true) {
        LUNAL_RETURN_IF_ERROR(TopLevelMember(members));
        SkipWs();
        if (Peek(',')) {
          ++pos_;
          continue;
        }
        if (Peek('}')) {
          ++pos_;
          break;
        }
        return Syntax("expected ',' or '}' after an object member");
      }
    }
    SkipWs();
    if (pos_ != text_.size()) return Syntax("unexpected data after the top-level object");
    return members;
  }

 private:
  Status TopLevelMember(std::vector<Member>& members) {
    SkipWs();
    std::size_t key_at = pos_;
    LUNAL_ASSIGN_OR_RETURN(std::string key, String(/*decode=*/true));
    for (const Member& m : members) {
      if (m.key == key) {
        return Malformed("tdx.raw_json.duplicate_key", "duplicate top-level key \"{}\" at byte {}",
                         key, key_at);
      }
    }
    SkipWs();
    if (!Peek(':')) return Syntax("expected ':' after an object key");
    ++pos_;
    SkipWs();
    std::size_t start = pos_;
    LUNAL_RETURN_IF_ERROR(Value(1));
    members.push_back({std::move(key), text_.substr(start, pos_ - start), start});
    return Status::Ok();
  }

  Status Value(std::size_t depth) {
    if (pos_ >= text_.size()) return Syntax("expected a value");
    switch (text_[pos_]) {
      case '{':
        return Container(depth, '}');
      case '[':
        return Container(depth, ']');
      case '"':
        return String(/*decode=*/false).status();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }

  // An object (close == '}') or an array (close == ']') starting at pos_.
  Status Container(std::size_t depth, char close) {
    if (depth + 1 > max_depth_) return TooDeep();
    ++pos_;
    SkipWs();
    if (Peek(close)) {
      ++pos_;
      return Status::Ok();
    }
    while (true) {
      SkipWs();
      if (close == '}') {
        LUNAL_RETURN_IF_ERROR(String(/*decode=*/false).status());
        SkipWs();
        if (!Peek(':')) return Syntax("expected ':' after an object key");
        ++pos_;
        SkipWs();
      }
      LUNAL_RETURN_IF_ERROR(Value(depth + 1));
      SkipWs();
      if (Peek(',')) {
        ++pos_;
        continue;
      }
      if (Peek(close)) {
        ++pos_;
        return Status::Ok();
      }
      return Syntax(close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }

  // A string starting at pos_ (RFC 8259 §7); its unescaped contents when `decode`.
  Result<std::string> String(bool decode) {
    if (!Peek('"')) return Syntax("expected a string");
    ++pos_;
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) return Syntax("unterminated string");
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) return Syntax("control character in a string");
      if (c != '\\') {
        if (decode) out.push_back(c);
        ++pos_;
        continue;
      }
      LUNAL_RETURN_IF_ERROR(Escape(decode ? &out : nullptr));
    }
  }

  // One escape sequence starting at the backslash at pos_.
  Status Escape(std::string* out) {
    if (pos_ + 1 >= text_.size()) return Syntax("unterminated escape");
    char e = text_[pos_ + 1];
    static constexpr std::string_view kSimple = "\"\\/bfnrt";
    static constexpr std::string_view kDecoded = "\"\\/\b\f\n\r\t";
    if (std::size_t i = kSimple.find(e); i != std::string_view::npos) {
      if (out != nullptr) out->push_back(kDecoded[i]);
      pos_ += 2;
      return Status::Ok();
    }
    if (e != 'u') return Syntax("invalid escape");
    LUNAL_ASSIGN_OR_RETURN(std::uint32_t cp, Hex4(pos_ + 2));
    pos_ += 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return Syntax("unpaired low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (pos_ + 1 >= text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') {
        return Syntax("unpaired high surrogate");
      }
      LUNAL_ASSIGN_OR_RETURN(std::uint32_t low, Hex4(pos_ + 2));
      if (low < 0xDC00 || low > 0xDFFF) return Syntax("unpaired high surrogate");
      pos_ += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (out != nullptr) AppendUtf8(*out, cp);
    return Status::Ok();
  }

  Result<std::uint32_t> Hex4(std::size_t at) {
    if (at > text_.size() || text_.size() - at < 4) return Syntax("truncated \\u escape");
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      int d = HexDigit(text_[at + i]);
      if (d < 0) return Syntax("invalid \\u escape");
      v = (v << 4) | static_cast<std::uint32_t>(d);
    }
    return v;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?   (RFC 8259 §6)
  Status Number() {
    if (Peek('-')) ++pos_;
    if (Peek('0')) {
      ++pos_;
    } else if (Digits() == 0) {
      return Syntax("expected a value");
    }
    if (Peek('.')) {
      ++pos_;
      if (Digits() == 0) return Syntax("expected digits after '.'");
    }
    if (Peek('e') || Peek('E')) {
      ++pos_;
      if (Peek('+') || Peek('-')) ++pos_;
      if (Digits() == 0) return Syntax("expected exponent digits");
    }
    return Status::Ok();
  }

  std::size_t Digits() {
    std::size_t n = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      ++pos_;
      ++n;
    }
    return n;
  }

  Status Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return Syntax("invalid literal");
    pos_ += word.size();
    return Status::Ok();
  }

  bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  void SkipWs() {
    while (pos_ < text_.size() && IsWs(text_[pos_])) ++pos_;
  }
  Status Syntax(std::string_view what) const {
    return Malformed("tdx.raw_json.syntax", "{} at byte {}", what, pos_);
  }
  Status TooDeep() const {
    return Malformed("tdx.raw_json.too_deep", "JSON nesting deeper than {} at byte {}", max_depth_,
                     pos_);
  }

  std::string_view text_;
  std::size_t max_depth_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<std::vector<Member>> TopLevelMembers(std::string_view text, std::size_t max_depth) {
  return Scanner(text, max_depth).TopLevel();
}

Result<std::string_view> MemberValue(std::string_view text, std::string_view key,
                                     std::size_t max_depth) {
  LUNAL_ASSIGN_OR_RETURN(std::vector<Member> members, TopLevelMembers(text, max_depth));
  for (const Member& m : members) {
    if (m.key == key) return m.value;
  }
  return Malformed("tdx.raw_json.missing_member", "no top-level member \"{}\"", key);
}

}  // namespace lunal::attest::tdx::raw_json
