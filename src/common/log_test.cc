#include "lunal/common/log.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

namespace lunal::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetSinkForTesting([this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
    });
  }
  void TearDown() override {
    SetSinkForTesting(nullptr);
    Init({});
  }
  std::vector<std::string> Lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }
  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST_F(LogTest, TextRendering) {
  EXPECT_EQ(Render(Format::kText, Level::kInfo, "2026-01-01T00:00:00Z", "http.request",
                   {{"method", "GET"}, {"status", 200}, {"path", "/a b"}, {"ok", true}}),
            "2026-01-01T00:00:00Z info http.request method=GET status=200 path=\"/a b\" ok=true");
}

TEST_F(LogTest, JsonRenderingIsOneObjectAndProtectsReservedKeys) {
  std::string line = Render(Format::kJson, Level::kWarn, "2026-01-01T00:00:00Z", "x.y",
                            {{"level", "spoofed"}, {"n", 1}});
  auto parsed = ParseJson(line);
  ASSERT_TRUE(parsed.ok()) << line;
  EXPECT_EQ((*parsed)["level"], "warn");
  EXPECT_EQ((*parsed)["field.level"], "spoofed");
  EXPECT_EQ((*parsed)["event"], "x.y");
  EXPECT_EQ((*parsed)["n"], 1);
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST_F(LogTest, LevelFiltering) {
  Init({.level = Level::kWarn, .format = Format::kJson});
  Info("dropped");
  Warn("kept", {{"k", "v"}});
  Error("kept.too");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ((*ParseJson(lines[0]))["event"], "kept");
  EXPECT_EQ((*ParseJson(lines[0]))["k"], "v");
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kError));
}

TEST_F(LogTest, ParseLevelAndFormat) {
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(ParseLevel("verbose").error().reason(), "log.bad_level");
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseFormat("xml").error().reason(), "log.bad_format");
}

}  // namespace
}  // namespace lunal::log
