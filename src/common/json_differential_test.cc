// ParseJson (Boost.JSON's parser under a strict builder) against nlohmann's own parser, over every
// JSON document in ../shared/evidence and mutations of them: both must accept and reject the same
// texts (duplicate keys allowed here, so only the grammar is compared) and build equal values.
// DumpJson against nlohmann's dump(-1, ' ', false, replace) over the same documents and values
// built to reach every branch: the texts must be byte-identical.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "lunal/common/json.h"
#include "lunal/testing/testing.h"

namespace lunal {
namespace {

constexpr JsonParseOptions kGrammarOnly{.max_depth = 10'000, .allow_duplicate_keys = true};

std::vector<std::string> EvidenceJsonDocuments() {
  std::vector<std::string> docs;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(testing::SharedDir() / "evidence")) {
    if (entry.is_regular_file() && entry.path().extension() == ".json" &&
        entry.file_size() <= (1u << 20)) {
      docs.push_back(testing::ReadFileText(entry.path()));
    }
  }
  return docs;
}

// Empty when both agree; otherwise what differs.
std::string Disagreement(const std::string& text) {
  const bool theirs = Json::accept(text);
  Result<Json> ours = ParseJson(text, kGrammarOnly);
  if (theirs != ours.ok()) {
    return "nlohmann " + std::string(theirs ? "accepts" : "rejects") + ", ParseJson " +
           (ours.ok() ? "accepts" : "rejects: " + ours.error().ToString());
  }
  if (theirs && Json::parse(text) != *ours) return "different values";
  return "";
}

TEST(ParseJsonDifferentialTest, EveryEvidenceDocumentParsesToNlohmannsValue) {
  const std::vector<std::string> docs = EvidenceJsonDocuments();
  ASSERT_GE(docs.size(), 20u);
  for (const std::string& text : docs) {
    ASSERT_TRUE(Json::accept(text)) << text.substr(0, 200);
    EXPECT_EQ(Disagreement(text), "") << text.substr(0, 200);
  }
}

TEST(ParseJsonDifferentialTest, MutationsAreJudgedAlike) {
  const std::vector<std::string> docs = EvidenceJsonDocuments();
  // Not NUL: nlohmann stops at a NUL byte as if the input ended there (see below).
  const std::string replacements = "\"\\{}[],:0e-.+ nt\x01\x80\xff\xc3\xed";
  std::size_t compared = 0;
  for (std::size_t d = 0; d < docs.size(); d += 3) {
    const std::string& text = docs[d];
    const std::size_t step = std::max<std::size_t>(1, text.size() / 40);
    for (std::size_t at = 0; at < text.size(); at += step) {
      std::string truncated = text.substr(0, at);
      EXPECT_EQ(Disagreement(truncated), "") << "truncated at " << at;
      for (char c : replacements) {
        std::string mutated = text;
        mutated[at] = c;
        EXPECT_EQ(Disagreement(mutated), "") << "byte " << at << " = " << int(c) << "\n"
                                             << mutated.substr(at > 40 ? at - 40 : 0, 80);
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 5'000u);
}

TEST(ParseJsonDifferentialTest, EdgeCasesAreJudgedAlike) {
  for (const char* text : {"0",
                           "-0",
                           "-0.0",
                           "1.5e3",
                           "1E-7",
                           "18446744073709551615",
                           "18446744073709551616",
                           "-9223372036854775808",
                           "-9223372036854775809",
                           "0.1",
                           "123456789012345678901234567890",
                           "01",
                           "1.",
                           ".5",
                           "+1",
                           "-",
                           "1e",
                           "[1,]",
                           "{\"a\":1,}",
                           "[",
                           "]",
                           "\"\\u0000\"",
                           "\"\\ud83d\\ude00\"",
                           "\"\\ud83d\"",
                           "\"\\udc00x\"",
                           "\"\xf0\x9f\x98\x80\"",
                           "\"\xed\xa0\x80\"",
                           "\"\xc0\x80\"",
                           "\"\xf4\x90\x80\x80\"",
                           "\"a\tb\"",
                           "\"\\x\"",
                           "true",
                           "tru",
                           "nul",
                           "[true false]",
                           "{\"a\" 1}",
                           "{1:2}",
                           " \n\t\r[] \n",
                           "[]x",
                           "/*c*/1",
                           "1 // c",
                           "\xef\xbb\xbf{}",
                           "{\"a\":{\"a\":{\"a\":[[[[]]]]}}}",
                           "\"\x7f\""}) {
    EXPECT_EQ(Disagreement(text), "") << text;
  }
}

// Where we are deliberately stricter than nlohmann.
TEST(ParseJsonDifferentialTest, StricterThanNlohmann) {
  // nlohmann treats a NUL byte as the end of the input and accepts what came before.
  EXPECT_TRUE(Json::accept(std::string("{}\0", 3)));
  EXPECT_EQ(ParseJson(std::string("{}\0", 3)).error().reason(), "json.syntax");
  EXPECT_EQ(ParseJson(std::string("[1\0]", 4)).error().reason(), "json.syntax");
  // A number beyond double's range is an error, not infinity.
  EXPECT_EQ(ParseJson("1e400").error().reason(), "json.syntax");
}

TEST(ParseJsonDifferentialTest, NumbersKeepNlohmannsTypes) {
  Result<Json> j = ParseJson(R"([5, -5, 5.0, 18446744073709551615, -9223372036854775808])");
  ASSERT_TRUE(j.ok()) << j.error();
  EXPECT_TRUE((*j)[0].is_number_unsigned());
  EXPECT_TRUE((*j)[1].is_number_integer() && !(*j)[1].is_number_unsigned());
  EXPECT_TRUE((*j)[2].is_number_float());
  EXPECT_EQ((*j)[3].get<std::uint64_t>(), UINT64_MAX);
  EXPECT_EQ((*j)[4].get<std::int64_t>(), INT64_MIN);
  // Doubles are parsed from their exact text (correctly rounded).
  EXPECT_EQ(ParseJson("0.1")->get<double>(), 0.1);
  EXPECT_EQ(ParseJson("2.2250738585072014e-308")->get<double>(), 2.2250738585072014e-308);
}

std::string NlohmannDump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

TEST(DumpJsonDifferentialTest, EveryEvidenceDocumentDumpsAsNlohmannDoes) {
  const std::vector<std::string> docs = EvidenceJsonDocuments();
  ASSERT_GE(docs.size(), 20u);
  for (const std::string& text : docs) {
    const Json value = Json::parse(text);
    EXPECT_EQ(DumpJson(value), NlohmannDump(value)) << text.substr(0, 200);
  }
}

TEST(DumpJsonDifferentialTest, EveryKindOfValueDumpsAsNlohmannDoes) {
  const std::string invalid_utf8 = "a\xff\xc3(b";
  const std::vector<Json> values = {
      nullptr,
      true,
      false,
      0,
      -1,
      INT64_MIN,
      INT64_MAX,
      std::uint64_t{UINT64_MAX},
      0.0,
      -0.0,
      1.0,
      0.1,
      1e300,
      2.2250738585072014e-308,
      "",
      "plain ascii ~ with symbols !#$%&'()*+,-./:;<=>?@[]^_`{|}",
      "quote \" and backslash \\",
      "tab\tnewline\ncontrol\x01\x1f del\x7f",
      "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80",
      invalid_utf8,
      Json::array(),
      Json::object(),
      Json::binary({1, 2, 3}),
      Json::parse(R"({"b":[1,-2,3.5,"x",{"c":null,"a":[]}],"a":{"z":true,"\u00e9":"\u0000"}})"),
      Json{{invalid_utf8, {{"k\"ey", invalid_utf8}}}, {"n", {1u, -1, 1.25, nullptr}}},
  };
  for (const Json& value : values) {
    EXPECT_EQ(DumpJson(value), NlohmannDump(value)) << NlohmannDump(value);
    // Nested one level down, as a member and as an element.
    const Json wrapped = {{"v", value}, {"list", {value, value}}};
    EXPECT_EQ(DumpJson(wrapped), NlohmannDump(wrapped)) << NlohmannDump(wrapped);
  }
}

TEST(DumpJsonDifferentialTest, DumpJsonToAppends) {
  std::string out = "prefix:";
  DumpJsonTo(Json{{"a", 1}}, out);
  EXPECT_EQ(out, R"(prefix:{"a":1})");
}

}  // namespace
}  // namespace lunal
