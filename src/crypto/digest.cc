// SHA-2 (FIPS 180-4) and HMAC (RFC 2104) over OpenSSL's EVP interface.
#include "lunal/crypto/digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>

#include "openssl_util.h"

namespace lunal::crypto {

using internal::FatalOpenSslError;
using internal::Md;

std::size_t DigestSize(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      return 32;
    case DigestAlgorithm::kSha384:
      return 48;
    case DigestAlgorithm::kSha512:
      return 64;
  }
  return 0;
}

std::string_view DigestAlgorithmName(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      return "SHA-256";
    case DigestAlgorithm::kSha384:
      return "SHA-384";
    case DigestAlgorithm::kSha512:
      return "SHA-512";
  }
  return "unknown";
}

namespace {
// EVP_Digest with a pre-fetched EVP_MD: no name lookup, no heap allocation beyond OpenSSL's
// short-lived context.
void DigestInto(DigestAlgorithm algorithm, ByteSpan data, std::uint8_t* out) {
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out, &length, Md(algorithm), nullptr) != 1 ||
      length != DigestSize(algorithm)) {
    FatalOpenSslError("EVP_Digest");
  }
}
}  // namespace

std::array<std::uint8_t, 32> Sha256(ByteSpan data) {
  std::array<std::uint8_t, 32> out;
  DigestInto(DigestAlgorithm::kSha256, data, out.data());
  return out;
}

std::array<std::uint8_t, 48> Sha384(ByteSpan data) {
  std::array<std::uint8_t, 48> out;
  DigestInto(DigestAlgorithm::kSha384, data, out.data());
  return out;
}

std::array<std::uint8_t, 64> Sha512(ByteSpan data) {
  std::array<std::uint8_t, 64> out;
  DigestInto(DigestAlgorithm::kSha512, data, out.data());
  return out;
}

Bytes Digest(DigestAlgorithm algorithm, ByteSpan data) {
  Bytes out(DigestSize(algorithm));
  DigestInto(algorithm, data, out.data());
  return out;
}

struct Hasher::Impl {
  internal::EvpMdCtxPtr ctx;
};

Hasher::Hasher(DigestAlgorithm algorithm) : algorithm_(algorithm), impl_(std::make_unique<Impl>()) {
  impl_->ctx.reset(EVP_MD_CTX_new());
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx.get(), Md(algorithm), nullptr) != 1) {
    FatalOpenSslError("EVP_DigestInit_ex");
  }
}

Hasher::Hasher(Hasher&& other) noexcept = default;
Hasher& Hasher::operator=(Hasher&& other) noexcept = default;
Hasher::~Hasher() = default;

void Hasher::Update(ByteSpan data) {
  if (EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) != 1) {
    FatalOpenSslError("EVP_DigestUpdate");
  }
}

Bytes Hasher::Finish() {
  Bytes out(DigestSize(algorithm_));
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &length) != 1 || length != out.size() ||
      EVP_DigestInit_ex(impl_->ctx.get(), Md(algorithm_), nullptr) != 1) {
    FatalOpenSslError("EVP_DigestFinal_ex");
  }
  return out;
}

std::array<std::uint8_t, 32> HmacSha256(ByteSpan key, ByteSpan data) {
  std::array<std::uint8_t, 32> out;
  unsigned int length = 0;
  if (key.size() > INT_MAX) FatalOpenSslError("HMAC key longer than INT_MAX");
  // An empty key is valid HMAC (RFC 2104 §2 pads it with zeros); give OpenSSL a non-null pointer.
  static const std::uint8_t kEmpty = 0;
  const std::uint8_t* key_data = key.empty() ? &kEmpty : key.data();
  if (HMAC(Md(DigestAlgorithm::kSha256), key_data, static_cast<int>(key.size()), data.data(),
           data.size(), out.data(), &length) == nullptr ||
      length != out.size()) {
    FatalOpenSslError("HMAC");
  }
  return out;
}

}  // namespace lunal::crypto
