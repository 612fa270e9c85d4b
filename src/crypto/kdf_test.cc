#include "lunal/crypto/kdf.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace lunal::crypto {
namespace {

using testing::Hex;
using testing::ToHex;

// RFC 5869 Appendix A.1 (test case 1).
TEST(CryptoHkdf, Rfc5869TestCase1) {
  Bytes ikm(22, 0x0b);
  Bytes salt = Hex("000102030405060708090a0b0c");
  Bytes info = Hex("f0f1f2f3f4f5f6f7f8f9");
  auto prk = HkdfExtract(salt, ikm);
  EXPECT_EQ(ToHex(prk), "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  const std::string okm =
      "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865";
  auto expanded = HkdfExpand(prk, info, 42);
  ASSERT_TRUE(expanded.has_value()) << expanded.error();
  EXPECT_EQ(ToHex(*expanded), okm);
  auto direct = HkdfSha256(ikm, salt, info, 42);
  ASSERT_TRUE(direct.has_value()) << direct.error();
  EXPECT_EQ(ToHex(*direct), okm);
}

// RFC 5869 Appendix A.3 (test case 3): empty salt and info.
TEST(CryptoHkdf, Rfc5869TestCase3EmptySalt) {
  Bytes ikm(22, 0x0b);
  EXPECT_EQ(ToHex(HkdfExtract({}, ikm)),
            "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
  auto okm = HkdfSha256(ikm, {}, {}, 42);
  ASSERT_TRUE(okm.has_value()) << okm.error();
  EXPECT_EQ(ToHex(*okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(CryptoHkdf, Limits) {
  Bytes prk(32, 1);
  EXPECT_TRUE(HkdfExpand(prk, {}, kHkdfSha256MaxOutput).has_value());
  EXPECT_ERROR(HkdfExpand(prk, {}, kHkdfSha256MaxOutput + 1), Code::kInvalidArgument,
               "crypto.hkdf.output_too_long");
  EXPECT_ERROR(HkdfSha256(prk, {}, {}, 0), Code::kInvalidArgument, "crypto.hkdf.output_too_long");
  EXPECT_ERROR(HkdfExpand(Bytes(31, 1), {}, 16), Code::kInvalidArgument,
               "crypto.hkdf.prk_too_short");
}

// RFC 7748 §5.2, first X25519 test vector.
TEST(CryptoX25519, Rfc7748Section5_2) {
  auto scalar = PrivateKey::FromRawX25519(
      Hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"));
  auto u = PublicKey::FromRawX25519(
      Hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"));
  ASSERT_TRUE(scalar.has_value() && u.has_value());
  auto out = X25519(*scalar, *u);
  ASSERT_TRUE(out.has_value()) << out.error();
  EXPECT_EQ(ToHex(*out), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
}

// RFC 7748 §6.1: Alice and Bob derive the same K, and the public keys match the RFC.
TEST(CryptoX25519, Rfc7748Section6_1) {
  auto alice = PrivateKey::FromRawX25519(
      Hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  auto bob = PrivateKey::FromRawX25519(
      Hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  ASSERT_TRUE(alice.has_value() && bob.has_value());
  auto alice_public = alice->PublicKey();
  auto bob_public = bob->PublicKey();
  ASSERT_TRUE(alice_public.has_value() && bob_public.has_value());
  EXPECT_EQ(ToHex(*alice_public->RawPublic()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(ToHex(*bob_public->RawPublic()),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  auto k1 = X25519(*alice, *bob_public);
  auto k2 = X25519(*bob, *alice_public);
  ASSERT_TRUE(k1.has_value() && k2.has_value());
  EXPECT_EQ(ToHex(*k1), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(*k1, *k2);
}

TEST(CryptoX25519, LowOrderPeerGivesZeroSecretAndIsRefused) {
  auto own = PrivateKey::Generate(KeyType::kX25519);
  ASSERT_TRUE(own.has_value());
  for (const char* low_order :
       {"0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000"}) {
    auto peer = PublicKey::FromRawX25519(Hex(low_order));
    ASSERT_TRUE(peer.has_value());
    EXPECT_ERROR(X25519(*own, *peer), Code::kVerificationFailed,
                 "crypto.x25519.zero_shared_secret");
  }
}

TEST(CryptoX25519, WrongKeyTypes) {
  auto x = PrivateKey::Generate(KeyType::kX25519);
  auto ed = PrivateKey::Generate(KeyType::kEd25519);
  ASSERT_TRUE(x.has_value() && ed.has_value());
  EXPECT_ERROR(X25519(*ed, *x->PublicKey()), Code::kInvalidArgument, "crypto.key.wrong_type");
  EXPECT_ERROR(X25519(*x, *ed->PublicKey()), Code::kInvalidArgument, "crypto.key.wrong_type");
}

}  // namespace
}  // namespace lunal::crypto
