// X.509 certificate parsing and accessors (RFC 5280 §4.1), and PEM chains (RFC 7468 §5).
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

#include "key_internal.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/x509.h"
#include "x509_internal.h"

namespace lunal::crypto {

using internal::OpenSslFailure;
using internal::X509Ptr;

struct Certificate::Impl {
  X509Ptr x509;
  Bytes der;
  std::array<std::uint8_t, 32> sha256;
  ByteSpan tbs;  // view into `der`
  std::chrono::sys_seconds not_before;
  std::chrono::sys_seconds not_after;
};

Certificate::Certificate(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<Certificate> Certificate::FromDer(ByteSpan der) {
  const unsigned char* cursor = der.data();
  X509Ptr x509(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));  // NOLINT
  if (!x509) {
    return OpenSslFailure(Code::kMalformed, "crypto.x509.parse_failed",
                          fmt::format("{} bytes are not a DER certificate", der.size()));
  }
  if (cursor != der.data() + der.size()) {
    return Malformed("crypto.x509.trailing_data", "{} bytes after the certificate's DER",
                     der.data() + der.size() - cursor);
  }
  auto impl = std::make_shared<Impl>();
  impl->der.assign(der.begin(), der.end());
  impl->sha256 = Sha256(der);
  std::optional<ByteSpan> tbs = internal::FirstElementOfSequence(impl->der);
  if (!tbs) return Malformed("crypto.x509.parse_failed", "no TBSCertificate in the DER");
  impl->tbs = *tbs;
  auto not_before = internal::FromAsn1Time(X509_get0_notBefore(x509.get()));
  auto not_after = internal::FromAsn1Time(X509_get0_notAfter(x509.get()));
  if (!not_before || !not_after) {
    return Malformed("crypto.x509.parse_failed", "certificate validity times do not parse");
  }
  impl->not_before = *not_before;
  impl->not_after = *not_after;
  // Decode and cache the extensions now, so later const accessors never mutate shared state.
  X509_check_purpose(x509.get(), -1, 0);
  ERR_clear_error();
  impl->x509 = std::move(x509);
  return Certificate(std::move(impl));
}

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  LUNAL_ASSIGN_OR_RETURN(std::vector<Certificate> certs, ParsePemChain(pem));
  if (certs.size() != 1) {
    return Malformed("crypto.x509.expected_one_certificate",
                     "expected one CERTIFICATE block, found {}", certs.size());
  }
  return std::move(certs.front());
}

Result<std::vector<Certificate>> ParsePemChain(std::string_view pem) {
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  // Intel's PCK chain in the quote's certification data counts a trailing NUL in its size.
  while (!pem.empty() && pem.back() == '\0') pem.remove_suffix(1);
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  std::vector<Certificate> out;
  std::size_t pos = 0;
  while (true) {
    while (pos < pem.size() && is_space(pem[pos])) ++pos;
    if (pos == pem.size()) break;
    if (pem.substr(pos, kBegin.size()) != kBegin) {
      return Malformed("crypto.x509.pem_garbage",
                       "expected \"{}\" at offset {} (certificate {}), found non-PEM text", kBegin,
                       pos, out.size());
    }
    std::size_t end = pem.find(kEnd, pos + kBegin.size());
    if (end == std::string_view::npos) {
      return Malformed("crypto.x509.parse_failed", "certificate {} at offset {} has no END line",
                       out.size(), pos);
    }
    std::string_view block = pem.substr(pos, end + kEnd.size() - pos);
    internal::BioPtr bio = internal::MemoryBio(AsBytes(block));
    unsigned char* data = nullptr;
    long length = 0;  // NOLINT(google-runtime-int): OpenSSL's type
    char* name = nullptr;
    char* header = nullptr;
    if (!bio || PEM_read_bio(bio.get(), &name, &header, &data, &length) != 1) {
      return OpenSslFailure(
          Code::kMalformed, "crypto.x509.parse_failed",
          fmt::format("certificate {} at offset {}: bad PEM body", out.size(), pos));
    }
    Bytes der(data, data + length);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    Result<Certificate> cert = Certificate::FromDer(der);
    if (!cert) {
      return std::move(cert).error().WithContext(
          fmt::format("certificate {} at offset {}: ", out.size(), pos));
    }
    out.push_back(std::move(cert).value());
    pos = end + kEnd.size();
  }
  if (out.empty()) return Malformed("crypto.x509.no_certificate", "no CERTIFICATE block found");
  return out;
}

ByteSpan Certificate::Der() const { return impl_->der; }
std::string Certificate::ToPem() const { return internal::PemEncode("CERTIFICATE", impl_->der); }
std::array<std::uint8_t, 32> Certificate::Sha256OfDer() const { return impl_->sha256; }
ByteSpan Certificate::TbsDer() const { return impl_->tbs; }

Bytes Certificate::SignatureValue() const {
  const ASN1_BIT_STRING* signature = nullptr;
  X509_get0_signature(&signature, nullptr, impl_->x509.get());
  const unsigned char* data = ASN1_STRING_get0_data(signature);
  return Bytes(data, data + ASN1_STRING_length(signature));
}

namespace {
std::string ObjectText(const ASN1_OBJECT* object, bool numeric) {
  char buffer[128];
  int length = OBJ_obj2txt(buffer, sizeof(buffer), object, numeric ? 1 : 0);
  if (length <= 0) return {};
  return std::string(buffer,
                     std::min<std::size_t>(static_cast<std::size_t>(length), sizeof(buffer) - 1));
}

// OBJ_txt2obj in numeric-only mode, after checking the text is a dotted OID (so "basicConstraints"
// or an empty string never match by name).
internal::Asn1ObjectPtr DottedOid(std::string_view dotted) {
  bool valid = !dotted.empty() && dotted.front() != '.' && dotted.back() != '.' &&
               std::all_of(dotted.begin(), dotted.end(),
                           [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  if (!valid) return nullptr;
  internal::Asn1ObjectPtr object(OBJ_txt2obj(std::string(dotted).c_str(), 1));
  if (!object) ERR_clear_error();
  return object;
}

X509_EXTENSION* FindExtension(X509* x509, std::string_view dotted) {
  internal::Asn1ObjectPtr object = DottedOid(dotted);
  if (!object) return nullptr;
  int index = X509_get_ext_by_OBJ(x509, object.get(), -1);
  return index < 0 ? nullptr : X509_get_ext(x509, index);
}
}  // namespace

std::string Certificate::SignatureAlgorithm() const {
  const X509_ALGOR* algorithm = nullptr;
  X509_get0_signature(nullptr, &algorithm, impl_->x509.get());
  const ASN1_OBJECT* object = nullptr;
  X509_ALGOR_get0(&object, nullptr, nullptr, algorithm);
  int nid = OBJ_obj2nid(object);
  if (nid != NID_undef && OBJ_nid2sn(nid) != nullptr) return OBJ_nid2sn(nid);
  return ObjectText(object, /*numeric=*/true);
}

std::string Certificate::SubjectName() const {
  return internal::NameToString(X509_get_subject_name(impl_->x509.get()));
}
std::string Certificate::IssuerName() const {
  return internal::NameToString(X509_get_issuer_name(impl_->x509.get()));
}

std::string Certificate::SubjectCommonName() const {
  const X509_NAME* name = X509_get_subject_name(impl_->x509.get());
  int index = -1;
  int last = -1;
  while ((index = X509_NAME_get_index_by_NID(name, NID_commonName, index)) >= 0) last = index;
  if (last < 0) return {};
  unsigned char* utf8 = nullptr;
  int length =
      ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last)));
  if (length < 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

std::string Certificate::SerialHex() const {
  return internal::IntegerHex(X509_get0_serialNumber(impl_->x509.get()));
}

std::chrono::sys_seconds Certificate::NotBefore() const { return impl_->not_before; }
std::chrono::sys_seconds Certificate::NotAfter() const { return impl_->not_after; }

bool Certificate::IsCa() const {
  return (X509_get_extension_flags(impl_->x509.get()) & EXFLAG_CA) != 0;
}

bool Certificate::IsSelfSigned() const {
  bool self_signed = X509_self_signed(impl_->x509.get(), /*verify_signature=*/1) == 1;
  ERR_clear_error();
  return self_signed;
}

Result<crypto::PublicKey> Certificate::PublicKey() const {
  EVP_PKEY* pkey = X509_get_pubkey(impl_->x509.get());  // up-ref'd
  if (pkey == nullptr) {
    return OpenSslFailure(Code::kUnsupported, "crypto.key.unsupported_type",
                          "certificate public key");
  }
  return internal::KeyAccess::WrapPublic(internal::EvpPkeyPtr(pkey));
}

std::optional<Bytes> Certificate::Extension(std::string_view dotted_oid) const {
  X509_EXTENSION* extension = FindExtension(impl_->x509.get(), dotted_oid);
  if (extension == nullptr) return std::nullopt;
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(extension);
  const unsigned char* data = ASN1_STRING_get0_data(value);
  return Bytes(data, data + ASN1_STRING_length(value));
}

std::optional<bool> Certificate::IsExtensionCritical(std::string_view dotted_oid) const {
  X509_EXTENSION* extension = FindExtension(impl_->x509.get(), dotted_oid);
  if (extension == nullptr) return std::nullopt;
  return X509_EXTENSION_get_critical(extension) == 1;
}

std::vector<std::string> Certificate::ExtensionOids() const {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(std::max(0, X509_get_ext_count(impl_->x509.get()))));
  for (int i = 0; i < X509_get_ext_count(impl_->x509.get()); ++i) {
    out.push_back(ObjectText(X509_EXTENSION_get_object(X509_get_ext(impl_->x509.get(), i)), true));
  }
  return out;
}

Status Certificate::VerifySignedBy(const Certificate& issuer) const {
  X509* subject = impl_->x509.get();
  X509* issuer_x509 = issuer.impl_->x509.get();
  if (X509_NAME_cmp(X509_get_issuer_name(subject), X509_get_subject_name(issuer_x509)) != 0) {
    return VerificationFailed("crypto.x509.issuer_mismatch",
                              "certificate issuer \"{}\" is not \"{}\"", IssuerName(),
                              issuer.SubjectName());
  }
  if (X509_verify(subject, X509_get0_pubkey(issuer_x509)) != 1) {
    return OpenSslFailure(Code::kVerificationFailed, "crypto.x509.signature_invalid",
                          fmt::format("signature on \"{}\" does not verify under \"{}\"",
                                      SubjectName(), issuer.SubjectName()));
  }
  return Status::Ok();
}

bool operator==(const Certificate& a, const Certificate& b) {
  return a.impl_ == b.impl_ || a.impl_->der == b.impl_->der;
}

namespace internal {

X509* X509Access::Get(const Certificate& cert) { return cert.impl_->x509.get(); }

Result<Certificate> X509Access::Wrap(X509Ptr x509) {
  unsigned char* der = nullptr;
  int length = i2d_X509(x509.get(), &der);
  if (length <= 0) {
    return OpenSslFailure(Code::kInternal, "crypto.x509.encode_failed", "i2d_X509");
  }
  Bytes bytes(der, der + length);
  OPENSSL_free(der);
  return Certificate::FromDer(bytes);
}

}  // namespace internal

}  // namespace lunal::crypto
