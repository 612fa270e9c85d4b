// Bearer-token authentication (RFC 6750 §2.1: "Authorization: Bearer <b64token>"). Tokens are
// configured as SHA-256 digests only; a presented token is hashed and compared with every digest
// without early exit, so neither the match position nor the number of matching bytes shows in
// the timing. Private to attest/service.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "lunal/common/status.h"

namespace lunal::attest::service::internal {

// Errors (kUnauthenticated, so 401 with WWW-Authenticate: Bearer):
//   auth.missing_token   no Authorization header
//   auth.bad_scheme      an Authorization header that is not "Bearer <token>"
//   auth.invalid_token   a token whose SHA-256 is not configured
class BearerAuth {
 public:
  BearerAuth(std::vector<std::array<std::uint8_t, 32>> token_sha256, bool disabled)
      : token_sha256_(std::move(token_sha256)), disabled_(disabled) {}

  bool disabled() const { return disabled_; }
  Status Check(std::optional<std::string_view> authorization_header) const;

 private:
  std::vector<std::array<std::uint8_t, 32>> token_sha256_;
  bool disabled_;
};

}  // namespace lunal::attest::service::internal
