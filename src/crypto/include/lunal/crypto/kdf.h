// Key derivation and agreement: HKDF-SHA-256 (RFC 5869) and X25519 (RFC 7748).
//
// Errors:
//   crypto.hkdf.output_too_long (kInvalidArgument)  more than 255 × 32 bytes (RFC 5869 §2.3)
//   crypto.hkdf.prk_too_short (kInvalidArgument)    a PRK shorter than 32 bytes (RFC 5869 §2.3)
//   crypto.key.wrong_type (kInvalidArgument)        X25519 with keys that are not X25519
//   crypto.x25519.zero_shared_secret (kVerificationFailed)  a low-order peer key (RFC 7748 §6.1)
// Thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/crypto/keys.h"

namespace lunal::crypto {

inline constexpr std::size_t kHkdfSha256MaxOutput = std::size_t{255} * 32;

// HKDF-Extract (RFC 5869 §2.2): PRK = HMAC-SHA-256(salt, ikm). An empty salt means 32 zero bytes.
std::array<std::uint8_t, 32> HkdfExtract(ByteSpan salt, ByteSpan ikm);
// HKDF-Expand (RFC 5869 §2.3).
Result<Bytes> HkdfExpand(ByteSpan prk, ByteSpan info, std::size_t out_len);
// Extract then expand.
Result<Bytes> HkdfSha256(ByteSpan ikm, ByteSpan salt, ByteSpan info, std::size_t out_len);

// X25519 Diffie-Hellman (RFC 7748 §6.1). Refuses the all-zero shared secret that low-order peer
// points produce, as §6.1 requires.
Result<std::array<std::uint8_t, 32>> X25519(const PrivateKey& own, const PublicKey& peer);

}  // namespace lunal::crypto
