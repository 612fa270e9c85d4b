// Private keys: generation, PEM (PKCS#8, RFC 5208; RFC 5915 EC), raw Ed25519/X25519 keys.
#include <openssl/pem.h>

#include "key_internal.h"
#include "lunal/crypto/keys.h"

namespace lunal::crypto {

using internal::EvpPkeyPtr;
using internal::I2dPubkey;
using internal::KeyAccess;
using internal::OpenSslFailure;
using internal::RawKey;
using internal::RefuseEncryptedPem;

// ---- PrivateKey --------------------------------------------------------------------------------

PrivateKey::PrivateKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PrivateKey::PrivateKey(PrivateKey&& other) noexcept = default;
PrivateKey& PrivateKey::operator=(PrivateKey&& other) noexcept = default;
PrivateKey::~PrivateKey() = default;

Result<PrivateKey> PrivateKey::Generate(KeyType type) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case KeyType::kEcP256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEcP384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::kEd25519:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case KeyType::kX25519:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
      break;
    case KeyType::kRsa:
      return internal::WrongKeyType("Generate", type);
  }
  if (raw == nullptr) {
    return OpenSslFailure(Code::kInternal, "crypto.key.generate_failed",
                          fmt::format("generating a {} key", KeyTypeName(type)));
  }
  return KeyAccess::WrapPrivate(EvpPkeyPtr(raw));
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  internal::BioPtr bio = internal::MemoryBio(AsBytes(pem));
  EvpPkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, RefuseEncryptedPem, nullptr));
  if (!pkey) {
    return OpenSslFailure(Code::kMalformed, "crypto.key.parse_failed", "private key PEM");
  }
  return KeyAccess::WrapPrivate(std::move(pkey));
}

Result<PrivateKey> PrivateKey::FromRawEd25519(ByteSpan raw) {
  LUNAL_ASSIGN_OR_RETURN(EvpPkeyPtr pkey, RawKey(EVP_PKEY_ED25519, raw, /*is_private=*/true));
  return KeyAccess::WrapPrivate(std::move(pkey));
}

Result<PrivateKey> PrivateKey::FromRawX25519(ByteSpan raw) {
  LUNAL_ASSIGN_OR_RETURN(EvpPkeyPtr pkey, RawKey(EVP_PKEY_X25519, raw, /*is_private=*/true));
  return KeyAccess::WrapPrivate(std::move(pkey));
}

PrivateKey PrivateKey::Clone() const {
  EVP_PKEY_up_ref(impl_->pkey.get());
  return PrivateKey(std::make_unique<Impl>(Impl{EvpPkeyPtr(impl_->pkey.get()), impl_->type}));
}

KeyType PrivateKey::Type() const { return impl_->type; }

Result<std::string> PrivateKey::ToPkcs8Pem() const {
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0,
                                            nullptr, nullptr) != 1) {
    return OpenSslFailure(Code::kInternal, "crypto.key.encode_failed", "PKCS#8 PEM");
  }
  return internal::BioToString(bio.get());
}

Result<Bytes> PrivateKey::RawPrivate() const {
  if (impl_->type != KeyType::kEd25519 && impl_->type != KeyType::kX25519) {
    return internal::WrongKeyType("RawPrivate", impl_->type);
  }
  Bytes out(32);
  size_t length = out.size();
  if (EVP_PKEY_get_raw_private_key(impl_->pkey.get(), out.data(), &length) != 1 || length != 32) {
    return OpenSslFailure(Code::kInternal, "crypto.key.encode_failed", "raw private key");
  }
  return out;
}

Result<crypto::PublicKey> PrivateKey::PublicKey() const {
  // Round-trip through SubjectPublicKeyInfo so the result carries no private material.
  LUNAL_ASSIGN_OR_RETURN(Bytes spki, I2dPubkey(impl_->pkey.get()));
  return crypto::PublicKey::FromSpkiDer(spki);
}

}  // namespace lunal::crypto
