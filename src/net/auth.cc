#include "lunal/net/auth.h"

#include "lunal/common/bytes.h"
#include "lunal/crypto/digest.h"

namespace lunal::net {

std::string_view BearerToken(const HttpRequest& request) {
  constexpr std::string_view kScheme = "Bearer ";
  const auto header = request.Header("Authorization");
  if (!header || header->size() <= kScheme.size() ||
      !EqualsIgnoreCase(header->substr(0, kScheme.size()), kScheme)) {
    return {};
  }
  return header->substr(kScheme.size());
}

bool BearerMatches(const HttpRequest& request,
                   const std::array<std::uint8_t, 32>& expected_sha256) {
  const std::string_view token = BearerToken(request);
  const auto digest = crypto::Sha256(AsBytes(token));
  return !token.empty() && ConstantTimeEqual(digest, expected_sha256);
}

Result<Authorizer> BearerAuthorizer(std::string_view token, std::string reason,
                                    std::string_view bad_option_reason) {
  if (token.empty()) {
    return InvalidArgument(std::string(bad_option_reason), "the API token is empty");
  }
  const auto expected = crypto::Sha256(AsBytes(token));
  return Authorizer([expected, reason = std::move(reason)](const HttpRequest& request) -> Status {
    if (BearerMatches(request, expected)) return Status::Ok();
    return Unauthenticated(reason, "a valid \"Authorization: Bearer <token>\" is required");
  });
}

}  // namespace lunal::net
