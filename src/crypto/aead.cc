// AES-256-GCM (NIST SP 800-38D) and ChaCha20-Poly1305 (RFC 8439 §2.8) through EVP_CIPHER.
#include "lunal/crypto/aead.h"

#include <openssl/evp.h>

#include <algorithm>
#include <climits>

#include "lunal/crypto/random.h"
#include "openssl_util.h"

namespace lunal::crypto {

using internal::OpenSslFailure;

namespace {

EVP_CIPHER* FetchCipher(const char* name) {
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, name, nullptr);
  if (cipher == nullptr) internal::FatalOpenSslError(fmt::format("EVP_CIPHER_fetch({})", name));
  return cipher;
}

// Fetched once per process; never freed.
const EVP_CIPHER* Cipher(AeadAlgorithm algorithm) {
  static EVP_CIPHER* const aes = FetchCipher("AES-256-GCM");
  static EVP_CIPHER* const chacha = FetchCipher("ChaCha20-Poly1305");
  return algorithm == AeadAlgorithm::kAes256Gcm ? aes : chacha;
}

Status CheckParameters(ByteSpan key, ByteSpan nonce, std::size_t data_size) {
  if (key.size() != kAeadKeySize) {
    return InvalidArgument("crypto.aead.bad_key_length", "key must be {} bytes, have {}",
                           kAeadKeySize, key.size());
  }
  if (nonce.size() != kAeadNonceSize) {
    return InvalidArgument("crypto.aead.bad_nonce_length", "nonce must be {} bytes, have {}",
                           kAeadNonceSize, nonce.size());
  }
  if (data_size > INT_MAX) {
    return InvalidArgument("crypto.aead.too_long", "{} bytes exceed one AEAD call", data_size);
  }
  return Status::Ok();
}

// Initialises `ctx` for `algorithm` with key and nonce (both ciphers take a 12-byte nonce by
// default: SP 800-38D §8.2.1 IV, RFC 8439 §2.8 nonce) and feeds the AAD.
bool Init(EVP_CIPHER_CTX* ctx, AeadAlgorithm algorithm, ByteSpan key, ByteSpan nonce, ByteSpan aad,
          bool encrypt) {
  int unused = 0;
  return EVP_CipherInit_ex2(ctx, Cipher(algorithm), key.data(), nonce.data(), encrypt ? 1 : 0,
                            nullptr) == 1 &&
         (aad.empty() ||
          EVP_CipherUpdate(ctx, nullptr, &unused, aad.data(), static_cast<int>(aad.size())) == 1);
}

}  // namespace

std::string_view AeadAlgorithmName(AeadAlgorithm algorithm) {
  return algorithm == AeadAlgorithm::kAes256Gcm ? "AES-256-GCM" : "ChaCha20-Poly1305";
}

Result<Bytes> AeadSeal(AeadAlgorithm algorithm, ByteSpan key, ByteSpan nonce, ByteSpan plaintext,
                       ByteSpan aad) {
  LUNAL_RETURN_IF_ERROR(CheckParameters(key, nonce, std::max(plaintext.size(), aad.size())));
  internal::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes out(plaintext.size() + kAeadTagSize);
  int written = 0;
  int final_written = 0;
  if (!ctx || !Init(ctx.get(), algorithm, key, nonce, aad, /*encrypt=*/true) ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &written, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + written, &final_written) != 1 ||
      written + final_written != static_cast<int>(plaintext.size()) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kAeadTagSize),
                          out.data() + plaintext.size()) != 1) {
    return OpenSslFailure(Code::kInternal, "crypto.aead.failed",
                          fmt::format("{} seal", AeadAlgorithmName(algorithm)));
  }
  return out;
}

Result<Bytes> AeadOpen(AeadAlgorithm algorithm, ByteSpan key, ByteSpan nonce, ByteSpan sealed,
                       ByteSpan aad) {
  LUNAL_RETURN_IF_ERROR(CheckParameters(key, nonce, std::max(sealed.size(), aad.size())));
  if (sealed.size() < kAeadTagSize) {
    return Malformed("crypto.aead.truncated",
                     "sealed data is {} bytes, shorter than the {}-byte tag", sealed.size(),
                     kAeadTagSize);
  }
  const std::size_t text_size = sealed.size() - kAeadTagSize;
  internal::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes out(text_size);
  int written = 0;
  int final_written = 0;
  // The tag is set before EVP_DecryptFinal_ex, which compares it in constant time.
  if (!ctx || !Init(ctx.get(), algorithm, key, nonce, aad, /*encrypt=*/false) ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &written, sealed.data(),
                        static_cast<int>(text_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kAeadTagSize),
                          const_cast<std::uint8_t*>(sealed.data() + text_size)) != 1) {
    SecureZero(out);
    return OpenSslFailure(Code::kInternal, "crypto.aead.failed",
                          fmt::format("{} open", AeadAlgorithmName(algorithm)));
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + written, &final_written) != 1) {
    SecureZero(out);
    internal::DrainErrors();
    return VerificationFailed("crypto.aead.auth_failed",
                              "{} tag does not verify (wrong key, nonce or AAD, or modified data)",
                              AeadAlgorithmName(algorithm));
  }
  return out;
}

}  // namespace lunal::crypto
