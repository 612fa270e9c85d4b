// PKCS#10 certification requests (RFC 2986): parse-and-verify for a CA, build for a requester.
//
// ParseCsrPem accepts exactly one "CERTIFICATE REQUEST" PEM block whose self-signature verifies
// under the key it carries (proof of possession, RFC 2986 §3) and returns that key and the
// subject. Nothing else in the request (subject, attributes, requested extensions) is trusted or
// copied by the CDS: the certificate it issues is built from verified evidence only.
//
// Errors:
//   crypto.csr.parse_failed (kMalformed)          not one PEM CSR, or trailing bytes
//   crypto.csr.signature_invalid (kVerificationFailed)  the self-signature does not verify
//   crypto.key.unsupported_type (kUnsupported)    a key type crypto cannot use
//   crypto.csr.build_failed (kInternal)           BuildCsrPem: OpenSSL refused the encoding
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/crypto/keys.h"

namespace lunal::crypto {

struct ParsedCsr {
  crypto::PublicKey public_key;
  Bytes spki_der;       // the SubjectPublicKeyInfo, DER (what REPORT_DATA bindings hash)
  std::string subject;  // RFC 2253, informational only
};

Result<ParsedCsr> ParseCsrPem(std::string_view pem);

// A CSR for `key` with subject CN=`common_name`, signed with SHA-256 (ECDSA) or pure Ed25519.
Result<std::string> BuildCsrPem(const PrivateKey& key, std::string_view common_name);

}  // namespace lunal::crypto
