#include "lunal/common/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "lunal/common/result.h"

namespace lunal {
namespace {

TEST(StatusTest, DefaultIsOkAndCarriesNothing) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.reason(), "");
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, FactoryFormatsMessageAndKeepsReason) {
  Status s = Malformed("tdx.header.truncated", "need {} bytes at offset {}, have {}", 48, 0, 12);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kMalformed);
  EXPECT_EQ(s.reason(), "tdx.header.truncated");
  EXPECT_EQ(s.message(), "need 48 bytes at offset 0, have 12");
  EXPECT_EQ(s.ToString(), "malformed [tdx.header.truncated]: need 48 bytes at offset 0, have 12");
}

TEST(StatusTest, MessageWithBracesIsNotFormattedWithoutArguments) {
  Status s = InvalidArgument("x.y", "literal {braces}");
  EXPECT_EQ(s.message(), "literal {braces}");
}

TEST(StatusTest, ConstructingWithOkCodeIsOk) {
  Status s(Code::kOk, "ignored", "ignored");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.reason(), "");
}

TEST(StatusTest, CopyIsDeepAndEqual) {
  Status a = VerificationFailed("a.b", "m");
  Status b = a;
  EXPECT_EQ(a, b);
  b = b.WithContext("ctx");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.message(), "m");
  EXPECT_EQ(b.message(), "ctx: m");
  EXPECT_EQ(b.reason(), "a.b");
  EXPECT_EQ(b.code(), Code::kVerificationFailed);
}

TEST(StatusTest, OkEqualsOkOnly) {
  EXPECT_EQ(Status(), Status::Ok());
  EXPECT_NE(Status(), Internal("x", "y"));
}

TEST(StatusTest, EveryCodeHasADistinctName) {
  std::set<std::string_view> names;
  for (int c = 0; c <= static_cast<int>(Code::kInternal); ++c) {
    names.insert(CodeName(static_cast<Code>(c)));
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(Code::kInternal) + 1);
  EXPECT_EQ(CodeName(Code::kVerificationFailed), "verification_failed");
  EXPECT_EQ(CodeName(Code::kResourceExhausted), "resource_exhausted");
}

TEST(StatusTest, FormatsThroughFmt) {
  EXPECT_EQ(fmt::format("{}", NotFound("x.missing", "no x")), "not_found [x.missing]: no x");
}

Result<int> Half(int v) {
  if (v % 2 != 0) return InvalidArgument("half.odd", "{} is odd", v);
  return v / 2;
}

Result<int> Quarter(int v) {
  LUNAL_ASSIGN_OR_RETURN(int h, Half(v));
  LUNAL_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckQuarter(int v) {
  LUNAL_RETURN_IF_ERROR(Quarter(v));
  return Status();
}

TEST(ResultTest, ValueAndErrorPropagate) {
  Result<int> ok = Quarter(8);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 2);
  Result<int> bad = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().reason(), "half.odd");
  EXPECT_EQ(bad.error().message(), "3 is odd");
  EXPECT_EQ(CheckQuarter(6).reason(), "half.odd");
  EXPECT_TRUE(CheckQuarter(4).ok());
}

TEST(ResultTest, OkStatusAsErrorBecomesInternal) {
  Result<int> r = Status();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInternal);
}

TEST(ResultTest, ValueOrAndStatus) {
  Result<std::string> bad = NotFound("x", "y");
  EXPECT_EQ(bad.value_or("fallback"), "fallback");
  EXPECT_EQ(bad.status().code(), Code::kNotFound);
  Result<std::string> good = std::string("v");
  EXPECT_EQ(good.value_or("fallback"), "v");
  EXPECT_TRUE(good.status().ok());
  EXPECT_EQ(good->size(), 1u);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ResultDeathTest, ValueOnErrorAborts) {
  Result<int> r = Internal("boom", "x");
  EXPECT_DEATH({ (void)r.value(); }, "value\\(\\) on a Result holding an error");
}

}  // namespace
}  // namespace lunal
