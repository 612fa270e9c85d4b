// Authenticated encryption: AES-256-GCM (NIST SP 800-38D) and ChaCha20-Poly1305 (RFC 8439 §2.8),
// both with a 32-byte key, a 12-byte nonce and a 16-byte tag appended to the ciphertext.
//
// The caller owns nonce uniqueness: never seal two messages under one (key, nonce) pair
// (SP 800-38D §8; RFC 8439 §4). Random 12-byte nonces are safe for up to 2^32 messages per key.
//
// Errors:
//   crypto.aead.bad_key_length, crypto.aead.bad_nonce_length (kInvalidArgument)
//   crypto.aead.truncated (kMalformed)            shorter than the tag
//   crypto.aead.auth_failed (kVerificationFailed) wrong key, nonce, AAD, or modified bytes;
//                                                 no plaintext is returned
// Thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::crypto {

enum class AeadAlgorithm { kAes256Gcm, kChaCha20Poly1305 };

inline constexpr std::size_t kAeadKeySize = 32;
inline constexpr std::size_t kAeadNonceSize = 12;
inline constexpr std::size_t kAeadTagSize = 16;

// "AES-256-GCM", "ChaCha20-Poly1305".
std::string_view AeadAlgorithmName(AeadAlgorithm algorithm);

// Returns ciphertext ‖ tag (plaintext.size() + 16 bytes).
Result<Bytes> AeadSeal(AeadAlgorithm algorithm, ByteSpan key, ByteSpan nonce, ByteSpan plaintext,
                       ByteSpan aad);
// `sealed` is ciphertext ‖ tag. Returns the plaintext only when the tag verifies.
Result<Bytes> AeadOpen(AeadAlgorithm algorithm, ByteSpan key, ByteSpan nonce, ByteSpan sealed,
                       ByteSpan aad);

}  // namespace lunal::crypto
