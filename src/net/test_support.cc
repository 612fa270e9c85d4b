#include "test_support.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "lunal/net/errors.h"

namespace lunal::net::testing {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

// Test setup must not fail quietly: abort with the location instead.
void Check(bool ok, const char* what) {
  if (!ok) {
    ADD_FAILURE() << "OpenSSL test helper failed: " << what;
    std::abort();
  }
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(ext != nullptr, "extension");
  Check(X509_add_ext(cert, ext, -1) == 1, "add extension");
  X509_EXTENSION_free(ext);
}

TestCert Make(const std::string& common_name, const TestCert* issuer) {
  KeyPtr key(EVP_EC_gen("P-256"));
  Check(key != nullptr, "key generation");
  CertPtr cert(X509_new());
  Check(X509_set_version(cert.get(), 2) == 1, "version");
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24L * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  Check(X509_set_pubkey(cert.get(), key.get()) == 1, "pubkey");

  CertPtr issuer_cert;
  KeyPtr issuer_key;
  if (issuer != nullptr) {
    BioPtr cert_bio(BIO_new_mem_buf(issuer->cert_pem.data(), -1));
    issuer_cert.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    BioPtr key_bio(BIO_new_mem_buf(issuer->key_pem.data(), -1));
    issuer_key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    Check(issuer_cert && issuer_key, "issuer");
  }
  X509* signer_cert = issuer ? issuer_cert.get() : cert.get();
  EVP_PKEY* signer_key = issuer ? issuer_key.get() : key.get();
  Check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer_cert)) == 1, "issuer name");
  if (issuer == nullptr) {
    AddExtension(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), signer_cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    AddExtension(cert.get(), signer_cert, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  AddExtension(cert.get(), signer_cert, NID_subject_key_identifier, "hash");
  Check(X509_sign(cert.get(), signer_key, EVP_sha256()) > 0, "sign");

  TestCert out;
  BioPtr cert_out(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509(cert_out.get(), cert.get()) == 1, "write cert");
  out.cert_pem = BioText(cert_out.get());
  BioPtr key_out(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ==
            1,
        "write key");
  out.key_pem = BioText(key_out.get());
  unsigned char* der = nullptr;
  int der_length = i2d_X509(cert.get(), &der);
  Check(der_length > 0, "der");
  out.cert_der.assign(der, der + der_length);
  OPENSSL_free(der);
  unsigned char* spki = nullptr;
  int spki_length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &spki);
  Check(spki_length > 0, "spki");
  unsigned int digest_length = 0;
  Check(EVP_Digest(spki, static_cast<std::size_t>(spki_length), out.spki_sha256.data(),
                   &digest_length, EVP_sha256(), nullptr) == 1,
        "digest");
  OPENSSL_free(spki);
  return out;
}

}  // namespace

TestCert MakeCa(const std::string& common_name) { return Make(common_name, nullptr); }

TestCert MakeLeaf(const std::string& common_name, const TestCert& issuer) {
  return Make(common_name, &issuer);
}

RawSocket::RawSocket(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawSocket::Send(std::string_view data) {
  while (!data.empty()) {
    ssize_t sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

std::string RawSocket::ReadUntil(std::string_view marker, std::chrono::milliseconds timeout) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!std::string_view(out).ends_with(marker)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd poll_fd{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) break;
    char c;  // one byte at a time: never read past the marker
    if (::recv(fd_, &c, 1, 0) != 1) break;
    out.push_back(c);
  }
  return out;
}

std::string RawSocket::ReadUntilClosed(std::chrono::milliseconds timeout, bool* closed) {
  std::string out;
  *closed = false;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return out;
    pollfd poll_fd{fd_, POLLIN, 0};
    int ready = ::poll(&poll_fd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return out;
    char buffer[4096];
    ssize_t got = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      *closed = true;
      return out;
    }
    out.append(buffer, static_cast<std::size_t>(got));
  }
}

bool CanConnect(std::uint16_t port) { return RawSocket(port).connected(); }

std::unique_ptr<HttpServer> StartServer(ServerOptions options, Router router) {
  options.bind_address = "127.0.0.1";
  options.port = 0;
  auto server = std::make_unique<HttpServer>(std::move(options), std::move(router));
  Status started = server->Start();
  EXPECT_TRUE(started.ok()) << started.ToString();
  return server;
}

int StatusOf(const std::string& raw) {
  if (raw.size() < 12 || raw.compare(0, 9, "HTTP/1.1 ") != 0) return 0;
  return std::stoi(raw.substr(9, 3));
}

std::string BodyOf(const std::string& raw) {
  std::size_t end = raw.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : raw.substr(end + 4);
}

std::string ReasonOf(const std::string& body) {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.contains("error")) return "<not an error body>";
  return parsed["error"]["reason"].get<std::string>();
}

Router TestRouter(std::atomic<int>* handled) {
  Router router;
  auto count = [handled] {
    if (handled != nullptr) handled->fetch_add(1);
  };
  EXPECT_TRUE(router
                  .Add("GET", "/v1/things/{id}",
                       [count](HttpRequest& req) {
                         count();
                         return HttpResponse::Json(200, {{"id", req.PathParam("id")},
                                                         {"remote", req.remote_address},
                                                         {"tls", req.is_tls}});
                       })
                  .ok());
  EXPECT_TRUE(router
                  .Add("POST", "/echo",
                       [count](HttpRequest& req) {
                         count();
                         HttpResponse response = HttpResponse::Text(200, req.body);
                         response.AddHeader("X-Content-Type-Seen",
                                            std::string(req.Header("content-type").value_or("")));
                         return response;
                       })
                  .ok());
  EXPECT_TRUE(
      router
          .Add("GET", "/boom",
               [](HttpRequest&) -> HttpResponse { throw std::runtime_error("secret-detail"); })
          .ok());
  EXPECT_TRUE(router
                  .Add("GET", "/split",
                       [](HttpRequest&) {
                         return HttpResponse::Text(200, "x").AddHeader("X-Bad",
                                                                       "a\r\nSet-Cookie: evil=1");
                       })
                  .ok());
  EXPECT_TRUE(router
                  .Add("GET", "/denied",
                       [](HttpRequest&) {
                         return ErrorResponse(
                             PolicyViolation("cds.policy.debug_enabled", "debug TD"));
                       })
                  .ok());
  EXPECT_TRUE(router
                  .Add("GET", "/big",
                       [](HttpRequest&) { return HttpResponse::Text(200, std::string(5000, 'b')); })
                  .ok());
  EXPECT_TRUE(router
                  .Add("GET", "/bye",
                       [](HttpRequest&) {
                         return HttpResponse::Text(200, "bye").AddHeader("Connection", "close");
                       })
                  .ok());
  EXPECT_TRUE(router
                  .Add("GET", "/slow",
                       [](HttpRequest&) {
                         std::this_thread::sleep_for(std::chrono::milliseconds(500));
                         return HttpResponse::Text(200, "late");
                       })
                  .ok());
  return router;
}

ClientOptions FastClient() {
  ClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(2000);
  options.request_timeout = std::chrono::milliseconds(5000);
  return options;
}

std::string LocalUrl(const HttpServer& server, const std::string& path, bool tls) {
  return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(server.port()) +
         path;
}

}  // namespace lunal::net::testing
