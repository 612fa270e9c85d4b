// ECDSA (FIPS 186-5 §6.4), RSASSA-PSS / PKCS1-v1_5 (RFC 8017 §8) and Ed25519 (RFC 8032 §5.1)
// through OpenSSL's EVP_DigestSign/EVP_DigestVerify.
#include "lunal/crypto/signature.h"

#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <functional>

#include "key_internal.h"

namespace lunal::crypto {

using internal::EvpMdCtxPtr;
using internal::KeyAccess;
using internal::OpenSslFailure;

namespace {

Result<std::size_t> EcdsaScalarSize(KeyType type, std::string_view operation) {
  if (type == KeyType::kEcP256) return std::size_t{32};
  if (type == KeyType::kEcP384) return std::size_t{48};
  return internal::WrongKeyType(operation, type);
}

using Configure = std::function<bool(EVP_PKEY_CTX*)>;

// EVP_DigestVerify: 1 is a valid signature; 0 and negative values (bad encoding, wrong size) are
// all "does not verify", with OpenSSL's reason in the message.
Status DigestVerify(EVP_PKEY* pkey, const EVP_MD* md, ByteSpan message, ByteSpan signature,
                    std::string_view what, const Configure& configure = nullptr) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey) != 1 ||
      (configure && !configure(pctx))) {
    return OpenSslFailure(Code::kInternal, "crypto.signature.init_failed", what);
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                       message.size()) != 1) {
    return OpenSslFailure(Code::kVerificationFailed, "crypto.signature.invalid",
                          fmt::format("{} signature does not verify", what));
  }
  return Status::Ok();
}

Result<Bytes> DigestSign(EVP_PKEY* pkey, const EVP_MD* md, ByteSpan message,
                         std::string_view what) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, pkey) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, message.data(), message.size()) != 1) {
    return OpenSslFailure(Code::kInternal, "crypto.signature.sign_failed", what);
  }
  Bytes out(length);
  if (EVP_DigestSign(ctx.get(), out.data(), &length, message.data(), message.size()) != 1) {
    return OpenSslFailure(Code::kInternal, "crypto.signature.sign_failed", what);
  }
  out.resize(length);
  return out;
}

// DER-encodes (r, s) as Ecdsa-Sig-Value (RFC 3279 §2.2.3) into `out`, returning the length.
// The largest (P-384) encoding is 104 bytes.
Result<std::size_t> EncodeEcdsaDer(ByteSpan r, ByteSpan s, std::array<unsigned char, 128>* out) {
  internal::EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r_bn = BN_bin2bn(r.data(), static_cast<int>(r.size()), nullptr);
  BIGNUM* s_bn = BN_bin2bn(s.data(), static_cast<int>(s.size()), nullptr);
  if (!sig || r_bn == nullptr || s_bn == nullptr || ECDSA_SIG_set0(sig.get(), r_bn, s_bn) != 1) {
    BN_free(r_bn);
    BN_free(s_bn);
    return OpenSslFailure(Code::kInternal, "crypto.ecdsa.encode_failed", "ECDSA_SIG");
  }
  unsigned char* cursor = out->data();
  int length = i2d_ECDSA_SIG(sig.get(), &cursor);
  if (length <= 0 || static_cast<std::size_t>(length) > out->size()) {
    return OpenSslFailure(Code::kInternal, "crypto.ecdsa.encode_failed", "i2d_ECDSA_SIG");
  }
  return static_cast<std::size_t>(length);
}

}  // namespace

Status VerifyEcdsaDer(const PublicKey& key, DigestAlgorithm digest, ByteSpan message,
                      ByteSpan der_signature) {
  LUNAL_RETURN_IF_ERROR(EcdsaScalarSize(key.Type(), "ECDSA verification"));
  return DigestVerify(KeyAccess::Get(key), internal::Md(digest), message, der_signature,
                      KeyTypeName(key.Type()));
}

Status VerifyEcdsaRaw(const PublicKey& key, DigestAlgorithm digest, ByteSpan message,
                      ByteSpan r_s_big_endian) {
  LUNAL_ASSIGN_OR_RETURN(std::size_t n, EcdsaScalarSize(key.Type(), "ECDSA verification"));
  if (r_s_big_endian.size() != 2 * n) {
    return Malformed("crypto.ecdsa.bad_signature_length",
                     "{} signature r‖s must be {} bytes, have {}", KeyTypeName(key.Type()), 2 * n,
                     r_s_big_endian.size());
  }
  std::array<unsigned char, 128> der;
  LUNAL_ASSIGN_OR_RETURN(std::size_t length,
                         EncodeEcdsaDer(r_s_big_endian.first(n), r_s_big_endian.subspan(n), &der));
  return DigestVerify(KeyAccess::Get(key), internal::Md(digest), message,
                      ByteSpan(der.data(), length), KeyTypeName(key.Type()));
}

Status VerifyEcdsaRawLittleEndian(const PublicKey& key, DigestAlgorithm digest, ByteSpan message,
                                  ByteSpan r_le, ByteSpan s_le) {
  LUNAL_ASSIGN_OR_RETURN(std::size_t n, EcdsaScalarSize(key.Type(), "ECDSA verification"));
  std::array<std::uint8_t, std::size_t{2} * 48> r_s{};
  for (std::size_t i = 0; i < 2; ++i) {
    ByteSpan field = i == 0 ? r_le : s_le;
    if (field.size() < n) {
      return Malformed("crypto.ecdsa.bad_signature_length",
                       "{} signature {} needs {} bytes, have {}", KeyTypeName(key.Type()),
                       i == 0 ? "r" : "s", n, field.size());
    }
    ByteSpan padding = field.subspan(n);
    if (std::any_of(padding.begin(), padding.end(), [](std::uint8_t b) { return b != 0; })) {
      return Malformed("crypto.ecdsa.nonzero_padding",
                       "{} signature {} has non-zero bytes beyond its {} significant bytes",
                       KeyTypeName(key.Type()), i == 0 ? "r" : "s", n);
    }
    std::reverse_copy(field.begin(), field.begin() + static_cast<std::ptrdiff_t>(n),
                      r_s.begin() + static_cast<std::ptrdiff_t>(i * n));
  }
  return VerifyEcdsaRaw(key, digest, message, ByteSpan(r_s.data(), 2 * n));
}

Result<Bytes> SignEcdsaDer(const PrivateKey& key, DigestAlgorithm digest, ByteSpan message) {
  LUNAL_RETURN_IF_ERROR(EcdsaScalarSize(key.Type(), "ECDSA signing"));
  return DigestSign(KeyAccess::Get(key), internal::Md(digest), message, "ECDSA");
}

Result<Bytes> SignEcdsaRaw(const PrivateKey& key, DigestAlgorithm digest, ByteSpan message) {
  LUNAL_ASSIGN_OR_RETURN(std::size_t n, EcdsaScalarSize(key.Type(), "ECDSA signing"));
  LUNAL_ASSIGN_OR_RETURN(Bytes der, SignEcdsaDer(key, digest, message));
  const unsigned char* cursor = der.data();
  internal::EcdsaSigPtr sig(
      d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));  // NOLINT
  if (!sig) return OpenSslFailure(Code::kInternal, "crypto.ecdsa.encode_failed", "d2i_ECDSA_SIG");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  Bytes out(2 * n);
  if (BN_bn2binpad(r, out.data(), static_cast<int>(n)) < 0 ||
      BN_bn2binpad(s, out.data() + n, static_cast<int>(n)) < 0) {
    return OpenSslFailure(Code::kInternal, "crypto.ecdsa.encode_failed", "BN_bn2binpad");
  }
  return out;
}

namespace {

Status CheckRsa(const PublicKey& key, ByteSpan signature, std::string_view operation) {
  if (key.Type() != KeyType::kRsa) return internal::WrongKeyType(operation, key.Type());
  auto size = static_cast<std::size_t>(EVP_PKEY_get_size(KeyAccess::Get(key)));
  if (signature.size() != size) {
    return Malformed("crypto.rsa.bad_signature_length",
                     "RSA-{} signature must be {} bytes, have {}", key.Bits(), size,
                     signature.size());
  }
  return Status::Ok();
}

}  // namespace

Status VerifyRsaPss(const PublicKey& key, DigestAlgorithm digest, ByteSpan message,
                    ByteSpan signature, int salt_length) {
  LUNAL_RETURN_IF_ERROR(CheckRsa(key, signature, "RSASSA-PSS verification"));
  if (salt_length < 0) {
    return InvalidArgument("crypto.rsa.bad_salt_length", "salt length {} is negative", salt_length);
  }
  const EVP_MD* md = internal::Md(digest);
  return DigestVerify(KeyAccess::Get(key), md, message, signature, "RSASSA-PSS",
                      [&](EVP_PKEY_CTX* pctx) {
                        // RFC 8017 §9.1: MGF1 with the message digest, as AMD and X.509 use it.
                        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                               EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1 &&
                               EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt_length) == 1;
                      });
}

Status VerifyRsaPkcs1(const PublicKey& key, DigestAlgorithm digest, ByteSpan message,
                      ByteSpan signature) {
  LUNAL_RETURN_IF_ERROR(CheckRsa(key, signature, "RSASSA-PKCS1-v1_5 verification"));
  return DigestVerify(KeyAccess::Get(key), internal::Md(digest), message, signature,
                      "RSASSA-PKCS1-v1_5", [](EVP_PKEY_CTX* pctx) {
                        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
                      });
}

Result<Bytes> SignEd25519(const PrivateKey& key, ByteSpan message) {
  if (key.Type() != KeyType::kEd25519) return internal::WrongKeyType("Ed25519 signing", key.Type());
  // Ed25519 hashes internally (RFC 8032 §5.1.6): no digest is passed.
  return DigestSign(KeyAccess::Get(key), nullptr, message, "Ed25519");
}

Status VerifyEd25519(const PublicKey& key, ByteSpan message, ByteSpan signature) {
  if (key.Type() != KeyType::kEd25519) {
    return internal::WrongKeyType("Ed25519 verification", key.Type());
  }
  if (signature.size() != 64) {
    return Malformed("crypto.ed25519.bad_signature_length",
                     "Ed25519 signature must be 64 bytes, have {}", signature.size());
  }
  return DigestVerify(KeyAccess::Get(key), nullptr, message, signature, "Ed25519");
}

}  // namespace lunal::crypto
