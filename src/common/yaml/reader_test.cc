// Reader: reason prefixes, positions, the collecting mode and the strict scalars.
#include "lunal/yaml/reader.h"

#include <gtest/gtest.h>

#include <array>

namespace lunal::yaml {
namespace {

constexpr std::array<std::string_view, 3> kKnown = {"name", "count", "enabled"};

TEST(YamlReaderTest, FirstErrorStopsByDefault) {
  Reader r("doc.yaml", "demo");
  auto root = r.Load("nmae: x\ncount: many\n");
  ASSERT_TRUE(root.ok());
  Status s = r.ForEachEntry(
      *root, "", kKnown,
      [](std::string_view, const YAML::Node&, const std::string&) { return Status(); });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.reason(), "demo.unknown_key");
  EXPECT_EQ(
      s.message().rfind("doc.yaml:1:1: nmae: unknown key \"nmae\" (did you mean \"name\"?)", 0), 0u)
      << s.message();
}

TEST(YamlReaderTest, CollectingReportsEveryErrorWithItsParts) {
  Reader r("doc.yaml", "demo");
  std::vector<Diagnostic> errors;
  r.CollectErrors(&errors);
  auto root = r.Load("nmae: x\ncount: many\nenabled: yes\ncount: 2\n");
  ASSERT_TRUE(root.ok());
  Status s = r.ForEachEntry(
      *root, "", kKnown,
      [&](std::string_view key, const YAML::Node& v, const std::string& path) -> Status {
        if (key == "count") return r.Uint(v, path, 10).status();
        if (key == "enabled") return r.Bool(v, path).status();
        return Status();
      });
  EXPECT_TRUE(s.ok());
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].reason, "demo.unknown_key");
  EXPECT_EQ(errors[1].reason, "demo.wrong_type");
  EXPECT_EQ(errors[1].line, 2u);
  EXPECT_EQ(errors[1].column, 8u);
  EXPECT_EQ(errors[1].field, "count");
  EXPECT_EQ(errors[2].reason, "demo.wrong_type");  // YAML 1.1 "yes" is not a boolean here
  EXPECT_EQ(errors[2].field, "enabled");
  EXPECT_EQ(errors[3].reason, "demo.duplicate_key");
  EXPECT_EQ(errors[3].line, 4u);
  EXPECT_EQ(errors[3].ToString(), "doc.yaml:4:1: count: \"count\" appears more than once");
}

TEST(YamlReaderTest, RangesAndSyntax) {
  Reader r("doc.yaml", "demo");
  auto root = r.Load("a: 0\nb: 70\n");
  ASSERT_TRUE(root.ok());
  auto a = r.UintInRange((*root)["a"], "a", 1, 100);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().reason(), "demo.bad_value");
  EXPECT_EQ(*r.UintInRange((*root)["b"], "b", 1, 100), 70u);
  auto bad = r.Load("a: [1, 2\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason(), "demo.syntax");
  EXPECT_EQ(bad.error().message().rfind("doc.yaml:", 0), 0u);
}

TEST(YamlReaderTest, TextMustBeUtf8) {
  Reader r("doc.yaml", "demo");
  EXPECT_TRUE(r.Load("name: \"caf\xc3\xa9 \xf0\x9f\x8c\x99\"\n").ok());
  for (const char* text : {"a: b\nname: x\xffy\n", "a: b\nname: x\xc0\xafy\n",
                           "a: b\nname: x\xed\xa0\x80y\n", "a: b\nname: x\xe2\x82"}) {
    auto bad = r.Load(text);
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_EQ(bad.error().reason(), "demo.encoding");
    EXPECT_EQ(bad.error().message().rfind("doc.yaml:2:8: (document): byte 0x", 0), 0u)
        << bad.error().message();
  }
}

}  // namespace
}  // namespace lunal::yaml
