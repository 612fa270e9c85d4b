// HKDF (RFC 5869) through OpenSSL's EVP_KDF "HKDF", and X25519 (RFC 7748) through EVP_PKEY_derive.
#include "lunal/crypto/kdf.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include <algorithm>
#include <vector>

#include "key_internal.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/random.h"

namespace lunal::crypto {

using internal::OpenSslFailure;

namespace {

using KdfPtr = std::unique_ptr<EVP_KDF, internal::Free<EVP_KDF_free>>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, internal::Free<EVP_KDF_CTX_free>>;

// Runs EVP_KDF "HKDF" with SHA-256 in `mode` (EVP_KDF_HKDF_MODE_*). `salt` is only passed when
// non-empty: HMAC pads an empty key to 32 zero bytes, which is RFC 5869 §2.2's default salt.
Result<Bytes> RunHkdf(int mode, ByteSpan key, ByteSpan salt, ByteSpan info, std::size_t out_len) {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return OpenSslFailure(Code::kInternal, "crypto.hkdf.failed", "HKDF fetch");
  KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  static const std::uint8_t kEmpty = 0;
  auto octets = [](const char* name, ByteSpan bytes) {
    return OSSL_PARAM_construct_octet_string(
        name, const_cast<std::uint8_t*>(bytes.empty() ? &kEmpty : bytes.data()), bytes.size());
  };
  std::vector<OSSL_PARAM> params;
  params.push_back(OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode));
  params.push_back(
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA2-256"), 0));
  params.push_back(octets(OSSL_KDF_PARAM_KEY, key));
  if (!salt.empty()) params.push_back(octets(OSSL_KDF_PARAM_SALT, salt));
  params.push_back(octets(OSSL_KDF_PARAM_INFO, info));
  params.push_back(OSSL_PARAM_construct_end());
  Bytes out(out_len);
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params.data()) != 1) {
    return OpenSslFailure(Code::kInternal, "crypto.hkdf.failed", "HKDF derive");
  }
  return out;
}

Status CheckOutputLength(std::size_t out_len) {
  if (out_len == 0 || out_len > kHkdfSha256MaxOutput) {
    return InvalidArgument("crypto.hkdf.output_too_long",
                           "HKDF-SHA-256 output must be 1 to {} bytes, asked for {}",
                           kHkdfSha256MaxOutput, out_len);
  }
  return Status::Ok();
}

}  // namespace

std::array<std::uint8_t, 32> HkdfExtract(ByteSpan salt, ByteSpan ikm) {
  // RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); HMAC's zero padding makes an empty salt equal to
  // HashLen zero bytes.
  return HmacSha256(salt, ikm);
}

Result<Bytes> HkdfExpand(ByteSpan prk, ByteSpan info, std::size_t out_len) {
  if (prk.size() < 32) {
    return InvalidArgument("crypto.hkdf.prk_too_short", "PRK must be at least 32 bytes, have {}",
                           prk.size());
  }
  LUNAL_RETURN_IF_ERROR(CheckOutputLength(out_len));
  return RunHkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, {}, info, out_len);
}

Result<Bytes> HkdfSha256(ByteSpan ikm, ByteSpan salt, ByteSpan info, std::size_t out_len) {
  LUNAL_RETURN_IF_ERROR(CheckOutputLength(out_len));
  return RunHkdf(EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, ikm, salt, info, out_len);
}

Result<std::array<std::uint8_t, 32>> X25519(const PrivateKey& own, const PublicKey& peer) {
  if (own.Type() != KeyType::kX25519) return internal::WrongKeyType("X25519", own.Type());
  if (peer.Type() != KeyType::kX25519) return internal::WrongKeyType("X25519", peer.Type());
  internal::EvpPkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, internal::KeyAccess::Get(own), nullptr));
  std::array<std::uint8_t, 32> secret{};
  std::size_t length = secret.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), internal::KeyAccess::Get(peer)) != 1) {
    return OpenSslFailure(Code::kInternal, "crypto.x25519.failed", "X25519 setup");
  }
  // OpenSSL's X25519 itself fails on an all-zero result (a low-order peer point); check again
  // here so the RFC 7748 §6.1 rule does not depend on the library version.
  if (EVP_PKEY_derive(ctx.get(), secret.data(), &length) != 1 || length != secret.size() ||
      std::all_of(secret.begin(), secret.end(), [](std::uint8_t b) { return b == 0; })) {
    SecureZero(secret);
    return OpenSslFailure(Code::kVerificationFailed, "crypto.x25519.zero_shared_secret",
                          "X25519 with a low-order peer public key gives the all-zero secret");
  }
  return secret;
}

}  // namespace lunal::crypto
