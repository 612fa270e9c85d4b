#include "lunal/common/json.h"

#include <gtest/gtest.h>

#include <string>

namespace lunal {
namespace {

TEST(ParseJsonTest, ParsesDocument) {
  auto j = ParseJson(R"({"a": [1, 2, {"b": null}], "c": "d", "e": true, "f": -3, "g": 1.5})");
  ASSERT_TRUE(j.ok()) << j.error();
  EXPECT_EQ((*j)["a"][2].contains("b"), true);
  EXPECT_EQ((*j)["c"], "d");
  EXPECT_EQ((*j)["f"], -3);
  EXPECT_EQ((*j)["g"], 1.5);
}

TEST(ParseJsonTest, ScalarsAtRoot) {
  EXPECT_EQ(*ParseJson("42"), 42);
  EXPECT_EQ(*ParseJson("\"s\""), "s");
  EXPECT_TRUE(ParseJson("null")->is_null());
}

TEST(ParseJsonTest, SyntaxErrorsCarryByteOffset) {
  auto j = ParseJson(R"({"a": 1,})");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().code(), Code::kMalformed);
  EXPECT_EQ(j.error().reason(), "json.syntax");
  EXPECT_NE(j.error().message().find("at byte 9"), std::string::npos) << j.error();
}

TEST(ParseJsonTest, RejectsTrailingContentAndEmptyInput) {
  EXPECT_EQ(ParseJson(R"({"a":1} x)").error().reason(), "json.syntax");
  EXPECT_EQ(ParseJson("").error().reason(), "json.syntax");
  EXPECT_EQ(ParseJson("{} {}").error().reason(), "json.syntax");
}

TEST(ParseJsonTest, RejectsDuplicateKeysAtAnyDepth) {
  auto top = ParseJson(R"({"status":"UpToDate","status":"Revoked"})");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.error().reason(), "json.duplicate_key");
  EXPECT_EQ(top.error().message(), "duplicate object key \"status\"");
  EXPECT_EQ(ParseJson(R"({"a":[{"x":1,"y":2,"x":3}]})").error().reason(), "json.duplicate_key");
  // The same key in sibling objects is fine.
  EXPECT_TRUE(ParseJson(R"([{"x":1},{"x":2}])").ok());
  EXPECT_TRUE(ParseJson(R"({"a":1,"a":2})", {.allow_duplicate_keys = true}).ok());
}

TEST(ParseJsonTest, BoundsDepth) {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  EXPECT_EQ(ParseJson(deep).error().reason(), "json.too_deep");
  std::string ok(100, '[');
  ok += std::string(100, ']');
  EXPECT_TRUE(ParseJson(ok).ok());
}

TEST(ParseJsonTest, RejectsInvalidUtf8) {
  EXPECT_EQ(ParseJson("\"\xff\"").error().reason(), "json.syntax");
}

TEST(CanonicalJsonTest, SortedKeysNoWhitespace) {
  auto j = ParseJson(R"({ "b": 1, "a": {"d": [1, 2], "c": "x"}, "A": true })");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(*CanonicalJson(*j), R"({"A":true,"a":{"c":"x","d":[1,2]},"b":1})");
}

TEST(CanonicalJsonTest, KeepsUtf8AndEscapesControlCharacters) {
  Json j = {{"k", "caf\xc3\xa9\n"}};
  EXPECT_EQ(*CanonicalJson(j), "{\"k\":\"caf\xc3\xa9\\n\"}");
}

TEST(CanonicalJsonTest, RejectsFloatsAndInvalidUtf8) {
  EXPECT_EQ(CanonicalJson(Json{{"x", {1, 2.5}}}).error().reason(), "json.float_not_canonical");
  EXPECT_EQ(CanonicalJson(Json("\xff")).error().reason(), "json.invalid_utf8");
}

TEST(JsonFieldTest, TypedAccessNamesThePath) {
  auto doc = ParseJson(R"({"tcbInfo":{"version":3,"id":"TDX","neg":-1,"big":18446744073709551615,
                          "levels":[{"s":1}],"flag":false}})");
  ASSERT_TRUE(doc.ok());
  const Json* info = *JsonObject(*doc, "tcbInfo");
  EXPECT_EQ(*JsonInt(*info, "version", "tcbInfo"), 3);
  EXPECT_EQ(*JsonUint(*info, "version", "tcbInfo"), 3u);
  EXPECT_EQ(*JsonString(*info, "id", "tcbInfo"), "TDX");
  EXPECT_EQ(*JsonBool(*info, "flag", "tcbInfo"), false);
  EXPECT_EQ((*JsonArray(*info, "levels", "tcbInfo"))->size(), 1u);

  auto wrong = JsonString(*info, "version", "tcbInfo");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().reason(), "json.wrong_type");
  EXPECT_EQ(wrong.error().message(), "tcbInfo.version: expected string, got number");

  auto missing = JsonString(*info, "fmspc", "tcbInfo");
  EXPECT_EQ(missing.error().reason(), "json.missing_field");
  EXPECT_EQ(missing.error().message(), "tcbInfo.fmspc: required field is missing");

  EXPECT_EQ(JsonUint(*info, "neg", "tcbInfo").error().reason(), "json.out_of_range");
  EXPECT_EQ(JsonInt(*info, "big", "tcbInfo").error().reason(), "json.out_of_range");
  EXPECT_EQ(JsonObject(Json::array(), "x").error().reason(), "json.wrong_type");
}

TEST(JsonFieldTest, OptionalString) {
  Json j = {{"a", "x"}, {"n", nullptr}, {"i", 1}};
  EXPECT_EQ(**JsonOptionalString(j, "a"), "x");
  EXPECT_FALSE(JsonOptionalString(j, "n")->has_value());
  EXPECT_FALSE(JsonOptionalString(j, "absent")->has_value());
  EXPECT_EQ(JsonOptionalString(j, "i").error().reason(), "json.wrong_type");
}

TEST(JsonFieldTest, Paths) {
  EXPECT_EQ(JsonPath("", "a"), "a");
  EXPECT_EQ(JsonPath("a", "b"), "a.b");
  EXPECT_EQ(JsonPath("a.b", 3), "a.b[3]");
}

}  // namespace
}  // namespace lunal
