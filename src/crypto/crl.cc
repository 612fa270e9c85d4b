// Certificate revocation lists (RFC 5280 §5).
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

#include "lunal/crypto/digest.h"
#include "lunal/crypto/x509.h"
#include "x509_internal.h"

namespace lunal::crypto {

using internal::OpenSslFailure;
using internal::X509CrlPtr;

struct Crl::Impl {
  X509CrlPtr crl;
  Bytes der;
  std::array<std::uint8_t, 32> sha256;
  std::chrono::sys_seconds this_update;
  std::optional<std::chrono::sys_seconds> next_update;
  std::vector<std::string> revoked;  // normalized hex, sorted
};

Crl::Crl(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<Crl> Crl::FromDer(ByteSpan der) {
  const unsigned char* cursor = der.data();
  X509CrlPtr crl(d2i_X509_CRL(nullptr, &cursor, static_cast<long>(der.size())));  // NOLINT
  if (!crl) {
    return OpenSslFailure(Code::kMalformed, "crypto.crl.parse_failed",
                          fmt::format("{} bytes are not a DER CRL", der.size()));
  }
  if (cursor != der.data() + der.size()) {
    return Malformed("crypto.crl.trailing_data", "{} bytes after the CRL's DER",
                     der.data() + der.size() - cursor);
  }
  auto impl = std::make_shared<Impl>();
  impl->der.assign(der.begin(), der.end());
  impl->sha256 = Sha256(der);
  auto this_update = internal::FromAsn1Time(X509_CRL_get0_lastUpdate(crl.get()));
  if (!this_update) return Malformed("crypto.crl.parse_failed", "CRL thisUpdate does not parse");
  impl->this_update = *this_update;
  if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get()); next != nullptr) {
    auto next_update = internal::FromAsn1Time(next);
    if (!next_update) {
      return Malformed("crypto.crl.parse_failed", "CRL nextUpdate does not parse");
    }
    impl->next_update = *next_update;
  }
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    impl->revoked.push_back(
        internal::IntegerHex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i))));
  }
  std::sort(impl->revoked.begin(), impl->revoked.end());
  ERR_clear_error();
  impl->crl = std::move(crl);
  return Crl(std::move(impl));
}

Result<Crl> Crl::FromPem(std::string_view pem) {
  while (!pem.empty() && pem.back() == '\0') pem.remove_suffix(1);
  internal::BioPtr bio = internal::MemoryBio(AsBytes(pem));
  unsigned char* data = nullptr;
  long length = 0;  // NOLINT(google-runtime-int): OpenSSL's type
  if (!bio || PEM_bytes_read_bio(&data, &length, nullptr, PEM_STRING_X509_CRL, bio.get(), nullptr,
                                 nullptr) != 1) {
    return OpenSslFailure(Code::kMalformed, "crypto.crl.parse_failed", "X509 CRL PEM");
  }
  Bytes der(data, data + length);
  OPENSSL_free(data);
  // Only whitespace may follow the block.
  char rest = 0;
  while (BIO_read(bio.get(), &rest, 1) == 1) {
    if (!std::isspace(static_cast<unsigned char>(rest))) {
      return Malformed("crypto.crl.trailing_data", "text after the X509 CRL PEM block");
    }
  }
  return FromDer(der);
}

Result<Crl> Crl::FromDerOrPem(ByteSpan bytes) {
  std::string_view text = AsStringView(bytes);
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text.substr(first).starts_with("-----BEGIN")) {
    return FromPem(text);
  }
  return FromDer(bytes);
}

ByteSpan Crl::Der() const { return impl_->der; }
std::string Crl::ToPem() const { return internal::PemEncode("X509 CRL", impl_->der); }
std::array<std::uint8_t, 32> Crl::Sha256OfDer() const { return impl_->sha256; }

std::string Crl::IssuerName() const {
  return internal::NameToString(X509_CRL_get_issuer(impl_->crl.get()));
}

std::chrono::sys_seconds Crl::ThisUpdate() const { return impl_->this_update; }
std::optional<std::chrono::sys_seconds> Crl::NextUpdate() const { return impl_->next_update; }

std::optional<std::string> Crl::CrlNumberHex() const {
  int critical = 0;
  internal::Asn1IntegerPtr number(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(impl_->crl.get(), NID_crl_number, &critical, nullptr)));
  ERR_clear_error();
  if (!number) return std::nullopt;
  return internal::IntegerHex(number.get());
}

bool Crl::IsRevoked(std::string_view serial_hex) const {
  std::optional<std::string> normalized = internal::NormalizeSerialHex(serial_hex);
  return normalized &&
         std::binary_search(impl_->revoked.begin(), impl_->revoked.end(), *normalized);
}

bool Crl::IsRevoked(const Certificate& cert) const {
  X509* x509 = internal::X509Access::Get(cert);
  return X509_NAME_cmp(X509_get_issuer_name(x509), X509_CRL_get_issuer(impl_->crl.get())) == 0 &&
         IsRevoked(cert.SerialHex());
}

const std::vector<std::string>& Crl::RevokedSerials() const { return impl_->revoked; }

Status Crl::VerifySignature(const Certificate& issuer) const {
  X509* issuer_x509 = internal::X509Access::Get(issuer);
  if (X509_NAME_cmp(X509_get_subject_name(issuer_x509), X509_CRL_get_issuer(impl_->crl.get())) !=
      0) {
    return VerificationFailed("crypto.crl.issuer_mismatch", "CRL issuer \"{}\" is not \"{}\"",
                              IssuerName(), issuer.SubjectName());
  }
  if (X509_CRL_verify(impl_->crl.get(), X509_get0_pubkey(issuer_x509)) != 1) {
    return OpenSslFailure(Code::kVerificationFailed, "crypto.crl.signature_invalid",
                          fmt::format("CRL signature does not verify under \"{}\" (sha256 {})",
                                      issuer.SubjectName(), internal::Hex(issuer.Sha256OfDer())));
  }
  return Status::Ok();
}

namespace internal {

X509_CRL* X509Access::Get(const Crl& crl) { return crl.impl_->crl.get(); }

Result<Crl> X509Access::Wrap(X509CrlPtr crl) {
  unsigned char* der = nullptr;
  int length = i2d_X509_CRL(crl.get(), &der);
  if (length <= 0) {
    return OpenSslFailure(Code::kInternal, "crypto.crl.encode_failed", "i2d_X509_CRL");
  }
  Bytes bytes(der, der + length);
  OPENSSL_free(der);
  return Crl::FromDer(bytes);
}

}  // namespace internal

}  // namespace lunal::crypto
