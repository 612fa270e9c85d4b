#include "lunal/common/byte_reader.h"

#include <gtest/gtest.h>

namespace lunal {
namespace {

const Bytes kData = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a};

TEST(ByteReaderTest, LittleAndBigEndian) {
  ByteReader r(kData);
  EXPECT_EQ(*r.U8("f.a"), 0x01);
  EXPECT_EQ(*r.U16Le("f.b"), 0x0302);
  EXPECT_EQ(*r.U32Le("f.c"), 0x07060504u);
  EXPECT_EQ(r.position(), 7u);
  ByteReader be(kData);
  EXPECT_EQ(*be.U16Be("f"), 0x0102);
  EXPECT_EQ(*be.U32Be("f"), 0x03040506u);
  ByteReader r64(kData);
  EXPECT_EQ(*r64.U64Le("f"), 0x0807060504030201ull);
  EXPECT_EQ(r64.remaining(), 2u);
  ByteReader be64(kData);
  EXPECT_EQ(*be64.U64Be("f"), 0x0102030405060708ull);
  EXPECT_FALSE(be64.U64Be("f").ok());  // 2 bytes left
}

TEST(ByteReaderTest, TruncatedReadNamesFieldOffsetAndSizes) {
  ByteReader r(kData);
  ASSERT_TRUE(r.Skip(8, "tdx.header").ok());
  auto v = r.U32Le("tdx.header.version");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), Code::kMalformed);
  EXPECT_EQ(v.error().reason(), "tdx.header.version.truncated");
  EXPECT_EQ(v.error().message(), "tdx.header.version: need 4 bytes at offset 8, have 2");
  // A failed read consumes nothing.
  EXPECT_EQ(r.remaining(), 2u);
}

TEST(ByteReaderTest, ExactlyMinimalAndOneShort) {
  ByteReader exact(kData);
  EXPECT_TRUE(exact.Bytes(10, "all").ok());
  EXPECT_TRUE(exact.ExpectEnd("all").ok());
  ByteReader short_by_one(ByteSpan(kData).first(9));
  auto r = short_by_one.Bytes(10, "all");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "all.truncated");
}

TEST(ByteReaderTest, HugeLengthDoesNotOverflow) {
  ByteReader r(kData);
  ASSERT_TRUE(r.Skip(4, "x").ok());
  auto b = r.Bytes(SIZE_MAX, "x.huge");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().reason(), "x.huge.truncated");
  EXPECT_FALSE(r.Skip(SIZE_MAX - 2, "x").ok());
  EXPECT_FALSE(r.Sub(SIZE_MAX, "x").ok());
}

TEST(ByteReaderTest, ArrayIsFixedSizeView) {
  ByteReader r(kData);
  auto a = r.Array<4>("f");
  ASSERT_TRUE(a.ok());
  static_assert(std::remove_reference_t<decltype(*a)>::extent == 4);
  EXPECT_EQ((*a)[3], 0x04);
  EXPECT_EQ(a->data(), kData.data());  // a view, not a copy
}

TEST(ByteReaderTest, ExpectZeroFindsFirstNonZeroByte) {
  Bytes data = {0xff, 0, 0, 0, 0x5a, 0};
  ByteReader r(data);
  ASSERT_TRUE(r.Skip(1, "x").ok());
  Status s = r.ExpectZero(5, "snp.report.reserved1");
  EXPECT_EQ(s.reason(), "snp.report.reserved1.not_zero");
  EXPECT_EQ(s.message(), "snp.report.reserved1: must be zero, byte 0x5a at offset 4");
  ByteReader zeros(ByteSpan(data).subspan(1, 3));
  EXPECT_TRUE(zeros.ExpectZero(3, "z").ok());
  EXPECT_EQ(ByteReader(data).ExpectZero(7, "z").reason(), "z.truncated");
}

TEST(ByteReaderTest, SubReaderReportsOuterOffsets) {
  ByteReader r(kData);
  ASSERT_TRUE(r.Skip(6, "x").ok());
  auto sub = r.Sub(3, "inner");
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(r.remaining(), 1u);  // the parent moved past the sub-structure
  EXPECT_EQ(sub->offset(), 6u);
  EXPECT_EQ(*sub->U8("inner.a"), 0x07);
  auto bad = sub->U32Le("inner.b");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "inner.b: need 4 bytes at offset 7, have 2");
}

TEST(ByteReaderTest, ExpectEndReportsTrailingBytes) {
  ByteReader r(kData);
  ASSERT_TRUE(r.Skip(7, "x").ok());
  Status s = r.ExpectEnd("quote");
  EXPECT_EQ(s.reason(), "quote.trailing_bytes");
  EXPECT_EQ(s.message(), "quote: 3 unexpected bytes at offset 7");
}

TEST(ByteReaderTest, EmptyInput) {
  ByteReader r(ByteSpan{});
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.U8("x").ok());
  EXPECT_TRUE(r.Bytes(0, "x").ok());
  EXPECT_TRUE(r.ExpectEnd("x").ok());
}

}  // namespace
}  // namespace lunal
