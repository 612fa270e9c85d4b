// Key import/export. Raw EC points are set with EVP_PKEY_set1_encoded_public_key, whose point
// decoding (EC_POINT_oct2point → EC_POINT_set_affine_coordinates) refuses points not on the curve:
// the check SP 800-56A §5.6.2.3.4 / FIPS 186-5 §6.4 requires of a received public key. With
// prime-order curves (cofactor 1) an on-curve point other than infinity is a valid public key.
#include "lunal/crypto/keys.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "key_internal.h"

namespace lunal::crypto {

using internal::EvpPkeyPtr;
using internal::OpenSslFailure;

std::size_t CoordinateSize(Curve curve) { return curve == Curve::kP256 ? 32 : 48; }

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return "P-256";
    case KeyType::kEcP384:
      return "P-384";
    case KeyType::kRsa:
      return "RSA";
    case KeyType::kEd25519:
      return "Ed25519";
    case KeyType::kX25519:
      return "X25519";
  }
  return "unknown";
}

namespace internal {

Result<KeyType> ClassifyKey(const EVP_PKEY* pkey) {
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t length = 0;
      if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &length) != 1) {
        return OpenSslFailure(Code::kUnsupported, "crypto.key.unsupported_type",
                              "EC key without a named curve");
      }
      std::string_view name(group, length);
      if (name == "prime256v1" || name == "P-256") return KeyType::kEcP256;
      if (name == "secp384r1" || name == "P-384") return KeyType::kEcP384;
      return Unsupported("crypto.key.unsupported_type", "EC curve {} is not supported", name);
    }
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS: {
      int bits = EVP_PKEY_get_bits(pkey);
      if (bits < kMinRsaBits || bits > kMaxRsaBits) {
        return Unsupported("crypto.rsa.key_size", "RSA modulus of {} bits; need {} to {}", bits,
                           kMinRsaBits, kMaxRsaBits);
      }
      return KeyType::kRsa;
    }
    case EVP_PKEY_ED25519:
      return KeyType::kEd25519;
    case EVP_PKEY_X25519:
      return KeyType::kX25519;
    default:
      return Unsupported("crypto.key.unsupported_type", "key type {} is not supported",
                         EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "?");
  }
}

Status WrongKeyType(std::string_view operation, KeyType actual) {
  return InvalidArgument("crypto.key.wrong_type", "{} does not accept a {} key", operation,
                         KeyTypeName(actual));
}

EVP_PKEY* KeyAccess::Get(const PublicKey& key) { return key.impl_->pkey.get(); }
EVP_PKEY* KeyAccess::Get(const PrivateKey& key) { return key.impl_->pkey.get(); }

Result<PublicKey> KeyAccess::WrapPublic(EvpPkeyPtr pkey) {
  LUNAL_ASSIGN_OR_RETURN(KeyType type, ClassifyKey(pkey.get()));
  return PublicKey(std::make_unique<PublicKey::Impl>(PublicKey::Impl{std::move(pkey), type}));
}

Result<PrivateKey> KeyAccess::WrapPrivate(EvpPkeyPtr pkey) {
  LUNAL_ASSIGN_OR_RETURN(KeyType type, ClassifyKey(pkey.get()));
  return PrivateKey(std::make_unique<PrivateKey::Impl>(PrivateKey::Impl{std::move(pkey), type}));
}

}  // namespace internal

using internal::I2dPubkey;
using internal::KeyAccess;
using internal::RawKey;
using internal::RefuseEncryptedPem;

namespace {

const char* GroupName(Curve curve) { return curve == Curve::kP256 ? "P-256" : "P-384"; }

// A parameters-only EC key per curve, built once; FromEcPoint copies it.
EVP_PKEY* MakeCurveParameters(const char* group) {
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group), 0),
      OSSL_PARAM_construct_end()};
  internal::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEY_PARAMETERS, params) != 1) {
    internal::DrainErrors();
    return nullptr;
  }
  return pkey;
}

const EVP_PKEY* CurveParameters(Curve curve) {
  // Process lifetime; never freed.
  static EVP_PKEY* const p256 = MakeCurveParameters("P-256");
  static EVP_PKEY* const p384 = MakeCurveParameters("P-384");
  return curve == Curve::kP256 ? p256 : p384;
}

}  // namespace

namespace internal {

int RefuseEncryptedPem(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return -1;  // never prompt on a terminal; encrypted keys fail to load
}

Result<Bytes> I2dPubkey(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  int length = i2d_PUBKEY(pkey, &der);
  if (length <= 0) {
    return OpenSslFailure(Code::kInternal, "crypto.key.encode_failed", "i2d_PUBKEY");
  }
  Bytes out(der, der + length);
  OPENSSL_free(der);
  return out;
}

Result<EvpPkeyPtr> RawKey(int type, ByteSpan raw, bool is_private) {
  if (raw.size() != 32) {
    return Malformed("crypto.key.bad_raw_length", "raw key must be 32 bytes, have {}", raw.size());
  }
  EVP_PKEY* pkey = is_private ? EVP_PKEY_new_raw_private_key(type, nullptr, raw.data(), raw.size())
                              : EVP_PKEY_new_raw_public_key(type, nullptr, raw.data(), raw.size());
  if (pkey == nullptr) {
    return OpenSslFailure(Code::kMalformed, "crypto.key.parse_failed", "raw key");
  }
  return EvpPkeyPtr(pkey);
}
}  // namespace internal

// ---- PublicKey ---------------------------------------------------------------------------------

PublicKey::PublicKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PublicKey::PublicKey(PublicKey&& other) noexcept = default;
PublicKey& PublicKey::operator=(PublicKey&& other) noexcept = default;
PublicKey::~PublicKey() = default;

Result<PublicKey> PublicKey::FromSpkiDer(ByteSpan der) {
  const unsigned char* cursor = der.data();
  EvpPkeyPtr pkey(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(der.size())));  // NOLINT
  if (!pkey) {
    return OpenSslFailure(Code::kMalformed, "crypto.key.parse_failed", "SubjectPublicKeyInfo");
  }
  if (cursor != der.data() + der.size()) {
    return Malformed("crypto.key.parse_failed", "{} bytes after the SubjectPublicKeyInfo",
                     der.data() + der.size() - cursor);
  }
  return KeyAccess::WrapPublic(std::move(pkey));
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  internal::BioPtr bio = internal::MemoryBio(AsBytes(pem));
  EvpPkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, RefuseEncryptedPem, nullptr));
  if (!pkey) {
    return OpenSslFailure(Code::kMalformed, "crypto.key.parse_failed", "PUBLIC KEY PEM");
  }
  return KeyAccess::WrapPublic(std::move(pkey));
}

Result<PublicKey> PublicKey::FromEcPoint(Curve curve, ByteSpan xy_big_endian) {
  const std::size_t n = CoordinateSize(curve);
  if (xy_big_endian.size() != 2 * n) {
    return Malformed("crypto.ec.bad_point_length", "{} point must be {} bytes (x‖y), have {}",
                     GroupName(curve), 2 * n, xy_big_endian.size());
  }
  // SEC 1 §2.3.3 uncompressed encoding: 0x04 ‖ x ‖ y.
  std::array<unsigned char, 1 + 2 * 48> encoded{};
  encoded[0] = 0x04;
  std::memcpy(encoded.data() + 1, xy_big_endian.data(), 2 * n);
  // Copying a parameters-only key and setting the point is about 3× faster than
  // EVP_PKEY_fromdata, which rebuilds the curve group every time: this runs once per TDX quote.
  const EVP_PKEY* parameters = CurveParameters(curve);
  if (parameters == nullptr) {
    return OpenSslFailure(Code::kInternal, "crypto.ec.parameters", GroupName(curve));
  }
  EvpPkeyPtr pkey(EVP_PKEY_dup(const_cast<EVP_PKEY*>(parameters)));
  if (!pkey) return OpenSslFailure(Code::kInternal, "crypto.ec.parameters", "EVP_PKEY_dup");
  if (EVP_PKEY_set1_encoded_public_key(pkey.get(), encoded.data(), 1 + 2 * n) != 1) {
    return OpenSslFailure(Code::kMalformed, "crypto.ec.point_not_on_curve",
                          fmt::format("{} public point rejected", GroupName(curve)));
  }
  return PublicKey(std::make_unique<Impl>(
      Impl{std::move(pkey), curve == Curve::kP256 ? KeyType::kEcP256 : KeyType::kEcP384}));
}

Result<PublicKey> PublicKey::FromEcPointLittleEndian(Curve curve, ByteSpan x_le, ByteSpan y_le) {
  const std::size_t n = CoordinateSize(curve);
  std::array<std::uint8_t, std::size_t{2} * 48> xy{};
  for (std::size_t i = 0; i < 2; ++i) {
    ByteSpan field = i == 0 ? x_le : y_le;
    if (field.size() < n) {
      return Malformed("crypto.ec.bad_point_length", "{} coordinate needs {} bytes, have {}",
                       GroupName(curve), n, field.size());
    }
    if (std::any_of(field.begin() + static_cast<std::ptrdiff_t>(n), field.end(),
                    [](std::uint8_t b) { return b != 0; })) {
      return Malformed("crypto.ec.nonzero_padding",
                       "{} coordinate has non-zero bytes beyond its {} significant bytes",
                       GroupName(curve), n);
    }
    std::reverse_copy(field.begin(), field.begin() + static_cast<std::ptrdiff_t>(n),
                      xy.begin() + static_cast<std::ptrdiff_t>(i * n));
  }
  return FromEcPoint(curve, ByteSpan(xy.data(), 2 * n));
}

Result<PublicKey> PublicKey::FromRsaModulusExponent(ByteSpan n_big_endian, ByteSpan e_big_endian) {
  internal::BnPtr n(BN_bin2bn(n_big_endian.data(), static_cast<int>(n_big_endian.size()), nullptr));
  internal::BnPtr e(BN_bin2bn(e_big_endian.data(), static_cast<int>(e_big_endian.size()), nullptr));
  if (!n || !e) return OpenSslFailure(Code::kInternal, "crypto.rsa.bad_parameters", "BN_bin2bn");
  // RFC 8017 §3.1: e is odd and 3 <= e < n.
  if (BN_is_zero(n.get()) || !BN_is_odd(n.get()) || !BN_is_odd(e.get()) || BN_is_one(e.get()) ||
      BN_cmp(e.get(), n.get()) >= 0) {
    return Malformed("crypto.rsa.bad_parameters", "RSA modulus/exponent are not a valid key");
  }
  std::unique_ptr<OSSL_PARAM_BLD, internal::Free<OSSL_PARAM_BLD_free>> builder(
      OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return OpenSslFailure(Code::kInternal, "crypto.rsa.bad_parameters", "OSSL_PARAM_BLD");
  }
  std::unique_ptr<OSSL_PARAM, internal::Free<OSSL_PARAM_free>> params(
      OSSL_PARAM_BLD_to_param(builder.get()));
  internal::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpenSslFailure(Code::kMalformed, "crypto.rsa.bad_parameters", "RSA key import");
  }
  return KeyAccess::WrapPublic(EvpPkeyPtr(raw));
}

Result<PublicKey> PublicKey::FromRawEd25519(ByteSpan raw) {
  LUNAL_ASSIGN_OR_RETURN(EvpPkeyPtr pkey, RawKey(EVP_PKEY_ED25519, raw, /*is_private=*/false));
  return KeyAccess::WrapPublic(std::move(pkey));
}

Result<PublicKey> PublicKey::FromRawX25519(ByteSpan raw) {
  LUNAL_ASSIGN_OR_RETURN(EvpPkeyPtr pkey, RawKey(EVP_PKEY_X25519, raw, /*is_private=*/false));
  return KeyAccess::WrapPublic(std::move(pkey));
}

PublicKey PublicKey::Clone() const {
  EVP_PKEY_up_ref(impl_->pkey.get());
  return PublicKey(std::make_unique<Impl>(Impl{EvpPkeyPtr(impl_->pkey.get()), impl_->type}));
}

KeyType PublicKey::Type() const { return impl_->type; }
int PublicKey::Bits() const { return EVP_PKEY_get_bits(impl_->pkey.get()); }

Result<Bytes> PublicKey::ToSpkiDer() const { return I2dPubkey(impl_->pkey.get()); }

Result<std::string> PublicKey::ToPem() const {
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), impl_->pkey.get()) != 1) {
    return OpenSslFailure(Code::kInternal, "crypto.key.encode_failed", "PEM_write_bio_PUBKEY");
  }
  return internal::BioToString(bio.get());
}

Result<Bytes> PublicKey::RawPublic() const {
  if (impl_->type != KeyType::kEd25519 && impl_->type != KeyType::kX25519) {
    return internal::WrongKeyType("RawPublic", impl_->type);
  }
  Bytes out(32);
  size_t length = out.size();
  if (EVP_PKEY_get_raw_public_key(impl_->pkey.get(), out.data(), &length) != 1 || length != 32) {
    return OpenSslFailure(Code::kInternal, "crypto.key.encode_failed", "raw public key");
  }
  return out;
}

Result<Bytes> PublicKey::EcPoint() const {
  if (impl_->type != KeyType::kEcP256 && impl_->type != KeyType::kEcP384) {
    return internal::WrongKeyType("EcPoint", impl_->type);
  }
  const std::size_t n = impl_->type == KeyType::kEcP256 ? 32 : 48;
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  EVP_PKEY_get_bn_param(impl_->pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x);
  EVP_PKEY_get_bn_param(impl_->pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y);
  internal::BnPtr x_owner(x);
  internal::BnPtr y_owner(y);
  Bytes out(2 * n);
  if (x == nullptr || y == nullptr || BN_bn2binpad(x, out.data(), static_cast<int>(n)) < 0 ||
      BN_bn2binpad(y, out.data() + n, static_cast<int>(n)) < 0) {
    return OpenSslFailure(Code::kInternal, "crypto.key.encode_failed", "EC public point");
  }
  return out;
}

Result<PublicKey::RsaNumbers> PublicKey::RsaPublicNumbers() const {
  if (impl_->type != KeyType::kRsa) return internal::WrongKeyType("RsaPublicNumbers", impl_->type);
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  EVP_PKEY_get_bn_param(impl_->pkey.get(), OSSL_PKEY_PARAM_RSA_N, &n);
  EVP_PKEY_get_bn_param(impl_->pkey.get(), OSSL_PKEY_PARAM_RSA_E, &e);
  internal::BnPtr n_owner(n);
  internal::BnPtr e_owner(e);
  if (n == nullptr || e == nullptr) {
    return OpenSslFailure(Code::kInternal, "crypto.key.encode_failed", "RSA numbers");
  }
  RsaNumbers out{Bytes(static_cast<std::size_t>(BN_num_bytes(n))),
                 Bytes(static_cast<std::size_t>(BN_num_bytes(e)))};
  BN_bn2bin(n, out.n.data());
  BN_bn2bin(e, out.e.data());
  return out;
}

bool operator==(const PublicKey& a, const PublicKey& b) {
  bool equal =
      a.impl_->type == b.impl_->type && EVP_PKEY_eq(a.impl_->pkey.get(), b.impl_->pkey.get()) == 1;
  ERR_clear_error();  // EVP_PKEY_eq queues errors for mismatched types
  return equal;
}

}  // namespace lunal::crypto
