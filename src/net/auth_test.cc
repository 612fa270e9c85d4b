// Bearer tokens against a stored SHA-256 (auth.h).
#include "lunal/net/auth.h"

#include <gtest/gtest.h>

#include "lunal/common/bytes.h"
#include "lunal/crypto/digest.h"

namespace lunal::net {
namespace {

HttpRequest WithAuthorization(std::string value) {
  HttpRequest r;
  r.headers.emplace_back("Authorization", std::move(value));
  return r;
}

TEST(BearerTest, ExtractsTheTokenWithTheSchemeInAnyCase) {
  EXPECT_EQ(BearerToken(WithAuthorization("Bearer lnl_abc")), "lnl_abc");
  EXPECT_EQ(BearerToken(WithAuthorization("bEARER lnl_abc")), "lnl_abc");
  EXPECT_EQ(BearerToken(WithAuthorization("Basic dXNlcjpwYXNz")), "");
  EXPECT_EQ(BearerToken(WithAuthorization("Bearer ")), "");
  EXPECT_EQ(BearerToken(WithAuthorization("Bearerlnl_abc")), "");
  EXPECT_EQ(BearerToken(HttpRequest{}), "");
}

TEST(BearerTest, MatchesOnlyTheTokenWhoseDigestIsStored) {
  const auto stored = crypto::Sha256(AsBytes(std::string_view("lnl_secret")));
  EXPECT_TRUE(BearerMatches(WithAuthorization("Bearer lnl_secret"), stored));
  EXPECT_FALSE(BearerMatches(WithAuthorization("Bearer lnl_secreT"), stored));
  EXPECT_FALSE(BearerMatches(WithAuthorization("Bearer lnl_secret2"), stored));
  EXPECT_FALSE(BearerMatches(WithAuthorization("Basic lnl_secret"), stored));
  EXPECT_FALSE(BearerMatches(HttpRequest{}, stored));
  // An empty token never matches, even when the stored digest is that of "".
  EXPECT_FALSE(BearerMatches(WithAuthorization("Bearer "), crypto::Sha256(AsBytes(""))));
}

TEST(BearerAuthorizerTest, AdmitsOnlyTheTokenAndRefusesWithTheGivenReason) {
  auto authorize = BearerAuthorizer("lnl_secret", "svc.auth.unauthenticated", "svc.bad_option");
  ASSERT_TRUE(authorize.ok()) << authorize.error();
  EXPECT_TRUE((*authorize)(WithAuthorization("Bearer lnl_secret")).ok());
  for (const char* header : {"Bearer lnl_secreT", "Basic lnl_secret", "Bearer "}) {
    Status refused = (*authorize)(WithAuthorization(header));
    EXPECT_EQ(refused.code(), Code::kUnauthenticated) << header;
    EXPECT_EQ(refused.reason(), "svc.auth.unauthenticated") << header;
  }
  EXPECT_EQ((*authorize)(HttpRequest{}).reason(), "svc.auth.unauthenticated");

  auto empty = BearerAuthorizer("", "svc.auth.unauthenticated", "svc.bad_option");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(empty.error().reason(), "svc.bad_option");
}

}  // namespace
}  // namespace lunal::net
