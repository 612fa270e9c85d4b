#include "tls.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <limits>
#include <vector>

namespace lunal::net::internal {
namespace {

// Forward-secret AEAD suites for TLS 1.2 (TLS 1.3 suites are all acceptable, OpenSSL's default).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Drains the thread's OpenSSL error queue into one line.
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long err = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(err, text, sizeof(text));
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Status TlsConfigError(std::string_view what) {
  return InvalidArgument("net.tls_config", "{}: {}", what, OpenSslErrors());
}

BioPtr MemoryBio(std::string_view pem) {
  if (pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return nullptr;
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Refuses to prompt for a passphrase on the terminal: encrypted keys are a configuration error.
int NoPassphrase(char*, int, int, void*) { return 0; }

Result<std::vector<X509Ptr>> ReadCertificates(std::string_view pem, std::string_view what) {
  BioPtr bio = MemoryBio(pem);
  if (!bio) return TlsConfigError(what);
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)) {
    certs.emplace_back(cert);
  }
  ERR_clear_error();  // the read that ended the loop reports "no start line"
  if (certs.empty()) {
    return InvalidArgument("net.tls_config", "{}: no PEM certificate found", what);
  }
  return certs;
}

Result<PkeyPtr> ReadPrivateKey(std::string_view pem, std::string_view what) {
  BioPtr bio = MemoryBio(pem);
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr);
  if (!key) return TlsConfigError(what);
  return key;
}

SslCtxPtr NewContext(const SSL_METHOD* method) {
  SslCtxPtr ctx(SSL_CTX_new(method));
  if (!ctx) return nullptr;
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers) != 1) {
    return nullptr;
  }
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  return ctx;
}

// Installs the leaf (first) and chain certificates plus the key, and checks that they match.
Status UseCertificateAndKey(SSL_CTX* ctx, std::string_view chain_pem, std::string_view key_pem) {
  LUNAL_ASSIGN_OR_RETURN(std::vector<X509Ptr> chain, ReadCertificates(chain_pem, "certificate"));
  if (SSL_CTX_use_certificate(ctx, chain.front().get()) != 1) {
    return TlsConfigError("certificate");
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) return TlsConfigError("chain");
  }
  LUNAL_ASSIGN_OR_RETURN(PkeyPtr key, ReadPrivateKey(key_pem, "private key"));
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return TlsConfigError("private key does not match the certificate");
  }
  return Status::Ok();
}

Status AddTrustAnchors(SSL_CTX* ctx, std::string_view pem, bool advertise_to_clients) {
  LUNAL_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, ReadCertificates(pem, "CA certificates"));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const X509Ptr& cert : certs) {
    if (X509_STORE_add_cert(store, cert.get()) != 1) return TlsConfigError("CA certificate");
    if (advertise_to_clients && SSL_CTX_add_client_CA(ctx, cert.get()) != 1) {
      return TlsConfigError("client CA name");
    }
  }
  return Status::Ok();
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

Bytes DerOf(X509* cert) {
  unsigned char* der = nullptr;
  int length = i2d_X509(cert, &der);
  if (length <= 0) return {};
  Bytes out(der, der + length);
  OPENSSL_free(der);
  return out;
}

// What an SSL_CTX's callbacks need (tls_credentials.h), owned by the SSL_CTX through its ex_data
// (freed with it), so the callbacks can never outlive it.
struct CtxHooks {
  std::shared_ptr<TlsCredentials> credentials;
  PeerVerifier verifier;
};

void FreeCtxHooks(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<CtxHooks*>(ptr);
}

void FreeStatus(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<Status*>(ptr);
}

int CtxHooksIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeCtxHooks);
  return index;
}

// Per connection: the status a PeerVerifier refused the peer with.
int RefusalIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeStatus);
  return index;
}

// The SSL_CTX's hooks, created on first use.
Result<CtxHooks*> HooksOf(SSL_CTX* ctx) {
  if (auto* hooks = static_cast<CtxHooks*>(SSL_CTX_get_ex_data(ctx, CtxHooksIndex()))) {
    return hooks;
  }
  auto hooks = std::make_unique<CtxHooks>();
  if (CtxHooksIndex() < 0 || SSL_CTX_set_ex_data(ctx, CtxHooksIndex(), hooks.get()) != 1) {
    return TlsConfigError("attaching TLS hooks");
  }
  return hooks.release();  // owned by ctx now
}

// SSL_CTX_set_cert_verify_callback: replaces X509_verify_cert with the PeerVerifier.
int VerifyWithHook(X509_STORE_CTX* store_ctx, void* arg) {
  const auto* hooks = static_cast<const CtxHooks*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
  std::vector<Bytes> chain;
  if (leaf != nullptr) chain.push_back(DerOf(leaf));
  // The untrusted stack is everything the peer sent, the leaf included.
  STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(store_ctx);
  for (int i = 0; sent != nullptr && i < sk_X509_num(sent); ++i) {
    X509* cert = sk_X509_value(sent, i);
    if (leaf != nullptr && X509_cmp(cert, leaf) == 0) continue;
    chain.push_back(DerOf(cert));
  }
  Status status = Internal("internal", "peer verifier threw");
  try {
    status = hooks->verifier(chain);
  } catch (...) {
  }
  if (status.ok()) {
    X509_STORE_CTX_set_error(store_ctx, X509_V_OK);
    return 1;
  }
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl != nullptr) {
    delete static_cast<Status*>(SSL_get_ex_data(ssl, RefusalIndex()));
    auto stored = std::make_unique<Status>(std::move(status));
    if (SSL_set_ex_data(ssl, RefusalIndex(), stored.get()) == 1) stored.release();
  }
  X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

Status InstallVerifier(SSL_CTX* ctx, PeerVerifier verifier, int mode) {
  LUNAL_ASSIGN_OR_RETURN(CtxHooks * hooks, HooksOf(ctx));
  hooks->verifier = std::move(verifier);
  SSL_CTX_set_verify(ctx, mode, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, VerifyWithHook, hooks);
  // A resumed session skips certificate verification: every connection is judged afresh.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  if (SSL_CTX_set_num_tickets(ctx, 0) != 1) return TlsConfigError("turning off session tickets");
  return Status::Ok();
}

Status RequireTls13(SSL_CTX* ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) return TlsConfigError("TLS 1.3");
  return Status::Ok();
}

}  // namespace

}  // namespace lunal::net::internal

namespace lunal::net {

struct TlsCredentials::Loaded {
  internal::X509Ptr leaf;
  std::vector<internal::X509Ptr> chain;
  internal::PkeyPtr key;
};

}  // namespace lunal::net

namespace lunal::net::internal {

struct TlsCredentialsAccess {
  static std::shared_ptr<const TlsCredentials::Loaded> Current(const TlsCredentials& credentials) {
    return credentials.Current();
  }
  static bool Install(const TlsCredentials::Loaded& loaded, SSL* ssl) {
    if (SSL_use_certificate(ssl, loaded.leaf.get()) != 1 ||
        SSL_use_PrivateKey(ssl, loaded.key.get()) != 1 || SSL_clear_chain_certs(ssl) != 1) {
      return false;
    }
    for (const X509Ptr& cert : loaded.chain) {
      if (SSL_add1_chain_cert(ssl, cert.get()) != 1) return false;
    }
    return true;
  }
  static Result<std::shared_ptr<const TlsCredentials::Loaded>> Load(std::string_view chain_pem,
                                                                    std::string_view key_pem) {
    LUNAL_ASSIGN_OR_RETURN(std::vector<X509Ptr> chain, ReadCertificates(chain_pem, "certificate"));
    LUNAL_ASSIGN_OR_RETURN(PkeyPtr key, ReadPrivateKey(key_pem, "private key"));
    if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
      return TlsConfigError("private key does not match the certificate");
    }
    auto loaded = std::make_shared<TlsCredentials::Loaded>();
    loaded->leaf = std::move(chain.front());
    for (std::size_t i = 1; i < chain.size(); ++i) loaded->chain.push_back(std::move(chain[i]));
    loaded->key = std::move(key);
    return std::shared_ptr<const TlsCredentials::Loaded>(std::move(loaded));
  }
  static std::shared_ptr<TlsCredentials> Make(std::shared_ptr<const TlsCredentials::Loaded> l) {
    return std::shared_ptr<TlsCredentials>(new TlsCredentials(std::move(l)));
  }
};

namespace {

// SSL_CTX_set_cert_cb: presents the credentials' current chain and key (runs once per handshake,
// on servers before the certificate is chosen, on clients when the server asks for one).
int UseCurrentCredentials(SSL* ssl, void* arg) {
  const auto* hooks = static_cast<const CtxHooks*>(arg);
  std::shared_ptr<const TlsCredentials::Loaded> loaded =
      internal::TlsCredentialsAccess::Current(*hooks->credentials);
  return internal::TlsCredentialsAccess::Install(*loaded, ssl) ? 1 : 0;
}

Status InstallCredentials(SSL_CTX* ctx, std::shared_ptr<TlsCredentials> credentials) {
  LUNAL_ASSIGN_OR_RETURN(CtxHooks * hooks, HooksOf(ctx));
  hooks->credentials = std::move(credentials);
  SSL_CTX_set_cert_cb(ctx, UseCurrentCredentials, hooks);
  return Status::Ok();
}

}  // namespace

Result<SslCtxPtr> MakeServerSslContext(const TlsServerOptions& options) {
  SslCtxPtr ctx = NewContext(TLS_server_method());
  if (!ctx) return TlsConfigError("creating the server TLS context");
  SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (options.tls13_only) LUNAL_RETURN_IF_ERROR(RequireTls13(ctx.get()));
  if (options.credentials) {
    if (!options.cert_chain_pem.empty() || !options.private_key_pem.empty()) {
      return InvalidArgument("net.tls_config",
                             "credentials replace cert_chain_pem/private_key_pem");
    }
    LUNAL_RETURN_IF_ERROR(InstallCredentials(ctx.get(), options.credentials));
  } else {
    LUNAL_RETURN_IF_ERROR(
        UseCertificateAndKey(ctx.get(), options.cert_chain_pem, options.private_key_pem));
  }
  if (options.verify_client) {
    if (options.client_ca_pem) {
      return InvalidArgument("net.tls_config", "verify_client replaces client_ca_pem");
    }
    LUNAL_RETURN_IF_ERROR(InstallVerifier(ctx.get(), options.verify_client,
                                          SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT));
    return ctx;
  }
  if (options.require_client_cert && !options.client_ca_pem) {
    return InvalidArgument("net.tls_config", "require_client_cert needs client_ca_pem");
  }
  if (options.client_ca_pem) {
    LUNAL_RETURN_IF_ERROR(AddTrustAnchors(ctx.get(), *options.client_ca_pem, true));
    int mode = SSL_VERIFY_PEER;
    if (options.require_client_cert) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx.get(), mode, nullptr);
  }
  return ctx;
}

Result<SslCtxPtr> MakeClientSslContext(const ClientTlsOptions& options) {
  SslCtxPtr ctx = NewContext(TLS_client_method());
  if (!ctx) return TlsConfigError("creating the client TLS context");
  if (options.tls13_only) LUNAL_RETURN_IF_ERROR(RequireTls13(ctx.get()));
  if (options.verify_server) {
    if (options.ca_pem) return InvalidArgument("net.tls_config", "verify_server replaces ca_pem");
    LUNAL_RETURN_IF_ERROR(InstallVerifier(ctx.get(), options.verify_server, SSL_VERIFY_PEER));
  } else if (options.ca_pem) {
    LUNAL_RETURN_IF_ERROR(AddTrustAnchors(ctx.get(), *options.ca_pem, false));
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  } else if (options.pinned_spki_sha256) {
    // The pin (CheckPeerPin) is the whole verification: the server's key is known exactly.
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  } else {
    if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
      return TlsConfigError("loading the system CA certificates");
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  if (options.client_cert_pem.has_value() != options.client_key_pem.has_value()) {
    return InvalidArgument("net.tls_config", "client_cert_pem and client_key_pem go together");
  }
  if (options.client_credentials) {
    if (options.client_cert_pem) {
      return InvalidArgument("net.tls_config", "client_credentials replace client_cert_pem");
    }
    LUNAL_RETURN_IF_ERROR(InstallCredentials(ctx.get(), options.client_credentials));
  }
  if (options.client_cert_pem) {
    LUNAL_RETURN_IF_ERROR(
        UseCertificateAndKey(ctx.get(), *options.client_cert_pem, *options.client_key_pem));
  }
  return ctx;
}

Status ConfigureClientSsl(SSL* ssl, const ClientTlsOptions& options, std::string_view host) {
  std::string name(options.server_name.empty() ? host : std::string_view(options.server_name));
  bool ip = IsIpLiteral(name);
  if (!ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    return InvalidArgument("net.tls_config", "bad server name '{}': {}", name, OpenSslErrors());
  }
  if (SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE) return Status::Ok();  // pin only
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
              : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  if (ok != 1) {
    return InvalidArgument("net.tls_config", "bad server name '{}': {}", name, OpenSslErrors());
  }
  return Status::Ok();
}

Status CheckPeerPin(SSL* ssl, const ClientTlsOptions& options) {
  if (!options.pinned_spki_sha256) return Status::Ok();
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) {
    return VerificationFailed("net.tls_pin_mismatch", "the server sent no certificate");
  }
  unsigned char* der = nullptr;
  int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (length <= 0) {
    return VerificationFailed("net.tls_pin_mismatch", "cannot encode the server's public key");
  }
  std::array<std::uint8_t, 32> digest{};
  unsigned int digest_length = 0;
  int hashed = EVP_Digest(der, static_cast<std::size_t>(length), digest.data(), &digest_length,
                          EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (hashed != 1 || digest_length != digest.size() ||
      CRYPTO_memcmp(digest.data(), options.pinned_spki_sha256->data(), digest.size()) != 0) {
    return VerificationFailed("net.tls_pin_mismatch",
                              "the server's public key does not match the pinned SHA-256");
  }
  return Status::Ok();
}

Bytes PeerCertificateDer(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return {};
  return DerOf(cert);
}

Status PeerVerifierStatus(SSL* ssl) {
  const auto* refusal = static_cast<const Status*>(SSL_get_ex_data(ssl, RefusalIndex()));
  return refusal != nullptr ? *refusal : Status::Ok();
}

Status ServerHandshakeFailure(SSL* ssl, unsigned long openssl_error, std::string error_text) {
  Status refusal = PeerVerifierStatus(ssl);
  if (!refusal.ok()) return refusal;
  if (openssl_error != 0 && ERR_GET_LIB(openssl_error) == ERR_LIB_SSL &&
      ERR_GET_REASON(openssl_error) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    return Unauthenticated("net.tls_no_peer_certificate", "the client sent no certificate");
  }
  return Unavailable("net.tls_handshake_failed", "TLS handshake: {}",
                     HandshakeFailureDetail(ssl, std::move(error_text)));
}

std::string HandshakeFailureDetail(SSL* ssl, std::string error_text) {
  ERR_clear_error();
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    return std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify);
  }
  return error_text;
}

}  // namespace lunal::net::internal

namespace lunal::net {

TlsCredentials::TlsCredentials(std::shared_ptr<const Loaded> loaded)
    : current_(std::move(loaded)) {}

TlsCredentials::~TlsCredentials() = default;

Result<std::shared_ptr<TlsCredentials>> TlsCredentials::Create(std::string_view cert_chain_pem,
                                                               std::string_view private_key_pem) {
  LUNAL_ASSIGN_OR_RETURN(std::shared_ptr<const Loaded> loaded,
                         internal::TlsCredentialsAccess::Load(cert_chain_pem, private_key_pem));
  return internal::TlsCredentialsAccess::Make(std::move(loaded));
}

Status TlsCredentials::Replace(std::string_view cert_chain_pem, std::string_view private_key_pem) {
  LUNAL_ASSIGN_OR_RETURN(std::shared_ptr<const Loaded> loaded,
                         internal::TlsCredentialsAccess::Load(cert_chain_pem, private_key_pem));
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(loaded);
  return Status::Ok();
}

std::shared_ptr<const TlsCredentials::Loaded> TlsCredentials::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

Bytes TlsCredentials::LeafDer() const { return internal::DerOf(Current()->leaf.get()); }

}  // namespace lunal::net
