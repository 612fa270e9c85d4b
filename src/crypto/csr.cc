// PKCS#10 (RFC 2986) parsing with proof-of-possession check, and building.
#include "lunal/crypto/csr.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "key_internal.h"
#include "openssl_util.h"

namespace lunal::crypto {

using internal::KeyAccess;
using internal::OpenSslFailure;

namespace {
using X509ReqPtr = std::unique_ptr<X509_REQ, internal::Free<X509_REQ_free>>;
constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE REQUEST-----";
}  // namespace

Result<ParsedCsr> ParseCsrPem(std::string_view pem) {
  // One block, whitespace around it only.
  const auto first = pem.find(kBegin);
  if (first == std::string_view::npos || pem.find(kBegin, first + 1) != std::string_view::npos ||
      pem.substr(0, first).find_first_not_of(" \t\r\n") != std::string_view::npos) {
    return Malformed("crypto.csr.parse_failed", "expected exactly one CERTIFICATE REQUEST block");
  }
  internal::BioPtr bio = internal::MemoryBio(AsBytes(pem));
  X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) return OpenSslFailure(Code::kMalformed, "crypto.csr.parse_failed", "CSR PEM");
  const std::string rest = internal::BioToString(bio.get());
  if (rest.find_first_not_of(" \t\r\n") != std::string::npos) {
    return Malformed("crypto.csr.parse_failed", "bytes after the CERTIFICATE REQUEST block");
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr) return OpenSslFailure(Code::kMalformed, "crypto.csr.parse_failed", "key");
  if (X509_REQ_verify(req.get(), key) != 1) {
    internal::DrainErrors();
    return VerificationFailed("crypto.csr.signature_invalid",
                              "the request's self-signature does not verify under its key");
  }
  EVP_PKEY_up_ref(key);
  LUNAL_ASSIGN_OR_RETURN(PublicKey public_key, KeyAccess::WrapPublic(internal::EvpPkeyPtr(key)));
  LUNAL_ASSIGN_OR_RETURN(Bytes spki, public_key.ToSpkiDer());
  return ParsedCsr{.public_key = std::move(public_key),
                   .spki_der = std::move(spki),
                   .subject = internal::NameToString(X509_REQ_get_subject_name(req.get()))};
}

Result<std::string> BuildCsrPem(const PrivateKey& key, std::string_view common_name) {
  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1) {
    return OpenSslFailure(Code::kInternal, "crypto.csr.build_failed", "X509_REQ_new");
  }
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  const std::string cn(common_name);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_REQ_set_pubkey(req.get(), KeyAccess::Get(key)) != 1) {
    return OpenSslFailure(Code::kInternal, "crypto.csr.build_failed", "subject/key");
  }
  const EVP_MD* md =
      key.Type() == KeyType::kEd25519 ? nullptr : internal::Md(DigestAlgorithm::kSha256);
  if (X509_REQ_sign(req.get(), KeyAccess::Get(key), md) <= 0) {
    return OpenSslFailure(Code::kInternal, "crypto.csr.build_failed", "signing");
  }
  internal::BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509_REQ(out.get(), req.get()) != 1) {
    return OpenSslFailure(Code::kInternal, "crypto.csr.build_failed", "PEM");
  }
  return internal::BioToString(out.get());
}

}  // namespace lunal::crypto
