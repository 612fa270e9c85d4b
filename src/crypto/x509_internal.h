// Access to the OpenSSL objects inside Certificate / Crl, for the crypto implementation only.
#pragma once

#include <openssl/x509.h>

#include "lunal/crypto/x509.h"
#include "openssl_util.h"

namespace lunal::crypto::internal {

struct X509Access {
  // Borrowed: valid while the handle (or a copy) lives. Never modify the object.
  static X509* Get(const Certificate& cert);
  static X509_CRL* Get(const Crl& crl);
  // Takes ownership of a parsed object; re-derives the DER cache.
  static Result<Certificate> Wrap(X509Ptr x509);
  static Result<Crl> Wrap(X509CrlPtr crl);
};

}  // namespace lunal::crypto::internal
