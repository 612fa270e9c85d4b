#include "lunal/common/encoding.h"

#include <gtest/gtest.h>

#include "lunal/common/bytes.h"

namespace lunal {
namespace {

TEST(HexTest, RoundTripsEveryByte) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<uint8_t>(i);
  std::string hex = HexEncode(all);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(hex.size() - 4), "feff");
  auto back = HexDecode(hex);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, all);
}

TEST(HexTest, AcceptsUppercase) {
  auto r = HexDecode("DEADbeef");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (Bytes{0xde, 0xad, 0xbe, 0xef}));
}

TEST(HexTest, EmptyIsEmpty) {
  auto r = HexDecode("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(HexEncode({}), "");
}

TEST(HexTest, RejectsInvalidCharacterWithPosition) {
  auto r = HexDecode("00112g33");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kMalformed);
  EXPECT_EQ(r.error().reason(), "hex.invalid_character");
  EXPECT_EQ(r.error().message(), "invalid hex character 'g' at position 5");
}

TEST(HexTest, RejectsControlCharacterPrintedAsHex) {
  auto r = HexDecode("00\n1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "invalid hex character 0x0a at position 2");
}

TEST(HexTest, RejectsOddLength) {
  auto r = HexDecode("abc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "hex.odd_length");
}

// RFC 4648 §10 test vectors.
struct Vector {
  const char* plain;
  const char* encoded;
};
constexpr Vector kRfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TEST(Base64Test, Rfc4648Vectors) {
  for (const auto& v : kRfc4648) {
    EXPECT_EQ(Base64Encode(AsBytes(v.plain)), v.encoded);
    auto decoded = Base64Decode(v.encoded);
    ASSERT_TRUE(decoded.ok()) << v.encoded << ": " << decoded.error();
    EXPECT_EQ(ToString(*decoded), v.plain);
  }
}

TEST(Base64Test, UrlAlphabetDiffersFromStandard) {
  Bytes b = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(Base64Encode(b), "+/+/");
  EXPECT_EQ(Base64UrlEncode(b), "-_-_");
  EXPECT_EQ(*Base64UrlDecode("-_-_"), b);
  // Each alphabet rejects the other's two special characters.
  auto std_in_url = Base64UrlDecode("+/+/");
  ASSERT_FALSE(std_in_url.ok());
  EXPECT_EQ(std_in_url.error().reason(), "base64.invalid_character");
  EXPECT_EQ(std_in_url.error().message(), "invalid base64 character '+' at position 0");
  EXPECT_FALSE(Base64Decode("-_-_").ok());
}

TEST(Base64Test, UrlUnpaddedRoundTrip) {
  EXPECT_EQ(Base64UrlEncode(AsBytes("f")), "Zg");
  EXPECT_EQ(ToString(*Base64UrlDecode("Zg")), "f");
  EXPECT_EQ(ToString(*Base64UrlDecode("Zg==")), "f");  // optional padding accepted
}

TEST(Base64Test, InvalidCharacterReportsPosition) {
  auto r = Base64Decode("Zm9v*mFy");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "base64.invalid_character");
  EXPECT_EQ(r.error().message(), "invalid base64 character '*' at position 4");
}

TEST(Base64Test, PaddingRules) {
  struct Case {
    const char* input;
    Base64DecodeOptions::Padding padding;
    const char* reason;  // nullptr = accepted
  };
  using P = Base64DecodeOptions::Padding;
  const Case cases[] = {
      {"Zg==", P::kRequired, nullptr},
      {"Zg", P::kRequired, "base64.bad_padding"},
      {"Zg=", P::kRequired, "base64.bad_padding"},
      {"Zg===", P::kOptional, "base64.bad_padding"},
      {"Zg==", P::kForbidden, "base64.bad_padding"},
      {"Zg", P::kForbidden, nullptr},
      {"Zg==Zg==", P::kRequired, "base64.bad_padding"},  // data after padding
      {"Z", P::kOptional, "base64.bad_length"},
      {"Zm9vY", P::kOptional, "base64.bad_length"},
      {"Zh==", P::kRequired, "base64.non_canonical"},  // 'h' leaves unused bits set
      {"Zm9=", P::kRequired, "base64.non_canonical"},
      {"====", P::kOptional, "base64.bad_padding"},
  };
  for (const auto& c : cases) {
    auto r = Base64Decode(c.input, {.padding = c.padding});
    if (c.reason == nullptr) {
      EXPECT_TRUE(r.ok()) << c.input << ": " << r.error();
    } else {
      ASSERT_FALSE(r.ok()) << c.input << " was accepted";
      EXPECT_EQ(r.error().reason(), c.reason) << c.input;
    }
  }
}

TEST(Base64Test, WhitespaceOnlyWhenAsked) {
  const char* wrapped = "Zm9v\nYmFy\r\n";
  EXPECT_FALSE(Base64Decode(wrapped).ok());
  auto r = Base64Decode(wrapped, {.ignore_whitespace = true});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(ToString(*r), "foobar");
}

TEST(Base64Test, RoundTripsAllLengths) {
  Bytes data;
  for (int n = 0; n < 70; ++n) {
    for (auto alphabet : {Base64Alphabet::kStandard, Base64Alphabet::kUrl}) {
      std::string enc = Base64Encode(data, alphabet);
      auto dec = Base64Decode(enc, {.alphabet = alphabet});
      ASSERT_TRUE(dec.ok()) << n;
      EXPECT_EQ(*dec, data);
    }
    data.push_back(static_cast<uint8_t>(n * 37 + 11));
  }
}

// Long inputs go through the decoder's four-characters-at-a-time path; whatever the position of a
// bad character, padding or line break, the verdict and the position reported must be those of
// the character-by-character rules.
TEST(Base64Test, EveryPositionOfALongInputIsJudgedByTheSameRules) {
  Bytes data;
  for (int i = 0; i < 62; ++i) data.push_back(static_cast<uint8_t>(i * 53 + 7));
  const std::string enc = Base64Encode(data);  // 84 characters, one '=' at the end
  ASSERT_EQ(enc.size(), 84u);
  for (std::size_t k = 0; k + 1 < enc.size(); ++k) {
    std::string bad = enc;
    bad[k] = '*';
    auto r = Base64Decode(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason(), "base64.invalid_character") << k;
    EXPECT_NE(r.error().message().find("at position " + std::to_string(k)), std::string::npos)
        << k << ": " << r.error();

    if (k + 4 < enc.size()) {  // '=' followed by more characters
      std::string padded = enc;
      padded[k] = '=';
      EXPECT_EQ(Base64Decode(padded).error().reason(), "base64.bad_padding") << k;
    }

    std::string wrapped = enc;
    wrapped.insert(k, "\r\n");
    EXPECT_FALSE(Base64Decode(wrapped).ok()) << k;
    auto unwrapped = Base64Decode(wrapped, {.ignore_whitespace = true});
    ASSERT_TRUE(unwrapped.ok()) << k << ": " << unwrapped.error();
    EXPECT_EQ(*unwrapped, data) << k;
  }
  // Non-canonical trailing bits are still caught after a long run of whole groups.
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string loose = enc;  // "...x=": the last symbol x carries two unused bits; set one
  loose[82] = kAlphabet[kAlphabet.find(enc[82]) ^ 1];
  auto r = Base64Decode(loose);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "base64.non_canonical");
}

TEST(Base64Test, RoundTripsLongInputsInBothAlphabets) {
  Bytes data;
  for (int n = 0; n < 400; ++n) {
    for (auto alphabet : {Base64Alphabet::kStandard, Base64Alphabet::kUrl}) {
      for (bool pad : {true, false}) {
        auto dec = Base64Decode(
            Base64Encode(data, alphabet, pad),
            {.alphabet = alphabet, .padding = Base64DecodeOptions::Padding::kOptional});
        ASSERT_TRUE(dec.ok()) << n;
        EXPECT_EQ(*dec, data) << n;
      }
    }
    data.push_back(static_cast<uint8_t>(n * 37 + 11));
  }
}

TEST(BytesTest, ConstantTimeEqual) {
  EXPECT_TRUE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abc")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abd")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("abc"), AsBytes("ab")));
  EXPECT_TRUE(ConstantTimeEqual({}, {}));
}

}  // namespace
}  // namespace lunal
