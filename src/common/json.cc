#include "lunal/common/json.h"

#include <vector>

namespace lunal {
namespace {

// Builds a DOM through nlohmann's SAX interface so we can refuse duplicate keys and bound depth,
// which the DOM parser cannot do.
class StrictBuilder final : public nlohmann::json_sax<Json> {
 public:
  explicit StrictBuilder(const JsonParseOptions& options) : options_(options) {}

  bool null() override { return Put(Json(nullptr)); }
  bool boolean(bool v) override { return Put(Json(v)); }
  bool number_integer(number_integer_t v) override { return Put(Json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Put(Json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return Put(Json(v)); }
  bool string(string_t& v) override { return Put(Json(std::move(v))); }
  bool binary(binary_t& v) override { return Put(Json::binary(std::move(v))); }

  bool start_object(std::size_t) override { return Open(Json::object()); }
  bool start_array(std::size_t) override { return Open(Json::array()); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }

  bool key(string_t& k) override {
    Json& object = *stack_.back();
    if (!options_.allow_duplicate_keys && object.contains(k)) {
      error_ = Malformed("json.duplicate_key", "duplicate object key \"{}\"", k);
      return false;
    }
    key_ = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    // nlohmann's message includes the position and what it expected; it describes the input,
    // not our internals, so it is safe to show.
    error_ = Malformed("json.syntax", "invalid JSON at byte {}: {}", position, ex.what());
    return false;
  }

  Result<Json> Take() {
    if (!error_.ok()) return error_;
    return std::move(root_);
  }
  void SetError(Status s) {
    if (error_.ok()) error_ = std::move(s);
  }

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
    slot = std::move(value);
    return &slot;
  }
  bool Put(Json value) {
    Insert(std::move(value));
    return true;
  }
  bool Open(Json container) {
    if (stack_.size() >= options_.max_depth) {
      error_ = Malformed("json.too_deep", "JSON nesting deeper than {}", options_.max_depth);
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
  Status error_;
};

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
  StrictBuilder builder(options);
  // sax_parse reports syntax errors through parse_error; with strict=true it also rejects
  // trailing content after the value.
  try {
    Json::sax_parse(text.begin(), text.end(), &builder, nlohmann::json::input_format_t::json,
                    /*strict=*/true);
  } catch (const std::exception& e) {  // defensive: the SAX interface reports, not throws
    builder.SetError(Malformed("json.syntax", "invalid JSON: {}", e.what()));
  }
  return builder.Take();
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
