#include "lunal/crypto/keys.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "lunal/crypto/signature.h"
#include "lunal/crypto/x509.h"
#include "test_support.h"

namespace lunal::crypto {
namespace {

using testing::Evidence;
using testing::Hex;
using testing::ReadText;
using testing::ToHex;

// A throwaway P-384 key in the traditional RFC 5915 form, generated for this test with
// `openssl ecparam -genkey -name secp384r1 -noout`; its public point follows.
constexpr std::string_view kTraditionalEcPem = R"(-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDB2bBmY9tn0C+U5fKNxyptvSEUUtRVFRf2QhZ5Fl+8a+ICFcWI7QfbJ
uc4dIeLy+5WgBwYFK4EEACKhZANiAASqIr0YDNYeMWrsVCcdfo4JrRG3SR2+osFD
fNHDm+fEqBb2MWUNOun2lw1GMz0Q0RSATD+Ol8M3zg4M9e5t9vaMwAMW5ktnHTpU
7+/qBb5GkE6CrEjJRKYEm2O7sQj6AiI=
-----END EC PRIVATE KEY-----
)";
constexpr std::string_view kTraditionalEcPoint =
    "aa22bd180cd61e316aec54271d7e8e09ad11b7491dbea2c1437cd1c39be7c4a816f631650d3ae9f6970d46333d10"
    "d114804c3f8e97c337ce0e0cf5ee6df6f68cc00316e64b671d3a54efefea05be46904e82ac48c944a6049b63bbb1"
    "08fa0222";

// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-128-cbc -pass pass:test`
constexpr std::string_view kEncryptedPem = R"(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhZT3qAC38sTwICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEEyA4DkYTieIfEGbelrXxOIEgZCo
zRMGHb23KDDiCxsQytlblvRYlP6F1AlrnwOfSe87KR67tT0oq+h98zrrmUIgcNMn
bK2Nq+FMSTuZNA67HbrWEPeppc4z71uRclbLkpRY9ABVXFy0djARQF55npBo+eRJ
qRzltyAzoWxp2dp5RRXibrvXXJK5+kKNiJ1Enp6xkYZkH0k621eAwLo5fFzphC4=
-----END ENCRYPTED PRIVATE KEY-----
)";

TEST(CryptoKeys, GenerateAndRoundTripEveryType) {
  for (KeyType type : {KeyType::kEcP256, KeyType::kEcP384, KeyType::kEd25519, KeyType::kX25519}) {
    SCOPED_TRACE(KeyTypeName(type));
    auto key = PrivateKey::Generate(type);
    ASSERT_TRUE(key.has_value()) << key.error();
    EXPECT_EQ(key->Type(), type);
    auto pem = key->ToPkcs8Pem();
    ASSERT_TRUE(pem.has_value());
    EXPECT_TRUE(pem->starts_with("-----BEGIN PRIVATE KEY-----")) << *pem;
    auto reloaded = PrivateKey::FromPem(*pem);
    ASSERT_TRUE(reloaded.has_value()) << reloaded.error();
    auto pub = key->PublicKey();
    ASSERT_TRUE(pub.has_value()) << pub.error();
    EXPECT_EQ(pub->Type(), type);
    EXPECT_TRUE(*pub == *reloaded->PublicKey());
    auto spki = pub->ToSpkiDer();
    ASSERT_TRUE(spki.has_value());
    auto from_spki = PublicKey::FromSpkiDer(*spki);
    ASSERT_TRUE(from_spki.has_value()) << from_spki.error();
    EXPECT_TRUE(*from_spki == *pub);
    auto from_pem = PublicKey::FromPem(*pub->ToPem());
    ASSERT_TRUE(from_pem.has_value()) << from_pem.error();
    EXPECT_TRUE(*from_pem == *pub);
    EXPECT_TRUE(pub->Clone() == *pub);
    // A different key of the same type is not equal.
    EXPECT_FALSE(*PrivateKey::Generate(type)->PublicKey() == *pub);
  }
}

TEST(CryptoKeys, EcPointRoundTripAndCurveCheck) {
  for (auto [curve, type] :
       {std::pair{Curve::kP256, KeyType::kEcP256}, std::pair{Curve::kP384, KeyType::kEcP384}}) {
    auto key = PrivateKey::Generate(type);
    ASSERT_TRUE(key.has_value());
    auto point = key->PublicKey()->EcPoint();
    ASSERT_TRUE(point.has_value());
    ASSERT_EQ(point->size(), 2 * CoordinateSize(curve));
    auto imported = PublicKey::FromEcPoint(curve, *point);
    ASSERT_TRUE(imported.has_value()) << imported.error();
    EXPECT_TRUE(*imported == *key->PublicKey());
    EXPECT_EQ(imported->Bits(), curve == Curve::kP256 ? 256 : 384);

    Bytes off_curve = *point;
    off_curve.back() ^= 0x01;  // y no longer satisfies the curve equation
    EXPECT_ERROR(PublicKey::FromEcPoint(curve, off_curve), Code::kMalformed,
                 "crypto.ec.point_not_on_curve");
    EXPECT_ERROR(PublicKey::FromEcPoint(curve, Bytes(point->size(), 0)), Code::kMalformed,
                 "crypto.ec.point_not_on_curve");
    EXPECT_ERROR(PublicKey::FromEcPoint(curve, ByteSpan(*point).first(point->size() - 1)),
                 Code::kMalformed, "crypto.ec.bad_point_length");
    // The other curve's size is refused by length.
    EXPECT_ERROR(
        PublicKey::FromEcPoint(curve == Curve::kP256 ? Curve::kP384 : Curve::kP256, *point),
        Code::kMalformed, "crypto.ec.bad_point_length");
  }
}

TEST(CryptoKeys, EcPointLittleEndianPadded) {
  auto key = PrivateKey::Generate(KeyType::kEcP384);
  ASSERT_TRUE(key.has_value());
  Bytes point = *key->PublicKey()->EcPoint();
  // AMD SEV-SNP layout: 72-byte little-endian fields, zero above the 48 significant bytes.
  Bytes x(72, 0);
  Bytes y(72, 0);
  std::reverse_copy(point.begin(), point.begin() + 48, x.begin());
  std::reverse_copy(point.begin() + 48, point.end(), y.begin());
  auto imported = PublicKey::FromEcPointLittleEndian(Curve::kP384, x, y);
  ASSERT_TRUE(imported.has_value()) << imported.error();
  EXPECT_TRUE(*imported == *key->PublicKey());
  // Exactly the coordinate size is fine too.
  EXPECT_TRUE(
      PublicKey::FromEcPointLittleEndian(Curve::kP384, ByteSpan(x).first(48), ByteSpan(y).first(48))
          .has_value());
  Bytes dirty = y;
  dirty[71] = 1;
  EXPECT_ERROR(PublicKey::FromEcPointLittleEndian(Curve::kP384, x, dirty), Code::kMalformed,
               "crypto.ec.nonzero_padding");
  dirty = x;
  dirty[48] = 1;
  EXPECT_ERROR(PublicKey::FromEcPointLittleEndian(Curve::kP384, dirty, y), Code::kMalformed,
               "crypto.ec.nonzero_padding");
  EXPECT_ERROR(PublicKey::FromEcPointLittleEndian(Curve::kP384, ByteSpan(x).first(47), y),
               Code::kMalformed, "crypto.ec.bad_point_length");
}

TEST(CryptoKeys, TraditionalEcPemAndEncryptedPem) {
  auto key = PrivateKey::FromPem(kTraditionalEcPem);
  ASSERT_TRUE(key.has_value()) << key.error();
  EXPECT_EQ(key->Type(), KeyType::kEcP384);
  EXPECT_EQ(ToHex(*key->PublicKey()->EcPoint()), kTraditionalEcPoint);
  // Encrypted keys are refused without prompting for a passphrase.
  EXPECT_ERROR(PrivateKey::FromPem(kEncryptedPem), Code::kMalformed, "crypto.key.parse_failed");
  EXPECT_ERROR(PrivateKey::FromPem("not a key"), Code::kMalformed, "crypto.key.parse_failed");
  EXPECT_ERROR(PublicKey::FromPem(kTraditionalEcPem), Code::kMalformed, "crypto.key.parse_failed");
}

TEST(CryptoKeys, SpkiParsingIsStrict) {
  auto key = PrivateKey::Generate(KeyType::kEcP256);
  Bytes spki = *key->PublicKey()->ToSpkiDer();
  Bytes trailing = spki;
  trailing.push_back(0);
  EXPECT_ERROR(PublicKey::FromSpkiDer(trailing), Code::kMalformed, "crypto.key.parse_failed");
  EXPECT_ERROR(PublicKey::FromSpkiDer(ByteSpan(spki).first(spki.size() - 1)), Code::kMalformed,
               "crypto.key.parse_failed");
  EXPECT_ERROR(PublicKey::FromSpkiDer({}), Code::kMalformed, "crypto.key.parse_failed");
}

TEST(CryptoKeys, RawEd25519AndX25519) {
  // RFC 8032 §7.1 test 1 key pair.
  auto ed = PrivateKey::FromRawEd25519(
      Hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(ed.has_value());
  EXPECT_EQ(ToHex(*ed->PublicKey()->RawPublic()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  EXPECT_EQ(ToHex(*ed->RawPrivate()),
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  EXPECT_ERROR(PrivateKey::FromRawEd25519(Bytes(31)), Code::kMalformed,
               "crypto.key.bad_raw_length");
  EXPECT_ERROR(PublicKey::FromRawX25519(Bytes(33)), Code::kMalformed, "crypto.key.bad_raw_length");
  auto ec = PrivateKey::Generate(KeyType::kEcP256);
  EXPECT_ERROR(ec->PublicKey()->RawPublic(), Code::kInvalidArgument, "crypto.key.wrong_type");
  EXPECT_ERROR(ec->RawPrivate(), Code::kInvalidArgument, "crypto.key.wrong_type");
  EXPECT_ERROR(ed->PublicKey()->EcPoint(), Code::kInvalidArgument, "crypto.key.wrong_type");
  EXPECT_ERROR(PrivateKey::Generate(KeyType::kRsa), Code::kInvalidArgument,
               "crypto.key.wrong_type");
}

TEST(CryptoKeys, RsaFromModulusExponentMatchesAmdArk) {
  auto ark = Certificate::FromPem(ReadText(Evidence("anchors/amd_milan_ark.pem")));
  ASSERT_TRUE(ark.has_value()) << ark.error();
  auto ark_key = ark->PublicKey();
  ASSERT_TRUE(ark_key.has_value());
  EXPECT_EQ(ark_key->Type(), KeyType::kRsa);
  EXPECT_EQ(ark_key->Bits(), 4096);
  auto numbers = ark_key->RsaPublicNumbers();
  ASSERT_TRUE(numbers.has_value());
  EXPECT_EQ(numbers->n.size(), 512u);
  EXPECT_EQ(ToHex(numbers->e), "010001");
  auto rebuilt = PublicKey::FromRsaModulusExponent(numbers->n, numbers->e);
  ASSERT_TRUE(rebuilt.has_value()) << rebuilt.error();
  EXPECT_TRUE(*rebuilt == *ark_key);
  // Leading zero bytes do not change the number.
  Bytes padded_n = numbers->n;
  padded_n.insert(padded_n.begin(), 0);
  EXPECT_TRUE(PublicKey::FromRsaModulusExponent(padded_n, numbers->e).has_value());

  Bytes small_n(numbers->n.begin(), numbers->n.begin() + 128);  // 1024 bits
  small_n.back() |= 1;
  EXPECT_ERROR(PublicKey::FromRsaModulusExponent(small_n, numbers->e), Code::kUnsupported,
               "crypto.rsa.key_size");
  EXPECT_ERROR(PublicKey::FromRsaModulusExponent(numbers->n, Hex("010000")), Code::kMalformed,
               "crypto.rsa.bad_parameters");
  EXPECT_ERROR(PublicKey::FromRsaModulusExponent(numbers->n, Hex("01")), Code::kMalformed,
               "crypto.rsa.bad_parameters");
  EXPECT_ERROR(PublicKey::FromRsaModulusExponent({}, numbers->e), Code::kMalformed,
               "crypto.rsa.bad_parameters");
  EXPECT_ERROR(ark_key->EcPoint(), Code::kInvalidArgument, "crypto.key.wrong_type");
}

}  // namespace
}  // namespace lunal::crypto
