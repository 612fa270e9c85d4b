// Path validation (RFC 5280 §6.1) to SHA-256-pinned roots, on OpenSSL's X509_STORE_CTX.
//
// Steps:
//   1. Check options (as_of set, max_depth >= 1).
//   2. Split the inputs: certificates whose sha256(DER) is pinned become the store's only trusted
//      certificates; the rest are untrusted path candidates. No pinned input → untrusted_root.
//   3. Configure the verifier: check time = as_of, X509_STRICT, CRL flags per policy, depth,
//      never PARTIAL_CHAIN, no default (system) trust locations.
//   4. X509_verify_cert; map OpenSSL's error to a stable reason naming the certificate.
//   5. Re-check that the top of the built path is pinned, and map it back to our Certificates.
#include "lunal/crypto/chain.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <algorithm>

#include "lunal/common/time.h"
#include "openssl_util.h"
#include "x509_internal.h"

namespace lunal::crypto {

using internal::X509Access;

namespace {

// The stacks hold borrowed pointers (the Certificates and Crls own the objects): free the stack
// only.
struct StackFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
  void operator()(STACK_OF(X509_CRL) * stack) const { sk_X509_CRL_free(stack); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), StackFree>;
using CrlStackPtr = std::unique_ptr<STACK_OF(X509_CRL), StackFree>;

const TrustAnchor* FindAnchor(const Certificate& cert, std::span<const TrustAnchor> anchors) {
  const std::array<std::uint8_t, 32> digest = cert.Sha256OfDer();
  for (const TrustAnchor& anchor : anchors) {
    if (anchor.der_sha256 == digest) return &anchor;
  }
  return nullptr;
}

// kUseIfPresent: a certificate whose issuer has no CRL passes; every other error stands.
int IgnoreMissingCrl(int ok, X509_STORE_CTX* ctx) {
  if (ok == 0 && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNABLE_TO_GET_CRL) {
    X509_STORE_CTX_set_error(ctx, X509_V_OK);
    return 1;
  }
  return ok;
}

std::string_view ReasonFor(int error) {
  switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "crypto.chain.cert_expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "crypto.chain.cert_not_yet_valid";
    case X509_V_ERR_CERT_REVOKED:
      return "crypto.chain.revoked";
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
      return "crypto.chain.crl_missing";
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return "crypto.chain.crl_expired";
    case X509_V_ERR_CRL_NOT_YET_VALID:
      return "crypto.chain.crl_not_yet_valid";
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
      return "crypto.chain.crl_signature_invalid";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
      return "crypto.chain.signature_invalid";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
      return "crypto.chain.untrusted_root";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "crypto.chain.no_path";
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
      return "crypto.chain.too_long";
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
      return "crypto.chain.unhandled_critical_extension";
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
      return "crypto.chain.invalid_ca";
    default:
      return "crypto.chain.invalid";
  }
}

Status MapVerifyError(X509_STORE_CTX* ctx, const ChainOptions& options) {
  const int error = X509_STORE_CTX_get_error(ctx);
  const int depth = X509_STORE_CTX_get_error_depth(ctx);
  X509* current = X509_STORE_CTX_get_current_cert(ctx);
  std::string subject =
      current != nullptr ? internal::NameToString(X509_get_subject_name(current)) : "?";
  std::string detail = internal::DrainErrors();
  return VerificationFailed(std::string(ReasonFor(error)),
                            "{} (OpenSSL error {}) at depth {}, certificate \"{}\", as of {}",
                            X509_verify_cert_error_string(error), error, depth, subject,
                            FormatRfc3339(FromSeconds(options.as_of)));
}

}  // namespace

Result<VerifiedChain> VerifyChain(const Certificate& leaf,
                                  std::span<const Certificate> intermediates_and_roots,
                                  std::span<const TrustAnchor> anchors,
                                  const ChainOptions& options) {
  // 1. Options.
  if (options.as_of == std::chrono::sys_seconds{}) {
    return InvalidArgument("crypto.chain.bad_options", "ChainOptions.as_of is required");
  }
  if (options.max_depth < 1) {
    return InvalidArgument("crypto.chain.bad_options", "max_depth {} < 1", options.max_depth);
  }

  // RFC 5280 §5.1.2.5: conforming CRLs carry nextUpdate. One without it would never expire, so
  // it is refused rather than trusted forever.
  if (options.crl_policy != ChainOptions::CrlPolicy::kNone) {
    for (const Crl& crl : options.crls) {
      if (!crl.NextUpdate()) {
        return VerificationFailed("crypto.chain.crl_no_next_update",
                                  "CRL from \"{}\" has no nextUpdate", crl.IssuerName());
      }
    }
  }

  // 2. Pinned certificates become the only trusted ones.
  internal::X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  CrlStackPtr crls(sk_X509_CRL_new_null());
  if (!store || !untrusted || !crls) {
    return internal::OpenSslFailure(Code::kInternal, "crypto.chain.internal", "X509_STORE");
  }
  bool any_pinned = FindAnchor(leaf, anchors) != nullptr;
  if (any_pinned && X509_STORE_add_cert(store.get(), X509Access::Get(leaf)) != 1) {
    return internal::OpenSslFailure(Code::kInternal, "crypto.chain.internal", "add anchor");
  }
  for (const Certificate& cert : intermediates_and_roots) {
    X509* x509 = X509Access::Get(cert);
    if (FindAnchor(cert, anchors) != nullptr) {
      any_pinned = true;
      // Adding the same certificate twice is harmless (X509_STORE ignores duplicates).
      if (X509_STORE_add_cert(store.get(), x509) != 1) {
        return internal::OpenSslFailure(Code::kInternal, "crypto.chain.internal", "add anchor");
      }
    } else if (sk_X509_push(untrusted.get(), x509) <= 0) {
      return internal::OpenSslFailure(Code::kInternal, "crypto.chain.internal", "sk_X509_push");
    }
  }
  if (!any_pinned) {
    return VerificationFailed("crypto.chain.untrusted_root",
                              "none of the {} certificates given for \"{}\" is a pinned root "
                              "({} pins)",
                              intermediates_and_roots.size() + 1, leaf.SubjectName(),
                              anchors.size());
  }

  // 3. Verifier configuration.
  internal::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx ||
      X509_STORE_CTX_init(ctx.get(), store.get(), X509Access::Get(leaf), untrusted.get()) != 1) {
    return internal::OpenSslFailure(Code::kInternal, "crypto.chain.internal", "X509_STORE_CTX");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(internal::ToTimeT(options.as_of)));
  unsigned long flags = X509_V_FLAG_USE_CHECK_TIME;  // NOLINT(google-runtime-int): OpenSSL's type
  if (options.x509_strict) flags |= X509_V_FLAG_X509_STRICT;
  if (options.crl_policy != ChainOptions::CrlPolicy::kNone) {
    flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
    for (const Crl& crl : options.crls) sk_X509_CRL_push(crls.get(), X509Access::Get(crl));
    X509_STORE_CTX_set0_crls(ctx.get(), crls.get());
  }
  if (options.crl_policy == ChainOptions::CrlPolicy::kUseIfPresent) {
    X509_STORE_CTX_set_verify_cb(ctx.get(), IgnoreMissingCrl);
  }
  X509_VERIFY_PARAM_set_flags(param, flags);
  X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  // OpenSSL's depth counts intermediates only (neither leaf nor trust anchor).
  X509_VERIFY_PARAM_set_depth(param, std::max(0, options.max_depth - 2));

  // 4. Verify.
  if (X509_verify_cert(ctx.get()) != 1) return MapVerifyError(ctx.get(), options);
  ERR_clear_error();

  // 5. Map the path back and re-check the pin at its top.
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  VerifiedChain result;
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* x509 = sk_X509_value(chain, i);
    const Certificate* match = X509Access::Get(leaf) == x509 ? &leaf : nullptr;
    for (const Certificate& cert : intermediates_and_roots) {
      if (match == nullptr && X509Access::Get(cert) == x509) match = &cert;
    }
    if (match == nullptr) {
      return Internal("crypto.chain.internal", "path certificate {} is not one of the inputs", i);
    }
    result.path.push_back(*match);
  }
  const TrustAnchor* anchor =
      result.path.empty() ? nullptr : FindAnchor(result.path.back(), anchors);
  if (anchor == nullptr) {
    return VerificationFailed("crypto.chain.untrusted_root", "path for \"{}\" ends unpinned",
                              leaf.SubjectName());
  }
  if (result.path.size() > static_cast<std::size_t>(options.max_depth)) {
    return VerificationFailed("crypto.chain.too_long", "path of {} certificates, max_depth {}",
                              result.path.size(), options.max_depth);
  }
  result.anchor_label = anchor->label;
  result.anchor_sha256 = anchor->der_sha256;
  return result;
}

std::string VerifiedChain::Describe() const {
  std::string out;
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    if (!out.empty()) out += " → ";
    std::string name = it->SubjectCommonName();
    if (name.empty()) name = it->SubjectName();
    if (it == path.rbegin()) {
      out += (anchor_label.empty() ? name : anchor_label) + " (pinned)";
    } else {
      out += name;
    }
  }
  return out;
}

Result<std::array<std::uint8_t, 32>> ParseFingerprintHex(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.remove_suffix(1);
  if (text.size() >= 7) {
    std::string prefix(text.substr(0, 7));
    std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    if (prefix == "sha256:") text.remove_prefix(7);
  }
  const bool colons = text.find(':') != std::string_view::npos;
  const std::size_t stride = colons ? 3 : 2;
  if (text.size() != (colons ? 95 : 64)) {
    return Malformed("crypto.pin.malformed", "a SHA-256 pin is 64 hex digits, got {} characters",
                     text.size());
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::array<std::uint8_t, 32> out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::size_t at = i * stride;
    int high = nibble(text[at]);
    int low = nibble(text[at + 1]);
    if (high < 0 || low < 0 || (colons && i + 1 < out.size() && text[at + 2] != ':')) {
      return Malformed("crypto.pin.malformed", "invalid pin character near position {}", at);
    }
    out[i] = static_cast<std::uint8_t>(high << 4 | low);
  }
  return out;
}

}  // namespace lunal::crypto
