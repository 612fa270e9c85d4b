// Issue and Validate: the token's exact shape, then every rejection of Validate.
#include "lunal/attest/token/token.h"

#include <gtest/gtest.h>

#include "lunal/attest/token/jwk.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/signature.h"
#include "token_testing.h"

namespace lunal::attest::token {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using testing::Join;
using testing::Part;
using testing::Parts;
using testing::SampleLunalClaims;

const Timestamp kT0 = *ParseRfc3339("2026-05-01T10:00:00Z");
constexpr std::string_view kIss = "https://attest.test";

class TokenTest : public ::testing::Test {
 protected:
  TokenTest()
      : clock_(kT0),
        ring_(std::shared_ptr<KeyRing>(std::move(*KeyRing::Open({}, kT0)))),
        issuer_(ring_, clock_, {.issuer = std::string(kIss), .lifetime = minutes(5)}) {}

  Result<ValidatedToken> Check(std::string_view token, ValidateOptions options = {}) {
    return Validate(token, issuer_.Jwks(), clock_.Now(), kIss, options);
  }
  std::string Reason(std::string_view token) {
    auto r = Check(token);
    return r.ok() ? "ok" : r.error().reason();
  }

  FakeClock clock_;
  std::shared_ptr<KeyRing> ring_;
  Issuer issuer_;
};

TEST_F(TokenTest, IssuesTheDocumentedShape) {
  auto token = issuer_.Issue(SampleLunalClaims(), "6e6f6e6365");
  ASSERT_TRUE(token.ok()) << token.error();
  const auto parts = Parts(*token);
  ASSERT_EQ(parts.size(), 3u);
  // Header: canonical JSON, exactly these three members.
  EXPECT_EQ(ToString(*Base64UrlDecode(parts[0])),
            "{\"alg\":\"ES256\",\"kid\":\"" + ring_->CurrentKid() + "\",\"typ\":\"JWT\"}");
  Json claims = Json::parse(ToString(*Base64UrlDecode(parts[1])));
  EXPECT_EQ(claims["iss"], kIss);
  EXPECT_EQ(claims["iat"], ToUnixSeconds(kT0));
  EXPECT_EQ(claims["nbf"], ToUnixSeconds(kT0));
  EXPECT_EQ(claims["exp"], ToUnixSeconds(kT0) + 300);
  EXPECT_EQ(claims["nonce"], "6e6f6e6365");
  EXPECT_EQ(claims["lunal"], SampleLunalClaims());
  EXPECT_EQ(Base64UrlDecode(claims["jti"].get<std::string>())->size(), 16u);
  EXPECT_NE(claims["jti"], Json::parse(ToString(*Base64UrlDecode(
                               Parts(*issuer_.Issue(SampleLunalClaims()))[1])))["jti"]);
  // The signature is raw r ‖ s over "header.payload", verifiable with the published key.
  Bytes sig = *Base64UrlDecode(parts[2]);
  ASSERT_EQ(sig.size(), 64u);
  auto key = PublicKeyFromJwk(issuer_.Jwks()["keys"][0]);
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(crypto::VerifyEcdsaRaw(*key, crypto::DigestAlgorithm::kSha256,
                                     AsBytes(parts[0] + "." + parts[1]), sig)
                  .ok());
  // Without a nonce there is no nonce claim.
  Json no_nonce =
      Json::parse(ToString(*Base64UrlDecode(Parts(*issuer_.Issue(SampleLunalClaims()))[1])));
  EXPECT_FALSE(no_nonce.contains("nonce"));
}

TEST_F(TokenTest, ValidatesItsOwnTokens) {
  auto token = issuer_.Issue(SampleLunalClaims(), "abc");
  ASSERT_TRUE(token.ok());
  auto v = Check(*token);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->claims["lunal"], SampleLunalClaims());
  EXPECT_EQ(v->kid, ring_->CurrentKid());
}

TEST_F(TokenTest, RefusesNonObjectClaims) {
  EXPECT_EQ(issuer_.Issue(Json::array()).error().reason(), "token.claims.not_object");
  EXPECT_EQ(issuer_.Issue(Json{{"x", 1.5}}).error().reason(), "json.float_not_canonical");
}

TEST_F(TokenTest, TimeChecksWithLeeway) {
  const std::string token = *issuer_.Issue(SampleLunalClaims());
  clock_.Set(kT0 + minutes(5) - seconds(1));
  EXPECT_EQ(Reason(token), "ok");
  clock_.Set(kT0 + minutes(5));
  EXPECT_TRUE(Check(token, {.leeway = seconds(30)}).ok());
  EXPECT_EQ(Check(token, {.leeway = seconds(0)}).error().reason(), "token.expired");
  clock_.Set(kT0 + minutes(5) + seconds(30));
  EXPECT_EQ(Check(token, {.leeway = seconds(30)}).error().reason(), "token.expired");
  // Before nbf (= iat): within the leeway accepted, beyond it refused.
  clock_.Set(kT0 - seconds(30));
  EXPECT_TRUE(Check(token, {.leeway = seconds(30)}).ok());
  clock_.Set(kT0 - seconds(31));
  EXPECT_EQ(Check(token, {.leeway = seconds(30)}).error().reason(), "token.not_yet_valid");
}

TEST_F(TokenTest, RefusesOtherIssuers) {
  const std::string token = *issuer_.Issue(SampleLunalClaims());
  auto r = Validate(token, issuer_.Jwks(), clock_.Now(), "https://other.test");
  EXPECT_EQ(r.error().reason(), "token.issuer_mismatch");
}

// Re-signs `header` + payload with the ring's current key: a token that is validly signed but
// says something Validate must refuse.
std::string Resigned(KeyRing& ring, const Json& header, const std::string& payload) {
  Json h = header;
  h.erase("kid");
  return ring.SignCompact(h, payload, kT0 + minutes(5), kT0)->compact;
}

TEST_F(TokenTest, RefusesEveryOtherAlgorithmAndHeaderTrick) {
  const std::string token = *issuer_.Issue(SampleLunalClaims());
  const std::string payload = ToString(*Base64UrlDecode(Part(token, 1)));
  Json header = Json::parse(ToString(*Base64UrlDecode(Part(token, 0))));

  // alg "none" with no signature, and with the original one.
  Json none = header;
  none["alg"] = "none";
  EXPECT_EQ(Reason(Join(none.dump(), payload, "")), "token.alg_not_allowed");
  EXPECT_EQ(Reason(Join(none.dump(), payload, Part(token, 2))), "token.alg_not_allowed");
  // HS256 keyed with the public JWK's bytes (the classic key-confusion attack).
  Json hs = header;
  hs["alg"] = "HS256";
  const std::string hs_input = Base64UrlEncode(AsBytes(hs.dump())) + "." + Part(token, 1);
  const auto mac = crypto::HmacSha256(AsBytes(issuer_.Jwks()["keys"][0].dump()), AsBytes(hs_input));
  EXPECT_EQ(Reason(hs_input + "." + Base64UrlEncode(mac)), "token.alg_not_allowed");
  for (const char* alg : {"es256", "ES384", "ES256 ", "RS256"}) {
    Json other = header;
    other["alg"] = alg;
    EXPECT_EQ(Reason(Resigned(*ring_, other, payload)), "token.alg_not_allowed") << alg;
  }
  Json no_alg = header;
  no_alg.erase("alg");
  EXPECT_EQ(Reason(Join(no_alg.dump(), payload, Part(token, 2))), "token.alg_not_allowed");
  // Validly signed, but with a critical extension or another type.
  Json crit = header;
  crit["crit"] = Json::array({"exp"});
  EXPECT_EQ(Reason(Resigned(*ring_, crit, payload)), "token.crit_unsupported");
  Json typ = header;
  typ["typ"] = "at+jwt";
  EXPECT_EQ(Reason(Resigned(*ring_, typ, payload)), "token.typ_not_jwt");
  // No kid / an unknown kid.
  Json no_kid = header;
  no_kid.erase("kid");
  EXPECT_EQ(Reason(Join(no_kid.dump(), payload, Part(token, 2))), "token.kid_missing");
  Json other_kid = header;
  other_kid["kid"] = std::string(43, 'A');
  EXPECT_EQ(Reason(Join(other_kid.dump(), payload, Part(token, 2))), "token.kid_unknown");
}

TEST_F(TokenTest, RefusesEveryFlippedByte) {
  const std::string token = *issuer_.Issue(SampleLunalClaims(), "n");
  const std::size_t dot2 = token.rfind('.');
  // Each byte of the decoded header, payload and signature, flipped in turn and re-encoded.
  for (int part = 0; part < 3; ++part) {
    Bytes bytes = *Base64UrlDecode(Part(token, part));
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      Bytes edited = bytes;
      edited[i] ^= 0x01;
      std::vector<std::string> p = Parts(token);
      p[static_cast<std::size_t>(part)] = Base64UrlEncode(edited);
      const std::string tampered = p[0] + "." + p[1] + "." + p[2];
      auto r = Check(tampered);
      ASSERT_FALSE(r.ok()) << "part " << part << " byte " << i;
      EXPECT_EQ(r.error().code(), Code::kVerificationFailed) << r.error();
    }
  }
  std::string other_signature = token;
  other_signature[dot2 + 1] = other_signature[dot2 + 1] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Reason(other_signature), "token.signature_invalid");
}

TEST_F(TokenTest, RefusesMalformedTokens) {
  const std::string token = *issuer_.Issue(SampleLunalClaims());
  EXPECT_EQ(Reason(""), "token.malformed");
  EXPECT_EQ(Reason("a.b"), "token.malformed");
  EXPECT_EQ(Reason(token + ".x"), "token.malformed");
  EXPECT_EQ(Reason(token + "="), "token.malformed");  // padding is not base64url in JWS
  EXPECT_EQ(Reason("e30." + Part(token, 1) + "." + Part(token, 2)), "token.alg_not_allowed");
  EXPECT_EQ(Check(token, {.leeway = seconds(30), .max_token_size = 100}).error().reason(),
            "token.too_large");
  EXPECT_EQ(Validate(token, Json::array(), kT0, kIss).error().reason(), "token.jwks.malformed");
}

TEST_F(TokenTest, RefusesClaimsWithoutExpOrWithFloatTimes) {
  Json header = {{"alg", "ES256"}, {"typ", "JWT"}};
  EXPECT_EQ(Reason(Resigned(*ring_, header, R"({"iss":"https://attest.test"})")),
            "token.claims.malformed");
  EXPECT_EQ(Reason(Resigned(*ring_, header, R"({"exp":1777630000.5,"iss":"https://attest.test"})")),
            "token.claims.malformed");
  EXPECT_EQ(Reason(Resigned(*ring_, header, "[1]")), "token.malformed");
}

}  // namespace
}  // namespace lunal::attest::token
