#include "auth.h"

#include "lunal/common/bytes.h"
#include "lunal/crypto/digest.h"

namespace lunal::attest::service::internal {
namespace {

constexpr std::size_t kMaxTokenLength = 4096;

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool IsB64Token(std::string_view token) {
  std::size_t i = 0;
  for (; i < token.size() && token[i] != '='; ++i) {
    const char c = token[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) return false;
  }
  if (i == 0) return false;
  for (; i < token.size(); ++i) {
    if (token[i] != '=') return false;
  }
  return true;
}

bool EqualsIgnoreCaseAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

Status BearerAuth::Check(std::optional<std::string_view> header) const {
  if (disabled_) return Status();
  if (!header.has_value()) {
    return Unauthenticated("auth.missing_token",
                           "this endpoint needs \"Authorization: Bearer <token>\"");
  }
  // The auth-scheme is case-insensitive (RFC 9110 §11.1); one space, then the token.
  const std::string_view value = *header;
  const std::size_t space = value.find(' ');
  if (space == std::string_view::npos || !EqualsIgnoreCaseAscii(value.substr(0, space), "Bearer")) {
    return Unauthenticated("auth.bad_scheme",
                           "the Authorization header must be \"Bearer <token>\"");
  }
  const std::string_view token = value.substr(space + 1);
  if (token.size() > kMaxTokenLength || !IsB64Token(token)) {
    return Unauthenticated("auth.bad_scheme",
                           "the bearer token is empty, too long or has characters RFC 6750 "
                           "does not allow");
  }
  const std::array<std::uint8_t, 32> digest = crypto::Sha256(AsBytes(token));
  // Every configured digest is compared (no early exit), each in constant time.
  bool match = false;
  for (const auto& expected : token_sha256_) match = ConstantTimeEqual(digest, expected) || match;
  if (!match) return Unauthenticated("auth.invalid_token", "the bearer token is not valid");
  return Status();
}

}  // namespace lunal::attest::service::internal
