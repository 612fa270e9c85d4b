// Cryptographically secure random bytes from OpenSSL's DRBG (NIST SP 800-90A), seeded from the
// operating system.
//
// These cannot fail in a working process: if the DRBG cannot produce output (no entropy source),
// continuing would mint predictable keys and nonces, so they abort. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lunal/common/bytes.h"

namespace lunal::crypto {

Bytes RandomBytes(std::size_t count);
void RandomFill(std::span<std::uint8_t> out);

// Overwrites `secret` with zeros in a way the compiler may not elide (OPENSSL_cleanse), for key
// material and plaintext buffers about to be released.
void SecureZero(std::span<std::uint8_t> secret);

}  // namespace lunal::crypto
