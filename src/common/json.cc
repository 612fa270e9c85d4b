#include "lunal/common/json.h"

// Boost.JSON, header-only: this file compiles its implementation (boost/json/src.hpp), once for
// the whole program, and the SAX parser template for our handler (basic_parser_impl.hpp).
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/src.hpp>
#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace lunal {
namespace {

// Builds an nlohmann DOM from Boost.JSON's SAX parser (RFC 8259; UTF-8 validated, no comments,
// no trailing commas). nlohmann's own lexer handles strings one character at a time and was the
// largest cost of the attestation service's request handling (~45 us for a 7 KB body); Boost's
// parser runs over the same body in under 1 us. The builder refuses duplicate keys and bounds
// depth, and keeps nlohmann's number typing: non-negative integers are unsigned, negative ones
// signed, anything else a double parsed from its exact text (std::from_chars, round-to-nearest).
class StrictBuilder {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  explicit StrictBuilder(const JsonParseOptions& options) : options_(options) {}

  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_object_begin(boost::json::error_code& ec) { return Open(Json::object(), ec); }
  bool on_object_end(std::size_t, boost::json::error_code&) { return Close(); }
  bool on_array_begin(boost::json::error_code& ec) { return Open(Json::array(), ec); }
  bool on_array_end(std::size_t, boost::json::error_code&) { return Close(); }

  bool on_key_part(std::string_view s, std::size_t, boost::json::error_code&) {
    key_.append(s);
    return true;
  }
  bool on_key(std::string_view s, std::size_t, boost::json::error_code& ec) {
    key_.append(s);
    if (!options_.allow_duplicate_keys && stack_.back()->contains(key_)) {
      error_ = Malformed("json.duplicate_key", "duplicate object key \"{}\"", key_);
      ec = boost::json::error::syntax;
      return false;
    }
    return true;
  }
  bool on_string_part(std::string_view s, std::size_t, boost::json::error_code&) {
    string_.append(s);
    return true;
  }
  bool on_string(std::string_view s, std::size_t, boost::json::error_code&) {
    string_.append(s);
    Insert(Json(std::move(string_)));
    string_.clear();
    return true;
  }
  bool on_number_part(std::string_view s, boost::json::error_code&) {
    number_.append(s);
    return true;
  }
  bool on_int64(std::int64_t v, std::string_view, boost::json::error_code&) {
    number_.clear();
    Insert(v >= 0 ? Json(static_cast<std::uint64_t>(v)) : Json(v));
    return true;
  }
  bool on_uint64(std::uint64_t v, std::string_view, boost::json::error_code&) {
    number_.clear();
    Insert(Json(v));
    return true;
  }
  bool on_double(double, std::string_view s, boost::json::error_code& ec) {
    number_.append(s);
    double value = 0;
    const char* first = number_.data();
    const char* last = first + number_.size();
    auto [end, err] = std::from_chars(first, last, value);
    number_.clear();
    if (err == std::errc::result_out_of_range) {
      error_ = Malformed("json.syntax", "number out of range");
      ec = boost::json::error::exponent_overflow;
      return false;
    }
    if (err != std::errc() || end != last) {
      ec = boost::json::error::syntax;
      return false;
    }
    Insert(Json(value));
    return true;
  }
  bool on_bool(bool v, boost::json::error_code&) {
    Insert(Json(v));
    return true;
  }
  bool on_null(boost::json::error_code&) {
    Insert(Json(nullptr));
    return true;
  }
  bool on_comment_part(std::string_view, boost::json::error_code&) { return true; }
  bool on_comment(std::string_view, boost::json::error_code&) { return true; }

  const Status& error() const { return error_; }
  Json TakeRoot() { return std::move(root_); }

 private:
  // Inserts a value into the current container (or as the root) and returns where it landed.
  Json* Insert(Json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    Json& slot = parent[key_];
    key_.clear();
    slot = std::move(value);
    return &slot;
  }
  bool Open(Json container, boost::json::error_code& ec) {
    if (stack_.size() >= options_.max_depth) {
      error_ = Malformed("json.too_deep", "JSON nesting deeper than {}", options_.max_depth);
      ec = boost::json::error::too_deep;
      return false;
    }
    stack_.push_back(Insert(std::move(container)));
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }

  const JsonParseOptions& options_;
  Json root_;
  std::vector<Json*> stack_;
  std::string key_;
  std::string string_;
  std::string number_;
  Status error_;
};

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

Status WrongType(const Json& value, std::string_view path, std::string_view expected) {
  return Malformed("json.wrong_type", "{}: expected {}, got {}", path.empty() ? "(root)" : path,
                   expected, JsonTypeName(value));
}

// Finds `key` in `object`; errors name the path.
Result<const Json*> Member(const Json& object, std::string_view key, std::string_view path) {
  if (!object.is_object()) return WrongType(object, path, "object");
  auto it = object.find(key);
  if (it == object.end()) {
    return Malformed("json.missing_field", "{}: required field is missing", JsonPath(path, key));
  }
  return &*it;
}

}  // namespace

Result<Json> ParseJson(std::string_view text, const JsonParseOptions& options) {
  boost::json::parse_options parse_options;
  // Depth is ours to bound (json.too_deep); Boost's own limit must not fire first.
  parse_options.max_depth = options.max_depth + 1;
  boost::json::basic_parser<StrictBuilder> parser(parse_options, options);
  // RFC 8259 §8.1: a parser MAY ignore a leading byte order mark; nlohmann did, so we do too.
  std::size_t start = 0;
  if (text.starts_with("\xEF\xBB\xBF")) start = 3;
  boost::json::error_code ec;
  const std::size_t consumed =
      start + parser.write_some(false, text.data() + start, text.size() - start, ec);
  if (!parser.handler().error().ok()) return parser.handler().error();
  if (ec) {
    // 1-based, as the position of the offending byte was always reported.
    return Malformed("json.syntax", "invalid JSON at byte {}: {}", consumed + 1, ec.message());
  }
  for (std::size_t i = consumed; i < text.size(); ++i) {
    if (!IsJsonSpace(text[i])) {
      return Malformed("json.syntax", "invalid JSON at byte {}: content after the value", i + 1);
    }
  }
  return parser.handler().TakeRoot();
}

namespace {

// Printable ASCII other than '"' and '\\' is written as is by every JSON serializer.
bool IsPlainJsonText(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e || u == '"' || u == '\\') return false;
  }
  return true;
}

void DumpNlohmann(const Json& value, std::string& out) {
  out.append(value.dump(-1, ' ', false, Json::error_handler_t::replace));
}

void DumpStringTo(const std::string& s, std::string& out) {
  if (!IsPlainJsonText(s)) return DumpNlohmann(Json(s), out);
  out.push_back('"');
  out.append(s);
  out.push_back('"');
}

template <class Int>
void DumpIntegerTo(Int value, std::string& out) {
  char buffer[24];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, static_cast<std::size_t>(end - buffer));
}

}  // namespace

void DumpJsonTo(const Json& value, std::string& out) {
  switch (value.type()) {
    case Json::value_t::null:
      out.append("null");
      return;
    case Json::value_t::boolean:
      out.append(value.get<bool>() ? "true" : "false");
      return;
    case Json::value_t::number_integer:
      return DumpIntegerTo(value.get<std::int64_t>(), out);
    case Json::value_t::number_unsigned:
      return DumpIntegerTo(value.get<std::uint64_t>(), out);
    case Json::value_t::string:
      return DumpStringTo(value.get_ref<const std::string&>(), out);
    case Json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.get_ref<const Json::object_t&>()) {
        if (!first) out.push_back(',');
        first = false;
        DumpStringTo(key, out);
        out.push_back(':');
        DumpJsonTo(member, out);
      }
      out.push_back('}');
      return;
    }
    case Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const Json& element : value.get_ref<const Json::array_t&>()) {
        if (!first) out.push_back(',');
        first = false;
        DumpJsonTo(element, out);
      }
      out.push_back(']');
      return;
    }
    default:  // number_float, binary, discarded
      return DumpNlohmann(value, out);
  }
}

std::string DumpJson(const Json& value) {
  std::string out;
  DumpJsonTo(value, out);
  return out;
}

Result<std::string> CanonicalJson(const Json& value) {
  // Reject floats: their shortest round-trip text is not standardised across implementations.
  std::vector<const Json*> pending = {&value};
  while (!pending.empty()) {
    const Json* v = pending.back();
    pending.pop_back();
    if (v->is_number_float()) {
      return InvalidArgument("json.float_not_canonical",
                             "canonical JSON holds only integers, found {}", v->dump());
    }
    if (v->is_structured()) {
      for (const auto& child : *v) pending.push_back(&child);
    }
  }
  try {
    // nlohmann::json keeps object keys in a std::map, i.e. sorted by byte order.
    return value.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::strict);
  } catch (const Json::type_error& e) {
    return InvalidArgument("json.invalid_utf8", "string is not valid UTF-8: {}", e.what());
  }
}

std::string JsonPath(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return fmt::format("{}.{}", path, key);
}

std::string JsonPath(std::string_view path, std::size_t index) {
  return fmt::format("{}[{}]", path, index);
}

std::string_view JsonTypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return "string";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::binary:
      return "binary";
    case Json::value_t::discarded:
      return "discarded";
  }
  return "unknown";
}

Result<std::string> JsonString(const Json& object, std::string_view key, std::string_view path) {
  LUNAL_ASSIGN_OR_RETURN(const Json* v, Member(object, key, path));
  if (!v->is_string()) return WrongType(*v, JsonPath(path, key), "string");
  return v->get<std::string>();
}

Result<std::int64_t> JsonInt(const Json& object, std::string_view key, std::string_view path) {
  LUNAL_ASSIGN_OR_RETURN(const Json* v, Member(object, key, path));
  if (v->is_number_integer() && !v->is_number_unsigned()) return v->get<std::int64_t>();
  if (v->is_number_unsigned()) {
    auto u = v->get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(u);
    return Malformed("json.out_of_range", "{}: {} does not fit a signed 64-bit integer",
                     JsonPath(path, key), u);
  }
  return WrongType(*v, JsonPath(path, key), "integer");
}

Result<std::uint64_t> JsonUint(const Json& object, std::string_view key, std::string_view path) {
  LUNAL_ASSIGN_OR_RETURN(const Json* v, Member(object, key, path));
  if (v->is_number_unsigned()) return v->get<std::uint64_t>();
  if (v->is_number_integer()) {
    return Malformed("json.out_of_range", "{}: {} is negative", JsonPath(path, key),
                     v->get<std::int64_t>());
  }
  return WrongType(*v, JsonPath(path, key), "non-negative integer");
}

Result<bool> JsonBool(const Json& object, std::string_view key, std::string_view path) {
  LUNAL_ASSIGN_OR_RETURN(const Json* v, Member(object, key, path));
  if (!v->is_boolean()) return WrongType(*v, JsonPath(path, key), "boolean");
  return v->get<bool>();
}

Result<const Json*> JsonObject(const Json& object, std::string_view key, std::string_view path) {
  LUNAL_ASSIGN_OR_RETURN(const Json* v, Member(object, key, path));
  if (!v->is_object()) return WrongType(*v, JsonPath(path, key), "object");
  return v;
}

Result<const Json*> JsonArray(const Json& object, std::string_view key, std::string_view path) {
  LUNAL_ASSIGN_OR_RETURN(const Json* v, Member(object, key, path));
  if (!v->is_array()) return WrongType(*v, JsonPath(path, key), "array");
  return v;
}

Result<std::optional<std::string>> JsonOptionalString(const Json& object, std::string_view key,
                                                      std::string_view path) {
  if (!object.is_object()) return WrongType(object, path, "object");
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return WrongType(*it, JsonPath(path, key), "string");
  return std::optional<std::string>(it->get<std::string>());
}

}  // namespace lunal
