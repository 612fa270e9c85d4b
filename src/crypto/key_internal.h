// Access to the OpenSSL key inside PublicKey / PrivateKey, for the crypto implementation only.
#pragma once

#include <openssl/evp.h>

#include "lunal/common/result.h"
#include "lunal/crypto/keys.h"
#include "openssl_util.h"

namespace lunal::crypto {

struct PublicKey::Impl {
  internal::EvpPkeyPtr pkey;
  KeyType type;
};
struct PrivateKey::Impl {
  internal::EvpPkeyPtr pkey;
  KeyType type;
};

namespace internal {

struct KeyAccess {
  static EVP_PKEY* Get(const PublicKey& key);
  static EVP_PKEY* Get(const PrivateKey& key);
  // Takes ownership; classifies the key (crypto.key.unsupported_type for other kinds).
  static Result<PublicKey> WrapPublic(EvpPkeyPtr pkey);
  static Result<PrivateKey> WrapPrivate(EvpPkeyPtr pkey);
};

// The KeyType of an OpenSSL key, or crypto.key.unsupported_type.
Result<KeyType> ClassifyKey(const EVP_PKEY* pkey);

// crypto.key.wrong_type when `actual` is not one of the expected types.
Status WrongKeyType(std::string_view operation, KeyType actual);

// SubjectPublicKeyInfo DER of a key's public half.
Result<Bytes> I2dPubkey(EVP_PKEY* pkey);
// A 32-byte raw Ed25519/X25519 key (crypto.key.bad_raw_length otherwise).
Result<EvpPkeyPtr> RawKey(int type, ByteSpan raw, bool is_private);
// pem_password_cb that refuses, so encrypted PEM fails instead of prompting on a terminal.
int RefuseEncryptedPem(char* buf, int size, int rwflag, void* userdata);

}  // namespace internal
}  // namespace lunal::crypto
