// SHA-2 digests (FIPS 180-4) and HMAC-SHA-256 (RFC 2104, FIPS 198-1).
//
// The one-shot functions are on the quote-verification hot path: they use digests fetched once
// per process and do not allocate. They cannot fail on valid input; an OpenSSL failure here means
// memory exhaustion or a broken provider and aborts (an internal invariant, not an input error).
// Thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "lunal/common/bytes.h"

namespace lunal::crypto {

enum class DigestAlgorithm { kSha256, kSha384, kSha512 };

// 32, 48 or 64.
std::size_t DigestSize(DigestAlgorithm algorithm);
// "SHA-256", "SHA-384", "SHA-512".
std::string_view DigestAlgorithmName(DigestAlgorithm algorithm);

std::array<std::uint8_t, 32> Sha256(ByteSpan data);
std::array<std::uint8_t, 48> Sha384(ByteSpan data);
std::array<std::uint8_t, 64> Sha512(ByteSpan data);
// The digest of `data` with `algorithm`, DigestSize(algorithm) bytes.
Bytes Digest(DigestAlgorithm algorithm, ByteSpan data);

// Incremental hashing of data that arrives in pieces (files, streamed artifacts).
// Move-only; not thread-safe (one Hasher per thread). Using a moved-from Hasher is a bug.
class Hasher {
 public:
  explicit Hasher(DigestAlgorithm algorithm);
  Hasher(Hasher&& other) noexcept;
  Hasher& operator=(Hasher&& other) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  ~Hasher();

  DigestAlgorithm algorithm() const { return algorithm_; }
  void Update(ByteSpan data);
  // Returns the digest of everything passed to Update since construction or the last Finish,
  // and resets the Hasher so it can hash a new message.
  Bytes Finish();

 private:
  struct Impl;
  DigestAlgorithm algorithm_;
  std::unique_ptr<Impl> impl_;
};

// HMAC-SHA-256 (RFC 2104 with FIPS 180-4 SHA-256). Keys of any length, as RFC 2104 §2 allows.
std::array<std::uint8_t, 32> HmacSha256(ByteSpan key, ByteSpan data);

}  // namespace lunal::crypto
