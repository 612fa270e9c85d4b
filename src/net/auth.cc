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

}  // namespace lunal::net
