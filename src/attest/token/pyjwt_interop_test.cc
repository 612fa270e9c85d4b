// Interoperability: tokens from Issuer, with the KeyRing's JWKS, validated by PyJWT (Debian's
// python3-jwt with python3-cryptography), an independent JWT implementation, through
// testdata/pyjwt_validate.py. Tampered tokens must fail there too.
#include <gtest/gtest.h>

#include "lunal/attest/token/token.h"
#include "lunal/common/encoding.h"
#include "lunal/testing/testing.h"
#include "token_testing.h"

namespace lunal::attest::token {
namespace {

using std::chrono::minutes;
using testing::Join;
using testing::Part;
using testing::Parts;
using testing::SampleLunalClaims;

constexpr std::string_view kIss = "https://attest.test";

// The first Python that can import PyJWT and cryptography: Debian's own first (a pyenv or venv
// python3 earlier in PATH may lack Debian's dist-packages).
std::optional<std::string> PythonWithPyJwt() {
  for (const char* python : {"/usr/bin/python3", "python3"}) {
    if (std::string_view(python).starts_with("/") && !std::filesystem::exists(python)) continue;
    if (!std::string_view(python).starts_with("/") && !lunal::testing::HaveProgram(python))
      continue;
    auto r = lunal::testing::RunProcess({python, "-c", "import jwt, cryptography"});
    if (r.exit_code == 0) return std::string(python);
  }
  return std::nullopt;
}

class PyJwtInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    python_ = PythonWithPyJwt();
    if (!python_) {
      GTEST_SKIP() << "PyJWT is not importable: install Debian's python3-jwt and "
                      "python3-cryptography (scripts/install-deps.sh)";
    }
  }

  // Runs PyJWT on `token` with `jwks`; returns the process result.
  lunal::testing::ProcessResult PyJwt(const std::string& token, const Json& jwks) {
    lunal::testing::WriteFile(dir_ / "jwks.json", jwks.dump());
    lunal::testing::WriteFile(dir_ / "token", token);
    return lunal::testing::RunProcess(
        {*python_,
         (lunal::testing::SourceDir() / "src/attest/token/testdata/pyjwt_validate.py").string(),
         (dir_ / "jwks.json").string(), (dir_ / "token").string(), std::string(kIss)});
  }
  void ExpectRefused(const std::string& token, const Json& jwks, std::string_view error) {
    auto r = PyJwt(token, jwks);
    EXPECT_EQ(r.exit_code, 1) << "PyJWT accepted a bad token: " << r.out << r.err;
    EXPECT_NE(r.err.find(error), std::string::npos) << r.err;
  }

  std::optional<std::string> python_;
  lunal::testing::TempDir dir_;
  // PyJWT checks exp/nbf/iat against the real clock, so the injected clock starts at real now.
  const Timestamp real_now_ = SystemClock::Instance().Now();
};

TEST_F(PyJwtInteropTest, PyJwtValidatesTheTokenAndReadsItsClaims) {
  FakeClock clock(real_now_);
  std::shared_ptr<KeyRing> ring(std::move(*KeyRing::Open({}, clock.Now())));
  Issuer issuer(ring, clock, {.issuer = std::string(kIss), .lifetime = minutes(5)});
  auto token = issuer.Issue(SampleLunalClaims(), "a1b2c3");
  ASSERT_TRUE(token.ok()) << token.error();
  auto r = PyJwt(*token, issuer.Jwks());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json claims = Json::parse(r.out);
  EXPECT_EQ(claims["lunal"], SampleLunalClaims());
  EXPECT_EQ(claims["iss"], kIss);
  EXPECT_EQ(claims["nonce"], "a1b2c3");
  EXPECT_EQ(claims["iat"], ToUnixSeconds(real_now_));
  EXPECT_EQ(claims["exp"].get<std::int64_t>() - claims["iat"].get<std::int64_t>(), 300);
  EXPECT_EQ(claims["jti"].get<std::string>().size(), 22u);  // 16 bytes, base64url
}

TEST_F(PyJwtInteropTest, TamperedTokensFailInPyJwt) {
  FakeClock clock(real_now_ - std::chrono::hours(1));
  std::shared_ptr<KeyRing> ring(std::move(*KeyRing::Open({}, clock.Now())));
  Issuer issuer(ring, clock, {.issuer = std::string(kIss), .lifetime = minutes(5)});
  // Key A signs an hour ago (its token expired 55 minutes ago), then B becomes current.
  const std::string old_kid = ring->CurrentKid();
  const std::string old_token = *issuer.Issue(SampleLunalClaims());
  const Json old_jwks = issuer.Jwks();
  clock.Set(real_now_ - minutes(50));
  ASSERT_TRUE(issuer.Rotate().ok());
  clock.Set(real_now_);
  const Json jwks = issuer.Jwks();
  ASSERT_EQ(jwks["keys"].size(), 1u) << "A is no longer published";
  const std::string token = *issuer.Issue(SampleLunalClaims(), "nonce");
  ASSERT_EQ(PyJwt(token, jwks).exit_code, 0) << PyJwt(token, jwks).err;

  const std::string header = ToString(*Base64UrlDecode(Part(token, 0)));
  const std::string payload = ToString(*Base64UrlDecode(Part(token, 1)));
  // A payload byte flipped (the JSON stays valid: one letter of the issuer changes).
  std::string edited = payload;
  const std::size_t at = edited.find("attest.test");
  ASSERT_NE(at, std::string::npos);
  edited[at] ^= 0x01;
  ExpectRefused(Join(header, edited, Part(token, 2)), jwks, "InvalidSignatureError");
  // A signature byte flipped.
  Bytes sig = *Base64UrlDecode(Part(token, 2));
  sig[17] ^= 0x80;
  ExpectRefused(Part(token, 0) + "." + Part(token, 1) + "." + Base64UrlEncode(sig), jwks,
                "InvalidSignatureError");
  // alg changed to none, with the signature kept or dropped.
  Json none = Json::parse(header);
  none["alg"] = "none";
  ExpectRefused(Join(none.dump(), payload, Part(token, 2)), jwks, "InvalidAlgorithmError");
  ExpectRefused(Join(none.dump(), payload, ""), jwks, "InvalidAlgorithmError");
  // kid swapped to the previous key, which is no longer published.
  Json swapped = Json::parse(header);
  swapped["kid"] = old_kid;
  ExpectRefused(Join(swapped.dump(), payload, Part(token, 2)), jwks, "KeyError");
  // A's own token: its key is gone from the JWKS; with the JWKS of its time, it has expired.
  ExpectRefused(old_token, jwks, "KeyError");
  ExpectRefused(old_token, old_jwks, "ExpiredSignatureError");
  // Our own Validate agrees on every one of them.
  EXPECT_EQ(Validate(Join(swapped.dump(), payload, Part(token, 2)), jwks, real_now_, kIss)
                .error()
                .reason(),
            "token.kid_unknown");
  EXPECT_TRUE(Validate(token, jwks, real_now_, kIss).ok());
}

TEST_F(PyJwtInteropTest, DuringRotationPyJwtValidatesTokensOfBothKeys) {
  FakeClock clock(real_now_);
  std::shared_ptr<KeyRing> ring(std::move(*KeyRing::Open({}, clock.Now())));
  Issuer issuer(ring, clock, {.issuer = std::string(kIss), .lifetime = minutes(5)});
  const std::string by_a = *issuer.Issue(SampleLunalClaims());
  ASSERT_TRUE(issuer.Rotate().ok());
  const std::string by_b = *issuer.Issue(SampleLunalClaims());
  const Json jwks = issuer.Jwks();
  ASSERT_EQ(jwks["keys"].size(), 2u);
  EXPECT_NE(Json::parse(ToString(*Base64UrlDecode(Part(by_a, 0))))["kid"],
            Json::parse(ToString(*Base64UrlDecode(Part(by_b, 0))))["kid"]);
  for (const std::string& t : {by_a, by_b}) {
    auto r = PyJwt(t, jwks);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
}

}  // namespace
}  // namespace lunal::attest::token
