// JWKs and RFC 7638 thumbprints of P-256 keys.
#include "lunal/attest/token/jwk.h"

#include <gtest/gtest.h>

#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"

namespace lunal::attest::token {
namespace {

crypto::PublicKey NewPublicKey(crypto::KeyType type = crypto::KeyType::kEcP256) {
  auto key = crypto::PrivateKey::Generate(type);
  EXPECT_TRUE(key.ok());
  return *key->PublicKey();
}

TEST(JwkTest, PublicJwkHasExactlyTheRequiredMembers) {
  crypto::PublicKey key = NewPublicKey();
  auto jwk = PublicJwk(key);
  ASSERT_TRUE(jwk.ok()) << jwk.error();
  EXPECT_EQ(jwk->size(), 4u);
  EXPECT_EQ((*jwk)["kty"], "EC");
  EXPECT_EQ((*jwk)["crv"], "P-256");
  Bytes xy = *key.EcPoint();
  EXPECT_EQ((*jwk)["x"], Base64UrlEncode(ByteSpan(xy).first(32)));
  EXPECT_EQ((*jwk)["y"], Base64UrlEncode(ByteSpan(xy).subspan(32)));
  auto back = PublicKeyFromJwk(*jwk);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(*back == key);
}

TEST(JwkTest, ThumbprintIsSha256OfTheCanonicalRequiredMembers) {
  crypto::PublicKey key = NewPublicKey();
  Json jwk = *PublicJwk(key);
  // RFC 7638 §3.3's construction, spelled out by hand: the members in lexicographic order.
  const std::string canonical = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" +
                                jwk["x"].get<std::string>() + "\",\"y\":\"" +
                                jwk["y"].get<std::string>() + "\"}";
  auto kid = JwkThumbprint(key);
  ASSERT_TRUE(kid.ok()) << kid.error();
  EXPECT_EQ(*kid, Base64UrlEncode(crypto::Sha256(AsBytes(canonical))));
  EXPECT_EQ(kid->size(), 43u);
  EXPECT_NE(*kid, *JwkThumbprint(NewPublicKey()));
}

TEST(JwkTest, RefusesOtherKeysAndBadJwks) {
  EXPECT_EQ(PublicJwk(NewPublicKey(crypto::KeyType::kEcP384)).error().reason(),
            "token.jwk.wrong_key_type");
  Json good = *PublicJwk(NewPublicKey());
  for (auto edit : std::vector<std::function<void(Json&)>>{
           [](Json& j) { j["crv"] = "P-384"; },
           [](Json& j) { j["kty"] = "RSA"; },
           [](Json& j) { j.erase("y"); },
           [](Json& j) { j["x"] = j["x"].get<std::string>() + "="; },  // padding
           [](Json& j) { j["x"] = Base64UrlEncode(Bytes(31, 1)); },
       }) {
    Json bad = good;
    edit(bad);
    auto key = PublicKeyFromJwk(bad);
    ASSERT_FALSE(key.ok()) << bad.dump();
    EXPECT_EQ(key.error().reason(), "token.jwk.malformed") << bad.dump();
  }
  Json off_curve = good;
  off_curve["y"] = Base64UrlEncode(Bytes(32, 7));
  EXPECT_FALSE(PublicKeyFromJwk(off_curve).ok());
}

}  // namespace
}  // namespace lunal::attest::token
