#include "lunal/build/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "lunal/testing/testing.h"

namespace lunal::build {
namespace {

std::string D(char c) { return "sha256:" + std::string(64, c); }

BuildManifest Sample() {
  return {
      .source = {.tree = D('1'), .files = 12, .bytes = 3456},
      .lockfiles = {{.path = "package-lock.json", .digest = D('2')},
                    {.path = "requirements.txt", .digest = D('3')}},
      .toolchain =
          {{.name = "node", .version = "v18.19.0", .path = "/usr/bin/node", .digest = D('4')},
           {.name = "python3",
            .version = "3.11.2",
            .path = "/usr/bin/python3.11",
            .digest = D('5')}},
      .environment = {{"LC_ALL", "C"}, {"SOURCE_DATE_EPOCH", "0"}, {"TZ", "UTC"}},
      .artifacts = {{.path = "app.tar", .digest = D('6'), .size = 10240},
                    {.path = "bin/server", .digest = D('7'), .size = 99}},
  };
}

TEST(Manifest, CanonicalFormIsSortedCompactJson) {
  BuildManifest m = {
      .source = {.tree = D('a'), .files = 1, .bytes = 2},
      .lockfiles = {{.path = "go.sum", .digest = D('b')}},
      .toolchain = {{.name = "go", .version = "1.19", .path = "/usr/bin/go", .digest = D('c')}},
      .environment = {{"TZ", "UTC"}},
      .artifacts = {{.path = "app", .digest = D('d'), .size = 3}}};
  auto canonical = CanonicalManifest(m);
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  EXPECT_EQ(
      *canonical,
      "{\"artifacts\":[{\"digest\":\"" + D('d') +
          "\",\"path\":\"app\",\"size\":3}],\"environment\":{\"TZ\":\"UTC\"},"
          "\"lockfiles\":[{\"digest\":\"" +
          D('b') + "\",\"path\":\"go.sum\"}],\"source\":{\"bytes\":2,\"files\":1,\"tree\":\"" +
          D('a') + "\"},\"toolchain\":[{\"digest\":\"" + D('c') +
          "\",\"name\":\"go\",\"path\":\"/usr/bin/go\",\"version\":\"1.19\"}],\"version\":1}");
}

TEST(Manifest, RoundTrips) {
  const BuildManifest m = Sample();
  auto canonical = CanonicalManifest(m);
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  auto back = ParseManifest(*canonical);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
  // Whitespace and member order are free on input.
  auto pretty = ParseManifest(ManifestToJson(m).dump(2));
  ASSERT_TRUE(pretty.ok()) << pretty.status();
  EXPECT_EQ(*pretty, m);
  // An empty manifest (no lockfiles, tools, environment or artifacts) is valid.
  BuildManifest empty = {.source = {.tree = D('0')}};
  auto e = CanonicalManifest(empty);
  ASSERT_TRUE(e.ok()) << e.status();
  auto e2 = ParseManifest(*e);
  ASSERT_TRUE(e2.ok()) << e2.status();
  EXPECT_EQ(*e2, empty);
}

TEST(Manifest, BuildHashIsSha256sumOfTheCanonicalText) {
  const BuildManifest m = Sample();
  auto canonical = CanonicalManifest(m);
  auto hash = BuildHash(m);
  ASSERT_TRUE(canonical.ok() && hash.ok());
  lunal::testing::ProcessOptions input;
  input.stdin_data = *canonical;
  auto r = lunal::testing::RunProcess({"sha256sum"}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(*hash, "sha256:" + r.out.substr(0, 64));
  EXPECT_THAT(*hash, ::testing::MatchesRegex("sha256:[0-9a-f]{64}"));
}

TEST(Manifest, JqRecomputesTheCanonicalForm) {
  if (!lunal::testing::HaveProgram("jq")) GTEST_SKIP() << "no jq";
  const BuildManifest m = Sample();
  lunal::testing::ProcessOptions input;
  input.stdin_data = ManifestToJson(m).dump(4);
  auto r = lunal::testing::RunProcess({"jq", "-cS", "."}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  r.out.pop_back();  // jq's newline
  EXPECT_EQ(r.out, *CanonicalManifest(m));
}

TEST(Manifest, EveryFieldIsBound) {
  const std::string base = *BuildHash(Sample());
  const std::vector<std::function<void(BuildManifest&)>> edits = {
      [](BuildManifest& m) { m.source.tree = D('9'); },
      [](BuildManifest& m) { m.source.files++; },
      [](BuildManifest& m) { m.source.bytes++; },
      [](BuildManifest& m) { m.lockfiles[0].digest = D('9'); },
      [](BuildManifest& m) { m.lockfiles[1].path = "requirements.lock"; },
      [](BuildManifest& m) { m.lockfiles.pop_back(); },
      [](BuildManifest& m) { m.toolchain[0].version = "v18.19.1"; },
      [](BuildManifest& m) { m.toolchain[0].path = "/usr/local/bin/node"; },
      [](BuildManifest& m) { m.toolchain[1].digest = D('9'); },
      [](BuildManifest& m) { m.environment["TZ"] = "UTC0"; },
      [](BuildManifest& m) { m.environment["EXTRA"] = ""; },
      [](BuildManifest& m) { m.artifacts[0].size++; },
      [](BuildManifest& m) { m.artifacts[1].digest = D('9'); },
      [](BuildManifest& m) { m.artifacts[1].path = "bin/serve"; },
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    BuildManifest m = Sample();
    edits[i](m);
    auto h = BuildHash(m);
    ASSERT_TRUE(h.ok()) << i << ": " << h.status();
    EXPECT_NE(*h, base) << i;
  }
}

TEST(Manifest, ParseRefusesMutations) {
  struct Case {
    const char* name;
    std::function<void(Json&)> edit;
    const char* reason;
    Code code = Code::kMalformed;
  };
  const std::vector<Case> cases = {
      {"unknown top-level", [](Json& j) { j["extra"] = 1; }, "build.manifest.unknown_field"},
      {"unknown in source", [](Json& j) { j["source"]["dirs"] = 1; },
       "build.manifest.unknown_field"},
      {"unknown in tool", [](Json& j) { j["toolchain"][0]["arch"] = "x86_64"; },
       "build.manifest.unknown_field"},
      {"missing version", [](Json& j) { j.erase("version"); }, "build.manifest.missing_field"},
      {"missing artifacts", [](Json& j) { j.erase("artifacts"); }, "build.manifest.missing_field"},
      {"missing tree", [](Json& j) { j["source"].erase("tree"); }, "build.manifest.missing_field"},
      {"missing size", [](Json& j) { j["artifacts"][0].erase("size"); },
       "build.manifest.missing_field"},
      {"version 2", [](Json& j) { j["version"] = 2; }, "build.manifest.unsupported_version",
       Code::kUnsupported},
      {"version string", [](Json& j) { j["version"] = "1"; }, "build.manifest.wrong_type"},
      {"version float", [](Json& j) { j["version"] = 1.0; }, "build.manifest.wrong_type"},
      {"root array", [](Json& j) { j = Json::array(); }, "build.manifest.wrong_type"},
      {"files negative", [](Json& j) { j["source"]["files"] = -1; }, "build.manifest.wrong_type"},
      {"size float", [](Json& j) { j["artifacts"][0]["size"] = 1.5; }, "build.manifest.wrong_type"},
      {"size string", [](Json& j) { j["artifacts"][0]["size"] = "10240"; },
       "build.manifest.wrong_type"},
      {"lockfiles object", [](Json& j) { j["lockfiles"] = Json::object(); },
       "build.manifest.wrong_type"},
      {"tool not object", [](Json& j) { j["toolchain"][0] = "node"; }, "build.manifest.wrong_type"},
      {"environment array", [](Json& j) { j["environment"] = Json::array(); },
       "build.manifest.wrong_type"},
      {"environment number", [](Json& j) { j["environment"]["TZ"] = 0; },
       "build.manifest.wrong_type"},
      {"tree not sha256", [](Json& j) { j["source"]["tree"] = "sha512:" + std::string(64, '1'); },
       "build.manifest.bad_digest"},
      {"tree uppercase", [](Json& j) { j["source"]["tree"] = "sha256:" + std::string(64, 'A'); },
       "build.manifest.bad_digest"},
      {"tree short", [](Json& j) { j["source"]["tree"] = "sha256:" + std::string(63, '1'); },
       "build.manifest.bad_digest"},
      {"artifact digest bare hex",
       [](Json& j) { j["artifacts"][0]["digest"] = std::string(64, '1'); },
       "build.manifest.bad_digest"},
      {"tool digest", [](Json& j) { j["toolchain"][1]["digest"] = ""; },
       "build.manifest.bad_digest"},
      {"lockfile digest", [](Json& j) { j["lockfiles"][0]["digest"] = D('g'); },
       "build.manifest.bad_digest"},
      {"artifact absolute", [](Json& j) { j["artifacts"][0]["path"] = "/app.tar"; },
       "build.manifest.bad_path"},
      {"artifact dot dot", [](Json& j) { j["artifacts"][1]["path"] = "bin/../../x"; },
       "build.manifest.bad_path"},
      {"lockfile empty path", [](Json& j) { j["lockfiles"][0]["path"] = ""; },
       "build.manifest.bad_path"},
      {"empty tool name", [](Json& j) { j["toolchain"][0]["name"] = ""; },
       "build.manifest.bad_value"},
      {"empty env name", [](Json& j) { j["environment"][""] = "x"; }, "build.manifest.bad_value"},
      {"artifacts unsorted", [](Json& j) { std::swap(j["artifacts"][0], j["artifacts"][1]); },
       "build.manifest.unsorted"},
      {"artifacts duplicate", [](Json& j) { j["artifacts"][1] = j["artifacts"][0]; },
       "build.manifest.unsorted"},
      {"lockfiles unsorted", [](Json& j) { std::swap(j["lockfiles"][0], j["lockfiles"][1]); },
       "build.manifest.unsorted"},
      {"toolchain unsorted", [](Json& j) { std::swap(j["toolchain"][0], j["toolchain"][1]); },
       "build.manifest.unsorted"},
      {"toolchain duplicate name", [](Json& j) { j["toolchain"][1]["name"] = "node"; },
       "build.manifest.unsorted"},
  };
  const Json base = ManifestToJson(Sample());
  ASSERT_TRUE(ParseManifest(base.dump()).ok());
  for (const Case& c : cases) {
    Json j = base;
    c.edit(j);
    auto r = ParseManifest(j.dump());
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().reason(), c.reason) << c.name << ": " << r.error();
    EXPECT_EQ(r.error().code(), c.code) << c.name;
  }
  for (const char* text : {"", "{", "{\"version\":1,\"version\":1}", "[1] x", "nul"}) {
    auto r = ParseManifest(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().reason(), "build.manifest.syntax") << text;
  }
}

TEST(Manifest, NoHashOverAnInvalidManifest) {
  BuildManifest m = Sample();
  std::swap(m.artifacts[0], m.artifacts[1]);
  auto h = BuildHash(m);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().reason(), "build.manifest.unsorted");
  m = Sample();
  m.environment["BAD"] = std::string("\xff\xfe", 2);
  h = BuildHash(m);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().reason(), "build.manifest.bad_value");
}

}  // namespace
}  // namespace lunal::build
