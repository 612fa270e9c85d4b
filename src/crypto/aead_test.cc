#include "lunal/crypto/aead.h"

#include <gtest/gtest.h>

#include "lunal/crypto/random.h"
#include "test_support.h"

namespace lunal::crypto {
namespace {

using testing::Hex;
using testing::ToHex;

struct KnownAnswer {
  AeadAlgorithm algorithm;
  std::string key, nonce, aad, plaintext_hex, ciphertext, tag;
};

const std::string kSunscreen =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
    "sunscreen would be it.";

std::vector<KnownAnswer> KnownAnswers() {
  return {
      // RFC 8439 §2.8.2.
      {AeadAlgorithm::kChaCha20Poly1305,
       "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
       "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7", HexEncode(AsBytes(kSunscreen)),
       "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da"
       "92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad67594558"
       "5808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116",
       "1ae10b594f09e26a7e902ecbd0600691"},
      // The GCM specification (McGrew & Viega, as used to validate SP 800-38D), test case 16.
      {AeadAlgorithm::kAes256Gcm,
       "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
       "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
       "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
       "49a6b525b16aedf5aa0de657ba637b39",
       "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10"
       "56828838c5f61e6393ba7a0abcc9f662",
       "76fc6ece0f4e1768cddf8853bb2d551b"},
      // Same, test case 13: zero key and IV, nothing to encrypt.
      {AeadAlgorithm::kAes256Gcm, std::string(64, '0'), std::string(24, '0'), "", "", "",
       "530f8afbc74536b9a963b4f1c4cb738b"},
  };
}

TEST(CryptoAead, KnownAnswers) {
  for (const KnownAnswer& v : KnownAnswers()) {
    SCOPED_TRACE(AeadAlgorithmName(v.algorithm));
    auto sealed = AeadSeal(v.algorithm, Hex(v.key), Hex(v.nonce), Hex(v.plaintext_hex), Hex(v.aad));
    ASSERT_TRUE(sealed.has_value()) << sealed.error();
    EXPECT_EQ(ToHex(*sealed), v.ciphertext + v.tag);
    auto opened = AeadOpen(v.algorithm, Hex(v.key), Hex(v.nonce), *sealed, Hex(v.aad));
    ASSERT_TRUE(opened.has_value()) << opened.error();
    EXPECT_EQ(ToHex(*opened), v.plaintext_hex);
  }
}

class CryptoAeadTamper : public ::testing::TestWithParam<AeadAlgorithm> {};

TEST_P(CryptoAeadTamper, EveryModificationFailsAuthentication) {
  const AeadAlgorithm algorithm = GetParam();
  Bytes key = RandomBytes(32);
  Bytes nonce = RandomBytes(12);
  Bytes aad = ToBytes("header");
  Bytes plaintext = ToBytes("attestation-gated secret");
  auto sealed = AeadSeal(algorithm, key, nonce, plaintext, aad);
  ASSERT_TRUE(sealed.has_value());
  ASSERT_EQ(sealed->size(), plaintext.size() + kAeadTagSize);
  // Flip every byte of ciphertext and tag in turn.
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    Bytes modified = *sealed;
    modified[i] ^= 0x01;
    EXPECT_ERROR(AeadOpen(algorithm, key, nonce, modified, aad), Code::kVerificationFailed,
                 "crypto.aead.auth_failed");
  }
  Bytes other_aad = aad;
  other_aad[0] ^= 0x80;
  EXPECT_ERROR(AeadOpen(algorithm, key, nonce, *sealed, other_aad), Code::kVerificationFailed,
               "crypto.aead.auth_failed");
  EXPECT_ERROR(AeadOpen(algorithm, key, nonce, *sealed, {}), Code::kVerificationFailed,
               "crypto.aead.auth_failed");
  Bytes other_nonce = nonce;
  other_nonce[11] ^= 1;
  EXPECT_ERROR(AeadOpen(algorithm, key, other_nonce, *sealed, aad), Code::kVerificationFailed,
               "crypto.aead.auth_failed");
  Bytes other_key = key;
  other_key[0] ^= 1;
  EXPECT_ERROR(AeadOpen(algorithm, other_key, nonce, *sealed, aad), Code::kVerificationFailed,
               "crypto.aead.auth_failed");
  // Dropping the last byte leaves a wrong tag; fewer than 16 bytes cannot even hold one.
  Bytes shortened(sealed->begin(), sealed->end() - 1);
  EXPECT_ERROR(AeadOpen(algorithm, key, nonce, shortened, aad), Code::kVerificationFailed,
               "crypto.aead.auth_failed");
  EXPECT_ERROR(AeadOpen(algorithm, key, nonce, Bytes(15), aad), Code::kMalformed,
               "crypto.aead.truncated");
  // And the untouched message opens.
  auto opened = AeadOpen(algorithm, key, nonce, *sealed, aad);
  ASSERT_TRUE(opened.has_value()) << opened.error();
  EXPECT_EQ(*opened, plaintext);
}

TEST_P(CryptoAeadTamper, ParameterLengths) {
  const AeadAlgorithm algorithm = GetParam();
  EXPECT_ERROR(AeadSeal(algorithm, Bytes(16), Bytes(12), {}, {}), Code::kInvalidArgument,
               "crypto.aead.bad_key_length");
  EXPECT_ERROR(AeadSeal(algorithm, Bytes(32), Bytes(16), {}, {}), Code::kInvalidArgument,
               "crypto.aead.bad_nonce_length");
  EXPECT_ERROR(AeadOpen(algorithm, Bytes(32), Bytes(8), Bytes(16), {}), Code::kInvalidArgument,
               "crypto.aead.bad_nonce_length");
  auto empty = AeadSeal(algorithm, Bytes(32), Bytes(12), {}, {});
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->size(), kAeadTagSize);
  auto opened = AeadOpen(algorithm, Bytes(32), Bytes(12), *empty, {});
  ASSERT_TRUE(opened.has_value()) << opened.error();
  EXPECT_TRUE(opened->empty());
}

INSTANTIATE_TEST_SUITE_P(Algorithms, CryptoAeadTamper,
                         ::testing::Values(AeadAlgorithm::kAes256Gcm,
                                           AeadAlgorithm::kChaCha20Poly1305),
                         [](const auto& param_info) {
                           return param_info.param == AeadAlgorithm::kAes256Gcm
                                      ? "Aes256Gcm"
                                      : "ChaCha20Poly1305";
                         });

TEST(CryptoRandom, BytesDifferAndFillCoversBuffer) {
  Bytes a = RandomBytes(32);
  Bytes b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  Bytes zeros(64, 0);
  RandomFill(zeros);
  EXPECT_NE(zeros, Bytes(64, 0));
  SecureZero(zeros);
  EXPECT_EQ(zeros, Bytes(64, 0));
  EXPECT_TRUE(RandomBytes(0).empty());
}

}  // namespace
}  // namespace lunal::crypto
