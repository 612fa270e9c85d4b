// KeyRing: rotation over an injected clock (a retired key stays published exactly while tokens it
// signed live) and persistence across a reload (same keys, same JWKS, file modes, tampering).
#include "lunal/attest/token/key_ring.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "lunal/attest/token/token.h"
#include "lunal/testing/testing.h"

namespace lunal::attest::token {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const Timestamp kT0 = *ParseRfc3339("2026-05-01T10:00:00Z");
constexpr std::string_view kIss = "https://attest.test";

std::vector<std::string> Kids(const Json& jwks) {
  std::vector<std::string> out;
  for (const Json& k : jwks["keys"]) out.push_back(k["kid"]);
  return out;
}

std::shared_ptr<KeyRing> OpenRing(const KeyRingOptions& options, Timestamp now) {
  auto ring = KeyRing::Open(options, now);
  EXPECT_TRUE(ring.ok()) << ring.error();
  return ring.ok() ? std::shared_ptr<KeyRing>(std::move(*ring)) : nullptr;
}

unsigned Mode(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(KeyRingTest, RotationKeepsThePreviousKeyPublishedUntilItsLastTokenExpires) {
  FakeClock clock(kT0);
  auto ring = OpenRing({}, clock.Now());
  Issuer issuer(ring, clock, {.issuer = std::string(kIss), .lifetime = minutes(10)});
  const std::string a = ring->CurrentKid();
  EXPECT_EQ(Kids(issuer.Jwks()), std::vector<std::string>{a});

  // A signs at t0 and t0+2m: its last token expires at t0+12m.
  auto first = issuer.Issue(Json::object());
  clock.Advance(minutes(2));
  auto second = issuer.Issue(Json::object());
  ASSERT_TRUE(first.ok() && second.ok());
  clock.Advance(minutes(1));  // t0+3m
  ASSERT_TRUE(issuer.Rotate().ok());
  const std::string b = ring->CurrentKid();
  ASSERT_NE(a, b);
  EXPECT_EQ(Kids(issuer.Jwks()), (std::vector<std::string>{b, a}));
  auto keys = ring->Keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_TRUE(keys[0].current);
  EXPECT_EQ(keys[1].retired, kT0 + minutes(3));
  EXPECT_EQ(keys[1].last_exp, kT0 + minutes(12));

  // Tokens A signed still validate with the published JWKS while they live.
  clock.Set(kT0 + minutes(12) - seconds(1));
  EXPECT_EQ(Kids(issuer.Jwks()), (std::vector<std::string>{b, a}));
  EXPECT_TRUE(Validate(*second, issuer.Jwks(), clock.Now(), kIss, {.leeway = seconds(0)}).ok());
  // At its last exp, A is gone.
  clock.Set(kT0 + minutes(12));
  EXPECT_EQ(Kids(issuer.Jwks()), std::vector<std::string>{b});
  EXPECT_EQ(
      Validate(*second, issuer.Jwks(), clock.Now(), kIss, {.leeway = seconds(60)}).error().reason(),
      "token.kid_unknown");
  // The next rotation forgets A entirely; B signed nothing, so after it retires it is not
  // published at all.
  ASSERT_TRUE(issuer.Rotate().ok());
  const std::string c = ring->CurrentKid();
  EXPECT_EQ(Kids(issuer.Jwks()), std::vector<std::string>{c});
  EXPECT_EQ(ring->Keys().size(), 1u);
}

TEST(KeyRingTest, ATokenSignedAfterRotationStartsUsesTheNewKeyOnly) {
  FakeClock clock(kT0);
  auto ring = OpenRing({}, clock.Now());
  Issuer issuer(ring, clock, {.issuer = std::string(kIss), .lifetime = minutes(5)});
  ASSERT_TRUE(issuer.Rotate().ok());
  auto token = issuer.Issue(Json::object());
  ASSERT_TRUE(token.ok());
  auto v = Validate(*token, issuer.Jwks(), clock.Now(), kIss);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->kid, ring->CurrentKid());
  EXPECT_EQ(v->header["kid"], ring->CurrentKid());
}

TEST(KeyRingTest, RefusesTokensOutlivingItsBound) {
  FakeClock clock(kT0);
  auto ring = OpenRing({.dir = {}, .max_token_lifetime = minutes(10)}, clock.Now());
  Issuer issuer(ring, clock, {.issuer = std::string(kIss), .lifetime = minutes(11)});
  EXPECT_EQ(issuer.Issue(Json::object()).error().reason(), "token.keyring.lifetime_exceeded");
  EXPECT_EQ(KeyRing::Open({.dir = {}, .max_token_lifetime = seconds(0)}, kT0).error().reason(),
            "token.keyring.options");
}

TEST(KeyRingTest, PersistsAcrossAReload) {
  lunal::testing::TempDir tmp;
  const std::filesystem::path dir = tmp / "keys";
  const KeyRingOptions options{.dir = dir, .max_token_lifetime = minutes(30)};
  FakeClock clock(kT0);
  std::string a, b, token_a;
  Json jwks_before;
  {
    auto ring = OpenRing(options, clock.Now());
    Issuer issuer(ring, clock, {.issuer = std::string(kIss), .lifetime = minutes(10)});
    a = ring->CurrentKid();
    token_a = *issuer.Issue(Json{{"n", 1}});
    clock.Advance(minutes(1));
    ASSERT_TRUE(issuer.Rotate().ok());
    b = ring->CurrentKid();
    jwks_before = issuer.Jwks();
  }
  EXPECT_EQ(Mode(dir), 0700u);
  EXPECT_EQ(Mode(dir / "keyring.json"), 0600u);
  EXPECT_EQ(Mode(dir / (a + ".pem")), 0600u);
  EXPECT_EQ(Mode(dir / (b + ".pem")), 0600u);
  const std::string pem = lunal::testing::ReadFileText(dir / (b + ".pem"));
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);  // PKCS#8
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().string().find(".tmp-"), std::string::npos) << entry.path();
  }

  clock.Advance(minutes(1));
  auto ring = OpenRing(options, clock.Now());
  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(ring->CurrentKid(), b);
  EXPECT_EQ(ring->Jwks(clock.Now()), jwks_before);
  // A's last exp was written when it retired: still exactly t0+10m.
  auto keys = ring->Keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[1].kid, a);
  EXPECT_EQ(keys[1].last_exp, kT0 + minutes(10));
  // B's tokens before the restart are unknown: it is bounded by reload time + max lifetime.
  EXPECT_EQ(keys[0].last_exp, clock.Now() + minutes(30));
  EXPECT_TRUE(Validate(token_a, ring->Jwks(clock.Now()), clock.Now(), kIss).ok());

  // The reloaded ring signs with B, and a token validates against the first ring's JWKS.
  Issuer issuer(ring, clock, {.issuer = std::string(kIss), .lifetime = minutes(10)});
  auto token_b = issuer.Issue(Json::object());
  ASSERT_TRUE(token_b.ok());
  auto v = Validate(*token_b, jwks_before, clock.Now(), kIss);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->kid, b);

  // Rotating after the restart keeps B published past its pre-restart tokens, and deletes A's
  // file once A's tokens have expired.
  clock.Set(kT0 + minutes(11));
  ASSERT_TRUE(ring->Rotate(clock.Now()).ok());
  EXPECT_FALSE(std::filesystem::exists(dir / (a + ".pem")));
  EXPECT_EQ(Kids(ring->Jwks(kT0 + minutes(2) + minutes(30) - seconds(1))).size(), 2u);
}

TEST(KeyRingTest, RefusesReadableOrForeignKeyFiles) {
  lunal::testing::TempDir tmp;
  const KeyRingOptions options{.dir = tmp / "keys", .max_token_lifetime = minutes(30)};
  std::string kid;
  {
    auto ring = OpenRing(options, kT0);
    kid = ring->CurrentKid();
  }
  const auto pem_path = options.dir / (kid + ".pem");
  ASSERT_EQ(::chmod(pem_path.c_str(), 0640), 0);
  auto opened = KeyRing::Open(options, kT0);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().reason(), "token.keyring.insecure_permissions");
  EXPECT_EQ(opened.error().code(), Code::kPermissionDenied);
  ASSERT_EQ(::chmod(pem_path.c_str(), 0600), 0);
  ASSERT_TRUE(KeyRing::Open(options, kT0).ok());

  // Another key under this kid's name.
  auto other = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  ASSERT_TRUE(other.ok());
  std::filesystem::remove(pem_path);
  lunal::testing::WriteFile(pem_path, *other->ToPkcs8Pem());
  ASSERT_EQ(::chmod(pem_path.c_str(), 0600), 0);
  EXPECT_EQ(KeyRing::Open(options, kT0).error().reason(), "token.keyring.kid_mismatch");

  // A manifest naming a path instead of a thumbprint.
  const auto manifest = options.dir / "keyring.json";
  std::filesystem::remove(manifest);
  lunal::testing::WriteFile(
      manifest,
      R"({"version":1,"current":"../x","keys":[{"kid":"../x","created":"2026-05-01T10:00:00Z"}]})");
  ASSERT_EQ(::chmod(manifest.c_str(), 0600), 0);
  EXPECT_EQ(KeyRing::Open(options, kT0).error().reason(), "token.keyring.malformed");
}

}  // namespace
}  // namespace lunal::attest::token
