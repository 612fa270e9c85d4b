#include "lunal/cli/output.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace lunal::cli {
namespace {

TEST(ExitCodeTest, EveryCodeMapsToTheDocumentedExitStatus) {
  struct Case {
    Code code;
    int exit;
  };
  const Case cases[] = {
      {Code::kOk, 0},
      {Code::kVerificationFailed, 1},
      {Code::kPolicyViolation, 1},
      {Code::kConflict, 1},
      {Code::kInvalidArgument, 2},
      {Code::kMalformed, 2},
      {Code::kUnsupported, 2},
      {Code::kResourceExhausted, 2},
      {Code::kUnavailable, 3},
      {Code::kDeadlineExceeded, 3},
      {Code::kUnauthenticated, 4},
      {Code::kPermissionDenied, 4},
      {Code::kNotFound, 5},
      {Code::kInternal, 70},
  };
  ASSERT_EQ(std::size(cases), static_cast<std::size_t>(Code::kInternal) + 1);
  for (const auto& c : cases) EXPECT_EQ(ExitCodeFor(c.code), c.exit) << CodeName(c.code);
}

TEST(ReportErrorTest, JsonGoesToStdoutInTheApiShape) {
  std::FILE* human = std::tmpfile();
  std::FILE* json = std::tmpfile();
  int code = ReportError(VerificationFailed("tdx.quote.signature_invalid", "bad signature"), true,
                         human, json);
  EXPECT_EQ(code, 1);
  std::rewind(json);
  char buf[512] = {};
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, json);
  auto parsed = ParseJson(std::string_view(buf, n));
  ASSERT_TRUE(parsed.ok()) << buf;
  EXPECT_EQ((*parsed)["error"]["code"], "verification_failed");
  EXPECT_EQ((*parsed)["error"]["reason"], "tdx.quote.signature_invalid");
  EXPECT_EQ((*parsed)["error"]["message"], "bad signature");
  EXPECT_EQ(std::ftell(human), 0);  // nothing human-readable in JSON mode
  std::fclose(human);
  std::fclose(json);
}

TEST(ReportErrorTest, HumanLineNamesMessageAndReason) {
  std::FILE* human = std::tmpfile();
  int code =
      ReportError(NotFound("deployment.not_found", "no deployment \"web\""), false, human, stdout);
  EXPECT_EQ(code, 5);
  std::rewind(human);
  char buf[256] = {};
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, human);
  EXPECT_EQ(std::string(buf, n), "error: no deployment \"web\" [deployment.not_found]\n");
  std::fclose(human);
}

}  // namespace
}  // namespace lunal::cli
