// Private helpers shared by the crypto implementation: owning pointers for OpenSSL objects, the
// error-queue-to-Status conversion, digests fetched once, and time conversions. Never included by
// a public header, so no OpenSSL type leaks to callers.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/crypto/digest.h"

namespace lunal::crypto::internal {

// unique_ptr deleter calling an OpenSSL free function.
template <auto FreeFn>
struct Free {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

using BioPtr = std::unique_ptr<BIO, Free<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Free<ECDSA_SIG_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Free<EVP_CIPHER_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, Free<X509_CRL_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Free<X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, Free<ASN1_OBJECT_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Free<ASN1_INTEGER_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Free<ASN1_TIME_free>>;
using Asn1OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, Free<ASN1_OCTET_STRING_free>>;

// Drains OpenSSL's thread-local error queue into one line ("reason; reason") and clears it, so a
// failure never leaks stale errors into the next, unrelated call. "no OpenSSL detail" when empty.
std::string DrainErrors();

// Status with OpenSSL's reasons appended to the message ("...: <openssl reasons>"). Clears the
// error queue.
Status OpenSslFailure(Code code, std::string reason, std::string_view what);

// Aborts with a message: for failures that can only be our bug or memory exhaustion, where the
// public interface promises no error (digests, random bytes).
[[noreturn]] void FatalOpenSslError(std::string_view what);

// The EVP_MD for an algorithm, fetched once per process (EVP_MD_fetch is slow in OpenSSL 3;
// implicit fetches by name on every call cost more than hashing a quote).
const EVP_MD* Md(DigestAlgorithm algorithm);
std::string_view DigestName(DigestAlgorithm algorithm);

// ASN1_TIME <-> sys_seconds. FromAsn1Time fails (crypto.time.invalid) on an unparsable time.
Result<std::chrono::sys_seconds> FromAsn1Time(const ASN1_TIME* time);
Asn1TimePtr ToAsn1Time(std::chrono::sys_seconds time);
std::int64_t ToTimeT(std::chrono::sys_seconds time);

// Lowercase hex without separators.
std::string Hex(ByteSpan bytes);

// A serial number (or any INTEGER) as lowercase hex of its magnitude without leading zeros ("0"
// for zero; a leading '-' for negative values, which RFC 5280 §4.1.2.2 forbids but CAs issued).
std::string IntegerHex(const ASN1_INTEGER* integer);
// Normalizes caller-supplied serial hex the same way (case, leading zeros, optional ':' between
// bytes). nullopt when it is not hex.
std::optional<std::string> NormalizeSerialHex(std::string_view hex);

// RFC 7468 textual encoding: "-----BEGIN <label>-----", base64 in 64-character lines, END line.
std::string PemEncode(std::string_view label, ByteSpan der);

// A BIO reading `bytes` without copying. The bytes must outlive the BIO.
BioPtr MemoryBio(ByteSpan bytes);
// Everything written to a memory BIO, as a string.
std::string BioToString(BIO* bio);

// The TLV of the first element inside the DER SEQUENCE `der` (the TBSCertificate of a
// Certificate, the TBSCertList of a CertificateList; RFC 5280 §4.1 and §5.1), as a view into
// `der`. nullopt when `der` is not a definite-length SEQUENCE holding a complete element.
std::optional<ByteSpan> FirstElementOfSequence(ByteSpan der);

// RFC 2253 one-line form of a name, UTF-8 kept as is. RFC 2253 §2.1 prints the RDNs in reverse of
// their encoded order: Intel's root prints "C=US,ST=CA,L=Santa Clara,O=Intel Corporation,CN=...".
std::string NameToString(const X509_NAME* name);

}  // namespace lunal::crypto::internal
