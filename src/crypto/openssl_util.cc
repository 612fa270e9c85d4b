#include "openssl_util.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "lunal/common/encoding.h"

namespace lunal::crypto::internal {

std::string DrainErrors() {
  std::string out;
  unsigned long error = 0;  // NOLINT(google-runtime-int): OpenSSL's type
  while ((error = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(error, buffer, sizeof(buffer));
    const char* reason = ERR_reason_error_string(error);
    if (!out.empty()) out += "; ";
    out += reason != nullptr ? reason : buffer;
  }
  ERR_clear_error();
  return out.empty() ? "no OpenSSL detail" : out;
}

Status OpenSslFailure(Code code, std::string reason, std::string_view what) {
  return Status(code, std::move(reason), fmt::format("{}: {}", what, DrainErrors()));
}

void FatalOpenSslError(std::string_view what) {
  std::string detail = DrainErrors();
  std::fprintf(stderr, "lunal::crypto fatal: %.*s: %s\n", static_cast<int>(what.size()),
               what.data(), detail.c_str());
  std::abort();
}

namespace {
EVP_MD* FetchOrDie(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) FatalOpenSslError(fmt::format("EVP_MD_fetch({})", name));
  return md;
}
}  // namespace

const EVP_MD* Md(DigestAlgorithm algorithm) {
  // Fetched once; intentionally never freed (process lifetime, still reachable at exit).
  static EVP_MD* const sha256 = FetchOrDie("SHA2-256");
  static EVP_MD* const sha384 = FetchOrDie("SHA2-384");
  static EVP_MD* const sha512 = FetchOrDie("SHA2-512");
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      return sha256;
    case DigestAlgorithm::kSha384:
      return sha384;
    case DigestAlgorithm::kSha512:
      return sha512;
  }
  FatalOpenSslError("unknown DigestAlgorithm");
}

std::string_view DigestName(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      return "SHA2-256";
    case DigestAlgorithm::kSha384:
      return "SHA2-384";
    case DigestAlgorithm::kSha512:
      return "SHA2-512";
  }
  return "unknown";
}

Result<std::chrono::sys_seconds> FromAsn1Time(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    return OpenSslFailure(Code::kMalformed, "crypto.time.invalid", "unparsable ASN.1 time");
  }
  using namespace std::chrono;
  const year_month_day date{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                            day{static_cast<unsigned>(tm.tm_mday)}};
  if (!date.ok()) {
    return Malformed("crypto.time.invalid", "ASN.1 time has an invalid date");
  }
  return sys_days{date} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
}

std::int64_t ToTimeT(std::chrono::sys_seconds time) {
  return static_cast<std::int64_t>(time.time_since_epoch().count());
}

Asn1TimePtr ToAsn1Time(std::chrono::sys_seconds time) {
  // ASN1_TIME_set picks UTCTime through 2049 and GeneralizedTime after (RFC 5280 §4.1.2.5).
  return Asn1TimePtr(ASN1_TIME_set(nullptr, static_cast<time_t>(ToTimeT(time))));
}

std::string Hex(ByteSpan bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

std::string IntegerHex(const ASN1_INTEGER* integer) {
  ByteSpan magnitude(ASN1_STRING_get0_data(integer),
                     static_cast<std::size_t>(ASN1_STRING_length(integer)));
  while (!magnitude.empty() && magnitude.front() == 0) magnitude = magnitude.subspan(1);
  std::string hex = Hex(magnitude);
  if (!hex.empty() && hex.front() == '0') hex.erase(0, 1);
  if (hex.empty()) return "0";
  return ASN1_STRING_type(integer) == V_ASN1_NEG_INTEGER ? "-" + hex : hex;
}

std::optional<std::string> NormalizeSerialHex(std::string_view hex) {
  std::string out;
  bool negative = false;
  if (!hex.empty() && hex.front() == '-') {
    negative = true;
    hex.remove_prefix(1);
  }
  for (char c : hex) {
    if (c == ':') continue;
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
      out.push_back(c);
    } else if (c >= 'A' && c <= 'F') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      return std::nullopt;
    }
  }
  if (out.empty()) return std::nullopt;
  std::size_t first = out.find_first_not_of('0');
  if (first == std::string::npos) return "0";
  out.erase(0, first);
  return negative ? "-" + out : out;
}

std::string PemEncode(std::string_view label, ByteSpan der) {
  std::string base64 = Base64Encode(der);
  std::string out = fmt::format("-----BEGIN {}-----\n", label);
  for (std::size_t i = 0; i < base64.size(); i += 64) {
    out.append(base64, i, 64);
    out.push_back('\n');
  }
  out += fmt::format("-----END {}-----\n", label);
  return out;
}

BioPtr MemoryBio(ByteSpan bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);  // NOLINT(google-runtime-int): OpenSSL's type
  if (length <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(length));
}

namespace {
// Reads one DER tag and definite length at `der[*pos]` (X.690 §8.1.2-8.1.3, single-byte tags
// only, lengths up to 4 bytes). Returns the content length and advances `*pos` to the content.
std::optional<std::size_t> ReadHeader(ByteSpan der, std::size_t* pos, std::uint8_t* tag) {
  if (der.size() - *pos < 2) return std::nullopt;
  *tag = der[(*pos)++];
  if ((*tag & 0x1f) == 0x1f) return std::nullopt;  // multi-byte tags never occur here
  std::uint8_t first = der[(*pos)++];
  if (first < 0x80) return first;
  std::size_t count = first & 0x7f;
  if (count == 0 || count > 4 || count > der.size() - *pos) return std::nullopt;
  std::size_t length = 0;
  for (std::size_t i = 0; i < count; ++i) length = (length << 8) | der[(*pos)++];
  if (length > der.size() - *pos) return std::nullopt;
  return length;
}
}  // namespace

std::optional<ByteSpan> FirstElementOfSequence(ByteSpan der) {
  std::size_t pos = 0;
  std::uint8_t tag = 0;
  std::optional<std::size_t> outer = ReadHeader(der, &pos, &tag);
  if (!outer || tag != 0x30) return std::nullopt;
  std::size_t inner_start = pos;
  std::optional<std::size_t> inner = ReadHeader(der, &pos, &tag);
  if (!inner || *inner > der.size() - pos) return std::nullopt;
  return der.subspan(inner_start, pos - inner_start + *inner);
}

std::string NameToString(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) FatalOpenSslError("BIO_new");
  // RFC 2253 escaping, but keep UTF-8 rather than escaping every non-ASCII byte.
  constexpr unsigned long kFlags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;  // NOLINT
  if (X509_NAME_print_ex(bio.get(), name, 0, kFlags) < 0) {
    DrainErrors();
    return "<unprintable name>";
  }
  return BioToString(bio.get());
}

}  // namespace lunal::crypto::internal
