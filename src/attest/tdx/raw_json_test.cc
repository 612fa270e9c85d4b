#include "raw_json.h"

#include <gtest/gtest.h>

#include <string>

#include "lunal/common/json.h"
#include "test_collateral.h"

namespace lunal::attest::tdx::raw_json {
namespace {

using testing::CollateralFiles;
using testing::ReadCollateral;

TEST(RawJson, FindsExactBytesOfEachMember) {
  std::string text = " {\n  \"a\" :  {\"x\": [1, 2]} ,\t\"b\":\"s\"\r\n}\n";
  auto members = TopLevelMembers(text);
  ASSERT_TRUE(members.ok()) << members.error();
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0].key, "a");
  EXPECT_EQ((*members)[0].value, "{\"x\": [1, 2]}");
  EXPECT_EQ((*members)[0].value_offset, text.find("{\"x\""));
  EXPECT_EQ((*members)[1].key, "b");
  EXPECT_EQ((*members)[1].value, "\"s\"");
}

TEST(RawJson, BracesAndQuotesInsideStringsDoNotEndValues) {
  std::string text = R"({"a":{"k":"}{][\"","n":[{"q":"\\"}]},"b":2})";
  auto a = MemberValue(text, "a");
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(*a, R"({"k":"}{][\"","n":[{"q":"\\"}]})");
  auto b = MemberValue(text, "b");
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(*b, "2");
}

TEST(RawJson, EveryValueKind) {
  std::string text =
      R"({"t":true,"f":false,"n":null,"i":-0,"d":12.5e-3,"s":"\u00e9\n","o":{},"a":[]})";
  auto members = TopLevelMembers(text);
  ASSERT_TRUE(members.ok()) << members.error();
  std::vector<std::string> values;
  for (const Member& m : *members) values.emplace_back(m.value);
  EXPECT_EQ(values, (std::vector<std::string>{"true", "false", "null", "-0", "12.5e-3",
                                              R"("\u00e9\n")", "{}", "[]"}));
}

TEST(RawJson, KeysAreComparedUnescaped) {
  // Both parsers must agree on which member is "tcbInfo", however its name is spelled.
  auto v = MemberValue(R"({"tcb\u0049nfo":{"x":1}})", "tcbInfo");
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(*v, R"({"x":1})");
  auto members = TopLevelMembers(R"({"\ud83d\ude00\/\t":1})");
  ASSERT_TRUE(members.ok()) << members.error();
  EXPECT_EQ((*members)[0].key, "\xF0\x9F\x98\x80/\t");
}

TEST(RawJson, DuplicateTopLevelKeysAreRefused) {
  for (std::string_view text : {R"({"a":1,"a":2})", R"({"a":1,"\u0061":2})",
                                R"({"tcbInfo":{},"signature":"","tcbInfo":{}})"}) {
    auto r = TopLevelMembers(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().reason(), "tdx.raw_json.duplicate_key") << text;
  }
  // Nested duplicates are lunal::ParseJson's to refuse; the scanner only splits the top level.
  EXPECT_TRUE(TopLevelMembers(R"({"a":{"b":1,"b":2}})").ok());
}

TEST(RawJson, DepthIsBounded) {
  std::string deep = "{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}";
  auto r = TopLevelMembers(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "tdx.raw_json.too_deep");
  EXPECT_TRUE(TopLevelMembers(deep, 41).ok());
  EXPECT_FALSE(TopLevelMembers(deep, 40).ok());
  EXPECT_FALSE(TopLevelMembers("{}", 0).ok());
}

TEST(RawJson, SyntaxErrors) {
  const char* bad[] = {
      "",
      "   ",
      "[]",
      "\"s\"",
      "{",
      "{\"a\"}",
      "{\"a\":}",
      "{\"a\":1,}",
      "{\"a\":01}",
      "{\"a\":1} x",
      "{\"a\":1}}",
      "{\"a\":tru}",
      "{\"a\":nul}",
      "{\"a\":1.}",
      "{\"a\":-}",
      "{\"a\":1e}",
      "{\"a\":[1,]}",
      "{\"a\":[1 2]}",
      "{\"a\":{\"b\"1}}",
      "{\"a\":{1:2}}",
      "{\"a\":\"x}",
      "{\"a\":\"\\x\"}",
      "{\"a\":\"\\u12\"}",
      "{\"a\":\"\\ud800\"}",
      "{\"a\":\"\\udc00\"}",
      "{\"a\":\"\\ud800\\u0041\"}",
      "{a:1}",
      "{'a':1}",
      "{\"a\" 1}",
      "{\"a\":+1}",
      "{\"a\":.5}",
      "{\"a\":[}",
      "{\"a\":1]",
      "\x01{}",
  };
  for (const char* text : bad) {
    auto r = TopLevelMembers(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().reason(), "tdx.raw_json.syntax") << text;
  }
  // A raw control character inside a string.
  std::string control = "{\"a\":\"x\ny\"}";
  EXPECT_EQ(TopLevelMembers(control).error().reason(), "tdx.raw_json.syntax");
}

TEST(RawJson, MissingMember) {
  auto r = MemberValue(R"({"a":1})", "tcbInfo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "tdx.raw_json.missing_member");
}

// On every real collateral document the span the scanner finds is the text between the member
// name and the signature, and parses to what the full parser sees.
TEST(RawJson, AgreesWithTheParserOnEveryCollateralDocument) {
  int checked = 0;
  for (std::string_view prefix : {"tcb_info__", "qe_identity__"}) {
    std::string member = prefix == "tcb_info__" ? "tcbInfo" : "enclaveIdentity";
    for (const std::string& name : CollateralFiles(prefix)) {
      std::string text = ReadCollateral(name);
      auto span = MemberValue(text, member);
      ASSERT_TRUE(span.ok()) << name << ": " << span.error();
      std::string expect_prefix = "{\"" + member + "\":";
      ASSERT_TRUE(text.starts_with(expect_prefix)) << name;
      std::size_t sig = text.rfind(",\"signature\"");
      EXPECT_EQ(*span, text.substr(expect_prefix.size(), sig - expect_prefix.size())) << name;
      auto whole = ParseJson(text);
      auto part = ParseJson(*span);
      ASSERT_TRUE(whole.ok() && part.ok()) << name;
      EXPECT_EQ((*whole)[member], *part) << name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 24);
}

}  // namespace
}  // namespace lunal::attest::tdx::raw_json
