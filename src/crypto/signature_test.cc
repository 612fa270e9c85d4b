#include "lunal/crypto/signature.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <memory>

#include "lunal/crypto/x509.h"
#include "test_support.h"

namespace lunal::crypto {
namespace {

using testing::Evidence;
using testing::Hex;
using testing::ReadText;
using testing::ToHex;

const Bytes kMessage = ToBytes("lunal/report-data/v1");

struct EcCase {
  KeyType type;
  DigestAlgorithm digest;
  std::size_t scalar;
};

class CryptoEcdsa : public ::testing::TestWithParam<EcCase> {};

TEST_P(CryptoEcdsa, RawAndDerRoundTrip) {
  const EcCase c = GetParam();
  auto key = PrivateKey::Generate(c.type);
  ASSERT_TRUE(key.has_value());
  auto pub = key->PublicKey();
  ASSERT_TRUE(pub.has_value());

  auto raw = SignEcdsaRaw(*key, c.digest, kMessage);
  ASSERT_TRUE(raw.has_value()) << raw.error();
  ASSERT_EQ(raw->size(), 2 * c.scalar);
  EXPECT_OK(VerifyEcdsaRaw(*pub, c.digest, kMessage, *raw));

  auto der = SignEcdsaDer(*key, c.digest, kMessage);
  ASSERT_TRUE(der.has_value()) << der.error();
  EXPECT_EQ((*der)[0], 0x30);  // SEQUENCE
  EXPECT_OK(VerifyEcdsaDer(*pub, c.digest, kMessage, *der));

  // Every flipped signature byte, a changed message, another digest and another key all fail.
  for (std::size_t i = 0; i < raw->size(); ++i) {
    Bytes bad = *raw;
    bad[i] ^= 0x01;
    EXPECT_ERROR(VerifyEcdsaRaw(*pub, c.digest, kMessage, bad), Code::kVerificationFailed,
                 "crypto.signature.invalid");
  }
  Bytes other_message = kMessage;
  other_message.back() ^= 1;
  EXPECT_ERROR(VerifyEcdsaRaw(*pub, c.digest, other_message, *raw), Code::kVerificationFailed,
               "crypto.signature.invalid");
  EXPECT_ERROR(VerifyEcdsaDer(*pub, DigestAlgorithm::kSha512, kMessage, *der),
               Code::kVerificationFailed, "crypto.signature.invalid");
  auto other = PrivateKey::Generate(c.type)->PublicKey();
  EXPECT_ERROR(VerifyEcdsaRaw(*other, c.digest, kMessage, *raw), Code::kVerificationFailed,
               "crypto.signature.invalid");
  // DER garbage and a trailing byte are refused by OpenSSL's strict DER check.
  Bytes trailing = *der;
  trailing.push_back(0);
  EXPECT_ERROR(VerifyEcdsaDer(*pub, c.digest, kMessage, trailing), Code::kVerificationFailed,
               "crypto.signature.invalid");
  EXPECT_ERROR(VerifyEcdsaDer(*pub, c.digest, kMessage, *raw), Code::kVerificationFailed,
               "crypto.signature.invalid");
  // r = 0 or s = 0 never verifies.
  Bytes zero_r = *raw;
  std::fill(zero_r.begin(), zero_r.begin() + static_cast<std::ptrdiff_t>(c.scalar), 0);
  EXPECT_ERROR(VerifyEcdsaRaw(*pub, c.digest, kMessage, zero_r), Code::kVerificationFailed,
               "crypto.signature.invalid");
}

TEST_P(CryptoEcdsa, LengthsAndKeyTypes) {
  const EcCase c = GetParam();
  auto key = PrivateKey::Generate(c.type);
  auto pub = key->PublicKey();
  auto raw = SignEcdsaRaw(*key, c.digest, kMessage);
  ASSERT_TRUE(raw.has_value());
  EXPECT_ERROR(VerifyEcdsaRaw(*pub, c.digest, kMessage, ByteSpan(*raw).first(raw->size() - 1)),
               Code::kMalformed, "crypto.ecdsa.bad_signature_length");
  Bytes longer = *raw;
  longer.push_back(0);
  EXPECT_ERROR(VerifyEcdsaRaw(*pub, c.digest, kMessage, longer), Code::kMalformed,
               "crypto.ecdsa.bad_signature_length");
  EXPECT_ERROR(VerifyEcdsaRaw(*pub, c.digest, kMessage, {}), Code::kMalformed,
               "crypto.ecdsa.bad_signature_length");
  auto ed = PrivateKey::Generate(KeyType::kEd25519);
  EXPECT_ERROR(VerifyEcdsaRaw(*ed->PublicKey(), c.digest, kMessage, *raw), Code::kInvalidArgument,
               "crypto.key.wrong_type");
  EXPECT_ERROR(SignEcdsaRaw(*ed, c.digest, kMessage), Code::kInvalidArgument,
               "crypto.key.wrong_type");
  EXPECT_ERROR(VerifyEd25519(*pub, kMessage, Bytes(64)), Code::kInvalidArgument,
               "crypto.key.wrong_type");
}

TEST_P(CryptoEcdsa, LittleEndianPaddedFields) {
  const EcCase c = GetParam();
  auto key = PrivateKey::Generate(c.type);
  auto pub = key->PublicKey();
  Bytes raw = *SignEcdsaRaw(*key, c.digest, kMessage);
  // SEV-SNP signature layout: r and s as 72-byte little-endian fields.
  Bytes r(72, 0);
  Bytes s(72, 0);
  std::reverse_copy(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(c.scalar), r.begin());
  std::reverse_copy(raw.begin() + static_cast<std::ptrdiff_t>(c.scalar), raw.end(), s.begin());
  EXPECT_OK(VerifyEcdsaRawLittleEndian(*pub, c.digest, kMessage, r, s));
  EXPECT_OK(VerifyEcdsaRawLittleEndian(*pub, c.digest, kMessage, ByteSpan(r).first(c.scalar),
                                       ByteSpan(s).first(c.scalar)));
  // Swapped r and s, a flipped byte, or set padding all fail.
  EXPECT_ERROR(VerifyEcdsaRawLittleEndian(*pub, c.digest, kMessage, s, r),
               Code::kVerificationFailed, "crypto.signature.invalid");
  Bytes flipped = r;
  flipped[0] ^= 1;
  EXPECT_ERROR(VerifyEcdsaRawLittleEndian(*pub, c.digest, kMessage, flipped, s),
               Code::kVerificationFailed, "crypto.signature.invalid");
  Bytes padded = s;
  padded[c.scalar] = 1;
  EXPECT_ERROR(VerifyEcdsaRawLittleEndian(*pub, c.digest, kMessage, r, padded), Code::kMalformed,
               "crypto.ecdsa.nonzero_padding");
  EXPECT_ERROR(
      VerifyEcdsaRawLittleEndian(*pub, c.digest, kMessage, ByteSpan(r).first(c.scalar - 1), s),
      Code::kMalformed, "crypto.ecdsa.bad_signature_length");
}

INSTANTIATE_TEST_SUITE_P(Curves, CryptoEcdsa,
                         ::testing::Values(EcCase{KeyType::kEcP256, DigestAlgorithm::kSha256, 32},
                                           EcCase{KeyType::kEcP384, DigestAlgorithm::kSha384, 48}),
                         [](const auto& param_info) {
                           return param_info.param.type == KeyType::kEcP256 ? "P256" : "P384";
                         });

// Real data: each AMD ASK certificate is signed by its ARK with RSASSA-PSS, SHA-384, salt 48.
TEST(CryptoRsa, AmdAskSignedByArkWithPss) {
  for (const char* product : {"milan", "genoa", "turin"}) {
    SCOPED_TRACE(product);
    auto ark =
        Certificate::FromPem(ReadText(Evidence(fmt::format("anchors/amd_{}_ark.pem", product))));
    auto ask =
        Certificate::FromPem(ReadText(Evidence(fmt::format("anchors/amd_{}_ask.pem", product))));
    ASSERT_TRUE(ark.has_value() && ask.has_value());
    auto ark_key = ark->PublicKey();
    ASSERT_TRUE(ark_key.has_value()) << ark_key.error();
    Bytes signature = ask->SignatureValue();
    ASSERT_EQ(signature.size(), 512u);
    EXPECT_OK(VerifyRsaPss(*ark_key, DigestAlgorithm::kSha384, ask->TbsDer(), signature, 48));
    // Wrong salt, digest, padding, a flipped bit, or the ASK's own key: all fail.
    EXPECT_ERROR(VerifyRsaPss(*ark_key, DigestAlgorithm::kSha384, ask->TbsDer(), signature, 32),
                 Code::kVerificationFailed, "crypto.signature.invalid");
    EXPECT_ERROR(VerifyRsaPss(*ark_key, DigestAlgorithm::kSha256, ask->TbsDer(), signature, 48),
                 Code::kVerificationFailed, "crypto.signature.invalid");
    EXPECT_ERROR(VerifyRsaPkcs1(*ark_key, DigestAlgorithm::kSha384, ask->TbsDer(), signature),
                 Code::kVerificationFailed, "crypto.signature.invalid");
    Bytes flipped = signature;
    flipped[100] ^= 0x10;
    EXPECT_ERROR(VerifyRsaPss(*ark_key, DigestAlgorithm::kSha384, ask->TbsDer(), flipped, 48),
                 Code::kVerificationFailed, "crypto.signature.invalid");
    EXPECT_ERROR(
        VerifyRsaPss(*ask->PublicKey(), DigestAlgorithm::kSha384, ask->TbsDer(), signature, 48),
        Code::kVerificationFailed, "crypto.signature.invalid");
    EXPECT_ERROR(VerifyRsaPss(*ark_key, DigestAlgorithm::kSha384, ask->TbsDer(),
                              ByteSpan(signature).first(511), 48),
                 Code::kMalformed, "crypto.rsa.bad_signature_length");
    EXPECT_ERROR(VerifyRsaPss(*ark_key, DigestAlgorithm::kSha384, ask->TbsDer(), signature, -1),
                 Code::kInvalidArgument, "crypto.rsa.bad_salt_length");
  }
}

// RSASSA-PKCS1-v1_5 against a key and signature made here with OpenSSL directly (the library
// itself has no RSA signing: Lunal only verifies RSA).
TEST(CryptoRsa, Pkcs1V15) {
  using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
  PkeyPtr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)),
              &EVP_PKEY_free);
  ASSERT_NE(rsa, nullptr);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  ASSERT_EQ(EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, rsa.get()), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING), 1);
  Bytes signature(256);
  size_t length = signature.size();
  ASSERT_EQ(EVP_DigestSign(ctx.get(), signature.data(), &length, kMessage.data(), kMessage.size()),
            1);
  ASSERT_EQ(length, 256u);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), rsa.get()), 1);
  char* pem_data = nullptr;
  long pem_length = BIO_get_mem_data(bio.get(), &pem_data);  // NOLINT(google-runtime-int)
  auto pub = PublicKey::FromPem(std::string_view(pem_data, static_cast<size_t>(pem_length)));
  ASSERT_TRUE(pub.has_value()) << pub.error();
  EXPECT_EQ(pub->Type(), KeyType::kRsa);

  EXPECT_OK(VerifyRsaPkcs1(*pub, DigestAlgorithm::kSha256, kMessage, signature));
  EXPECT_ERROR(VerifyRsaPkcs1(*pub, DigestAlgorithm::kSha384, kMessage, signature),
               Code::kVerificationFailed, "crypto.signature.invalid");
  EXPECT_ERROR(VerifyRsaPss(*pub, DigestAlgorithm::kSha256, kMessage, signature, 32),
               Code::kVerificationFailed, "crypto.signature.invalid");
  Bytes flipped = signature;
  flipped[255] ^= 1;
  EXPECT_ERROR(VerifyRsaPkcs1(*pub, DigestAlgorithm::kSha256, kMessage, flipped),
               Code::kVerificationFailed, "crypto.signature.invalid");
  auto ec = PrivateKey::Generate(KeyType::kEcP256)->PublicKey();
  EXPECT_ERROR(VerifyRsaPkcs1(*ec, DigestAlgorithm::kSha256, kMessage, signature),
               Code::kInvalidArgument, "crypto.key.wrong_type");
}

// RFC 8032 §7.1, tests 1 and 2.
TEST(CryptoEd25519, Rfc8032Vectors) {
  struct Vector {
    const char* secret;
    const char* public_key;
    const char* message;
    const char* signature;
  };
  const Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
       "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
       "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  };
  for (const Vector& v : vectors) {
    auto key = PrivateKey::FromRawEd25519(Hex(v.secret));
    ASSERT_TRUE(key.has_value());
    Bytes message = Hex(v.message);
    auto signature = SignEd25519(*key, message);
    ASSERT_TRUE(signature.has_value()) << signature.error();
    EXPECT_EQ(ToHex(*signature), v.signature);  // Ed25519 is deterministic
    auto pub = PublicKey::FromRawEd25519(Hex(v.public_key));
    ASSERT_TRUE(pub.has_value());
    EXPECT_OK(VerifyEd25519(*pub, message, *signature));
    Bytes flipped = *signature;
    flipped[63] ^= 0x01;
    EXPECT_ERROR(VerifyEd25519(*pub, message, flipped), Code::kVerificationFailed,
                 "crypto.signature.invalid");
    Bytes longer_message = message;
    longer_message.push_back(0);
    EXPECT_ERROR(VerifyEd25519(*pub, longer_message, *signature), Code::kVerificationFailed,
                 "crypto.signature.invalid");
    EXPECT_ERROR(VerifyEd25519(*pub, message, ByteSpan(*signature).first(63)), Code::kMalformed,
                 "crypto.ed25519.bad_signature_length");
  }
}

}  // namespace
}  // namespace lunal::crypto
