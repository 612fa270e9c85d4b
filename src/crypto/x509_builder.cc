// Certificate and CRL construction (RFC 5280 §4.1, §5.1) for tests and the simulated CA.
#include "lunal/crypto/x509_builder.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "key_internal.h"
#include "lunal/crypto/random.h"
#include "x509_internal.h"

namespace lunal::crypto {

using internal::KeyAccess;
using internal::OpenSslFailure;
using internal::X509Access;

namespace {

Status BuilderFailure(std::string_view what) {
  return OpenSslFailure(Code::kInternal, "crypto.builder.failed", what);
}

// The digest X509_sign / X509_CRL_sign need: none for Ed25519 (RFC 8410 §6), else ECDSA's.
Result<const EVP_MD*> SigningDigest(const PrivateKey& key, DigestAlgorithm digest) {
  switch (key.Type()) {
    case KeyType::kEd25519:
      return static_cast<const EVP_MD*>(nullptr);
    case KeyType::kEcP256:
    case KeyType::kEcP384:
      return internal::Md(digest);
    default:
      return internal::WrongKeyType("certificate signing", key.Type());
  }
}

Result<internal::Asn1IntegerPtr> IntegerFromBytes(ByteSpan big_endian) {
  internal::BnPtr bn(BN_bin2bn(big_endian.data(), static_cast<int>(big_endian.size()), nullptr));
  internal::Asn1IntegerPtr integer(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (!integer) return BuilderFailure("serial number");
  return integer;
}

// Adds an extension from OpenSSL's configuration syntax ("critical,CA:TRUE,pathlen:0").
Status AddConfExtension(X509* x509, X509V3_CTX* ctx, int nid, const std::string& value) {
  internal::X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!extension || X509_add_ext(x509, extension.get(), -1) != 1) {
    return BuilderFailure(fmt::format("extension {} = {}", OBJ_nid2sn(nid), value));
  }
  return Status::Ok();
}

std::string KeyUsageText(std::uint32_t bits) {
  std::string out = "critical";
  if (bits & kKeyUsageDigitalSignature) out += ",digitalSignature";
  if (bits & kKeyUsageKeyEncipherment) out += ",keyEncipherment";
  if (bits & kKeyUsageKeyAgreement) out += ",keyAgreement";
  if (bits & kKeyUsageKeyCertSign) out += ",keyCertSign";
  if (bits & kKeyUsageCrlSign) out += ",cRLSign";
  return out;
}

Status AddSubjectAltNames(X509* x509, const std::vector<std::string>& uris,
                          const std::vector<std::string>& dns_names) {
  if (uris.empty() && dns_names.empty()) return Status::Ok();
  std::unique_ptr<GENERAL_NAMES, internal::Free<GENERAL_NAMES_free>> names(
      sk_GENERAL_NAME_new_null());
  auto add = [&](int type, const std::string& value) {
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    GENERAL_NAME* name = GENERAL_NAME_new();
    if (text == nullptr || name == nullptr ||
        ASN1_STRING_set(text, value.data(), static_cast<int>(value.size())) != 1) {
      ASN1_IA5STRING_free(text);
      GENERAL_NAME_free(name);
      return false;
    }
    GENERAL_NAME_set0_value(name, type, text);
    if (sk_GENERAL_NAME_push(names.get(), name) <= 0) {
      GENERAL_NAME_free(name);
      return false;
    }
    return true;
  };
  for (const std::string& uri : uris) {
    if (!add(GEN_URI, uri)) return BuilderFailure("subjectAltName URI");
  }
  for (const std::string& dns : dns_names) {
    if (!add(GEN_DNS, dns)) return BuilderFailure("subjectAltName DNS");
  }
  if (!names ||
      X509_add1_ext_i2d(x509, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return BuilderFailure("subjectAltName");
  }
  return Status::Ok();
}

Status AddCustomExtension(X509* x509, const std::string& oid, ByteSpan value, bool critical) {
  internal::Asn1ObjectPtr object(OBJ_txt2obj(oid.c_str(), 1));
  internal::Asn1OctetStringPtr octets(ASN1_OCTET_STRING_new());
  if (!object || !octets ||
      ASN1_OCTET_STRING_set(octets.get(), value.data(), static_cast<int>(value.size())) != 1) {
    ERR_clear_error();
    return InvalidArgument("crypto.builder.invalid", "extension OID \"{}\" is not a dotted OID",
                           oid);
  }
  internal::X509ExtensionPtr extension(
      X509_EXTENSION_create_by_OBJ(nullptr, object.get(), critical ? 1 : 0, octets.get()));
  if (!extension || X509_add_ext(x509, extension.get(), -1) != 1) {
    return BuilderFailure(fmt::format("extension {}", oid));
  }
  return Status::Ok();
}

}  // namespace

CertificateBuilder::CertificateBuilder() = default;
CertificateBuilder::CertificateBuilder(CertificateBuilder&&) noexcept = default;
CertificateBuilder& CertificateBuilder::operator=(CertificateBuilder&&) noexcept = default;
CertificateBuilder::~CertificateBuilder() = default;

CertificateBuilder::CertificateBuilder(const CertificateBuilder& other)
    : subject_(other.subject_),
      serial_(other.serial_),
      not_before_(other.not_before_),
      not_after_(other.not_after_),
      is_ca_(other.is_ca_),
      path_length_(other.path_length_),
      key_usage_(other.key_usage_),
      extended_key_usage_(other.extended_key_usage_),
      san_uris_(other.san_uris_),
      san_dns_(other.san_dns_),
      extensions_(other.extensions_),
      digest_(other.digest_) {
  if (other.subject_key_) subject_key_ = other.subject_key_->Clone();
}

CertificateBuilder& CertificateBuilder::operator=(const CertificateBuilder& other) {
  if (this != &other) *this = CertificateBuilder(other);
  return *this;
}

CertificateBuilder& CertificateBuilder::AddSubjectAttribute(std::string short_name,
                                                            std::string value) {
  subject_.emplace_back(std::move(short_name), std::move(value));
  return *this;
}
CertificateBuilder& CertificateBuilder::SubjectCommonName(std::string cn) {
  return AddSubjectAttribute("CN", std::move(cn));
}
CertificateBuilder& CertificateBuilder::SubjectOrganization(std::string o) {
  return AddSubjectAttribute("O", std::move(o));
}
CertificateBuilder& CertificateBuilder::Serial(Bytes serial_big_endian) {
  serial_ = std::move(serial_big_endian);
  return *this;
}
CertificateBuilder& CertificateBuilder::Validity(std::chrono::sys_seconds not_before,
                                                 std::chrono::sys_seconds not_after) {
  not_before_ = not_before;
  not_after_ = not_after;
  return *this;
}
CertificateBuilder& CertificateBuilder::SubjectKey(const PublicKey& key) {
  subject_key_ = key.Clone();
  return *this;
}
CertificateBuilder& CertificateBuilder::Ca(bool is_ca, int path_length) {
  is_ca_ = is_ca;
  path_length_ = path_length;
  return *this;
}
CertificateBuilder& CertificateBuilder::KeyUsageBits(std::uint32_t bits) {
  key_usage_ = bits;
  return *this;
}
CertificateBuilder& CertificateBuilder::ExtendedKeyUsage(std::vector<std::string> dotted_oids) {
  extended_key_usage_ = std::move(dotted_oids);
  return *this;
}
CertificateBuilder& CertificateBuilder::AddSanUri(std::string uri) {
  san_uris_.push_back(std::move(uri));
  return *this;
}
CertificateBuilder& CertificateBuilder::AddSanDns(std::string dns_name) {
  san_dns_.push_back(std::move(dns_name));
  return *this;
}
CertificateBuilder& CertificateBuilder::AddExtension(std::string dotted_oid, Bytes der_value,
                                                     bool critical) {
  extensions_.push_back({std::move(dotted_oid), std::move(der_value), critical});
  return *this;
}
CertificateBuilder& CertificateBuilder::Digest(DigestAlgorithm digest) {
  digest_ = digest;
  return *this;
}

Result<Certificate> CertificateBuilder::SelfSign(const PrivateKey& key) const {
  return Build(nullptr, key);
}

Result<Certificate> CertificateBuilder::SignWith(const Certificate& issuer,
                                                 const PrivateKey& issuer_key) const {
  if (X509_check_private_key(X509Access::Get(issuer), KeyAccess::Get(issuer_key)) != 1) {
    ERR_clear_error();
    return InvalidArgument("crypto.builder.invalid",
                           "the issuer key does not match the issuer certificate \"{}\"",
                           issuer.SubjectName());
  }
  return Build(&issuer, issuer_key);
}

Result<Certificate> CertificateBuilder::Build(const Certificate* issuer,
                                              const PrivateKey& signer) const {
  LUNAL_ASSIGN_OR_RETURN(const EVP_MD* md, SigningDigest(signer, digest_));
  if (subject_.empty()) return InvalidArgument("crypto.builder.invalid", "the subject is empty");
  if (not_after_ <= not_before_) {
    return InvalidArgument("crypto.builder.invalid", "Validity() must set not_after > not_before");
  }
  if (issuer != nullptr && !subject_key_) {
    return InvalidArgument("crypto.builder.invalid", "SubjectKey() is required unless self-signed");
  }
  internal::X509Ptr x509(X509_new());
  if (!x509 || X509_set_version(x509.get(), X509_VERSION_3) != 1) return BuilderFailure("X509");

  Bytes serial = serial_.value_or(Bytes{});
  if (!serial_) {
    serial = RandomBytes(16);
    serial[0] = static_cast<std::uint8_t>((serial[0] & 0x7f) | 0x40);  // positive, 16 bytes
  }
  LUNAL_ASSIGN_OR_RETURN(internal::Asn1IntegerPtr serial_number, IntegerFromBytes(serial));
  internal::X509NamePtr name(X509_NAME_new());
  if (!name) return BuilderFailure("X509_NAME");
  for (const auto& [field, value] : subject_) {
    if (X509_NAME_add_entry_by_txt(name.get(), field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0) != 1) {
      ERR_clear_error();
      return InvalidArgument("crypto.builder.invalid", "subject attribute {}=\"{}\" refused", field,
                             value);
    }
  }
  X509* issuer_x509 = issuer != nullptr ? X509Access::Get(*issuer) : x509.get();
  EVP_PKEY* subject_pkey = subject_key_ ? KeyAccess::Get(*subject_key_) : KeyAccess::Get(signer);
  if (X509_set_serialNumber(x509.get(), serial_number.get()) != 1 ||
      X509_set_subject_name(x509.get(), name.get()) != 1 ||
      X509_set_issuer_name(x509.get(), X509_get_subject_name(issuer_x509)) != 1 ||
      X509_set1_notBefore(x509.get(), internal::ToAsn1Time(not_before_).get()) != 1 ||
      X509_set1_notAfter(x509.get(), internal::ToAsn1Time(not_after_).get()) != 1 ||
      X509_set_pubkey(x509.get(), subject_pkey) != 1) {
    return BuilderFailure("certificate fields");
  }

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_x509, x509.get(), nullptr, nullptr, 0);
  std::string basic = is_ca_ ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (is_ca_ && path_length_ >= 0) basic += fmt::format(",pathlen:{}", path_length_);
  std::uint32_t usage = key_usage_.value_or(is_ca_ ? (kKeyUsageKeyCertSign | kKeyUsageCrlSign)
                                                   : kKeyUsageDigitalSignature);
  // subjectKeyIdentifier first: a self-signed certificate's authorityKeyIdentifier copies it.
  LUNAL_RETURN_IF_ERROR(AddConfExtension(x509.get(), &ctx, NID_subject_key_identifier, "hash"));
  LUNAL_RETURN_IF_ERROR(
      AddConfExtension(x509.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  LUNAL_RETURN_IF_ERROR(AddConfExtension(x509.get(), &ctx, NID_basic_constraints, basic));
  if (usage != 0) {
    LUNAL_RETURN_IF_ERROR(AddConfExtension(x509.get(), &ctx, NID_key_usage, KeyUsageText(usage)));
  }
  if (!extended_key_usage_.empty()) {
    std::string text;
    for (const std::string& oid : extended_key_usage_) text += (text.empty() ? "" : ",") + oid;
    LUNAL_RETURN_IF_ERROR(AddConfExtension(x509.get(), &ctx, NID_ext_key_usage, text));
  }
  LUNAL_RETURN_IF_ERROR(AddSubjectAltNames(x509.get(), san_uris_, san_dns_));
  for (const CustomExtension& extension : extensions_) {
    LUNAL_RETURN_IF_ERROR(
        AddCustomExtension(x509.get(), extension.oid, extension.value, extension.critical));
  }
  if (X509_sign(x509.get(), KeyAccess::Get(signer), md) <= 0) return BuilderFailure("X509_sign");
  return X509Access::Wrap(std::move(x509));
}

// ---- CrlBuilder --------------------------------------------------------------------------------

CrlBuilder& CrlBuilder::Updates(std::chrono::sys_seconds this_update,
                                std::optional<std::chrono::sys_seconds> next_update) {
  this_update_ = this_update;
  next_update_ = next_update;
  return *this;
}
CrlBuilder& CrlBuilder::Revoke(std::string serial_hex, std::chrono::sys_seconds when) {
  revoked_.emplace_back(std::move(serial_hex), when);
  return *this;
}
CrlBuilder& CrlBuilder::CrlNumber(std::uint64_t number) {
  crl_number_ = number;
  return *this;
}
CrlBuilder& CrlBuilder::Digest(DigestAlgorithm digest) {
  digest_ = digest;
  return *this;
}

Result<Crl> CrlBuilder::Sign(const Certificate& issuer, const PrivateKey& issuer_key) const {
  LUNAL_ASSIGN_OR_RETURN(const EVP_MD* md, SigningDigest(issuer_key, digest_));
  X509* issuer_x509 = X509Access::Get(issuer);
  if (X509_check_private_key(issuer_x509, KeyAccess::Get(issuer_key)) != 1) {
    ERR_clear_error();
    return InvalidArgument("crypto.builder.invalid",
                           "the issuer key does not match the CRL issuer \"{}\"",
                           issuer.SubjectName());
  }
  internal::X509CrlPtr crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), 1) != 1 ||  // 1 = v2 (RFC 5280 §5.1.2.1)
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer_x509)) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), internal::ToAsn1Time(this_update_).get()) != 1 ||
      (next_update_ &&
       X509_CRL_set1_nextUpdate(crl.get(), internal::ToAsn1Time(*next_update_).get()) != 1)) {
    return BuilderFailure("CRL fields");
  }
  for (const auto& [serial_hex, when] : revoked_) {
    std::optional<std::string> normalized = internal::NormalizeSerialHex(serial_hex);
    BIGNUM* raw_bn = nullptr;
    if (!normalized || normalized->front() == '-' || BN_hex2bn(&raw_bn, normalized->c_str()) == 0) {
      BN_free(raw_bn);
      return InvalidArgument("crypto.builder.invalid", "revoked serial \"{}\" is not hex",
                             serial_hex);
    }
    internal::BnPtr bn(raw_bn);
    internal::Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    X509_REVOKED* entry = X509_REVOKED_new();
    if (!serial || entry == nullptr || X509_REVOKED_set_serialNumber(entry, serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(entry, internal::ToAsn1Time(when).get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), entry) != 1) {
      X509_REVOKED_free(entry);
      return BuilderFailure("revoked entry");
    }
  }
  X509_CRL_sort(crl.get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_x509, nullptr, nullptr, crl.get(), 0);
  internal::X509ExtensionPtr aki(
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  internal::Asn1IntegerPtr number(ASN1_INTEGER_new());
  if (!aki || X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1 || !number ||
      ASN1_INTEGER_set_uint64(number.get(), crl_number_) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1) {
    return BuilderFailure("CRL extensions");
  }
  if (X509_CRL_sign(crl.get(), KeyAccess::Get(issuer_key), md) <= 0) {
    return BuilderFailure("X509_CRL_sign");
  }
  return X509Access::Wrap(std::move(crl));
}

}  // namespace lunal::crypto
