#include "lunal/crypto/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>

#include "openssl_util.h"

namespace lunal::crypto {

void RandomFill(std::span<std::uint8_t> out) {
  // RAND_bytes takes an int count: fill in chunks.
  while (!out.empty()) {
    std::size_t chunk = std::min<std::size_t>(out.size(), INT_MAX);
    if (RAND_bytes(out.data(), static_cast<int>(chunk)) != 1) {
      internal::FatalOpenSslError("RAND_bytes");
    }
    out = out.subspan(chunk);
  }
}

Bytes RandomBytes(std::size_t count) {
  Bytes out(count);
  RandomFill(out);
  return out;
}

void SecureZero(std::span<std::uint8_t> secret) { OPENSSL_cleanse(secret.data(), secret.size()); }

}  // namespace lunal::crypto
