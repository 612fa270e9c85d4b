// Verifier::Verify: the numbered pipeline of verify.h. Each step cites what it checks:
//   [ABI] SEV-SNP Firmware ABI #56860, "ATTESTATION_REPORT Structure", "ECDSA Signature Format"
//   [KDS] VCEK Certificate and KDS Interface Specification #57230, "VCEK Certificate Extensions",
//         "Certificate Chain" (ARK → ASK → VCEK, ARK → ASVK → VLEK, RSASSA-PSS SHA-384),
//         "Certificate Revocation List"
// Steps 4–7 depend only on the signing certificate, the CRLs and the as-of time (and on which key
// kind and products the report names, checked again on every call), so their outcome is cached
// per (certificate, CRLs) with the window of as-of times in which it holds.
#include "lunal/attest/snp/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "lunal/common/bytes.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/chain.h"
#include "lunal/crypto/digest.h"
#include "revocation.h"

namespace lunal::attest::snp {

namespace {

// The outcome of steps 4–7 for one signing certificate and set of CRLs, valid for as-of times in
// [valid_from, valid_until). What is read from the leaf (key, extensions) was read only after its
// path verified; a failure to read it is kept and returned at the step that uses it.
struct CachedPath {
  std::string common_name;                // "SEV-VCEK" / "SEV-VLEK": step 4 for each report
  std::optional<Product> issuer_product;  // from the issuer name: step 5 for each report
  Product product = Product::kMilan;      // the product whose ARK the path ends at
  std::string description;
  bool ark_crl_applied = false;
  Timestamp valid_from;
  Timestamp valid_until;  // exclusive
  std::optional<crypto::PublicKey> key;
  Status key_error;
  std::optional<VcekExtensions> extensions;
  Status extensions_error;
};

}  // namespace

// Least-recently-used eviction once `max_entries` are held; 0 disables caching.
struct Verifier::Cache {
  explicit Cache(std::size_t max) : max_entries(max) {}
  struct Slot {
    std::shared_ptr<const CachedPath> entry;
    std::uint64_t last_used = 0;
  };
  const std::size_t max_entries;
  mutable std::mutex mu;
  std::uint64_t tick = 0;
  std::unordered_map<std::string, Slot> slots;

  std::shared_ptr<const CachedPath> Find(const std::string& key) {
    std::lock_guard lock(mu);
    auto it = slots.find(key);
    if (it == slots.end()) return nullptr;
    it->second.last_used = ++tick;
    return it->second.entry;
  }
  void Insert(const std::string& key, std::shared_ptr<const CachedPath> entry) {
    if (max_entries == 0) return;
    std::lock_guard lock(mu);
    if (slots.size() >= max_entries && !slots.contains(key)) {
      auto oldest = std::ranges::min_element(slots, [](const auto& a, const auto& b) {
        return a.second.last_used < b.second.last_used;
      });
      slots.erase(oldest);
    }
    slots[key] = Slot{std::move(entry), ++tick};
  }
};

namespace {

// AMD's roots, parsed once per process (the embedded PEMs never change).
const Result<std::shared_ptr<const std::vector<AmdCertificates>>>& EmbeddedRoots() {
  static const auto* const kRoots = new Result<std::shared_ptr<const std::vector<AmdCertificates>>>(
      []() -> Result<std::shared_ptr<const std::vector<AmdCertificates>>> {
        std::vector<AmdCertificates> roots;
        for (Product product : {Product::kMilan, Product::kGenoa, Product::kTurin}) {
          LUNAL_ASSIGN_OR_RETURN(AmdCertificates amd, AmdCertificatesFor(product));
          roots.push_back(std::move(amd));
        }
        return std::make_shared<const std::vector<AmdCertificates>>(std::move(roots));
      }());
  return *kRoots;
}

// SHA-256 over the certificate bytes and each CRL's, each preceded by its length.
std::string CacheKey(const Bytes& cert, const std::vector<Bytes>& crls) {
  crypto::Hasher hasher(crypto::DigestAlgorithm::kSha256);
  auto update = [&](const Bytes& bytes) {
    std::array<std::uint8_t, 8> length{};
    for (std::size_t i = 0; i < length.size(); ++i) {
      length[i] = static_cast<std::uint8_t>(bytes.size() >> (8 * i));
    }
    hasher.Update(length);
    hasher.Update(bytes);
  };
  update(cert);
  for (const Bytes& crl : crls) update(crl);
  Bytes digest = hasher.Finish();
  return std::string(digest.begin(), digest.end());
}

Result<crypto::Certificate> ParseSigningCert(const Bytes& bytes) {
  const std::string_view text = AsStringView(bytes);
  Result<crypto::Certificate> cert = [&]() -> Result<crypto::Certificate> {
    if (text.find("-----BEGIN") == std::string_view::npos) {
      return crypto::Certificate::FromDer(bytes);
    }
    LUNAL_ASSIGN_OR_RETURN(std::vector<crypto::Certificate> chain, crypto::ParsePemChain(text));
    if (chain.empty()) return Malformed("snp.vcek.unparsable", "the PEM holds no certificate");
    return chain.front();  // leaf first, as AMD KDS and Azure serve chains
  }();
  if (!cert.ok()) {
    return Malformed("snp.vcek.unparsable", "the signing certificate does not parse: {}",
                     cert.error().message());
  }
  return cert;
}

// [KDS]: VCEKs are named "SEV-VCEK", VLEKs "SEV-VLEK". FLAGS.SIGNING_KEY says which one signed.
Status CheckKind(const std::string& common_name, SigningKey key) {
  const std::string_view want = key == SigningKey::kVlek ? "SEV-VLEK" : "SEV-VCEK";
  if (common_name != want) {
    return VerificationFailed("snp.vcek.wrong_kind",
                              "the report was signed by its {} but the certificate is \"{}\"",
                              SigningKeyName(key), common_name);
  }
  return Status();
}

// The product: from CPUID (v3+), else from the certificate's issuer ("SEV-Milan",
// "SEV-VLEK-Genoa"), else each product in turn (the pinned ARK decides).
struct ProductChoice {
  std::vector<Product> candidates;
  std::string_view source;
};
ProductChoice ChooseProducts(const ReportView& report, std::optional<Product> issuer_product) {
  if (std::optional<Product> p = report.product()) return {{*p}, "cpuid"};
  if (issuer_product) return {{*issuer_product}, "certificate issuer"};
  return {{Product::kMilan, Product::kGenoa, Product::kTurin}, "chain"};
}

// crypto.chain.<x> → snp.chain.<x>, except that an expired signing certificate is named as such:
// snp.vcek.expired / snp.vlek.expired, "VLEK expired: ...". OpenSSL (like RFC 5280 §6.1.3
// (a)(2)) treats a certificate as valid for notBefore <= t < notAfter.
Status MapChainError(const Status& s, Product product, const crypto::Certificate& leaf,
                     SigningKey key, Timestamp as_of) {
  if (s.reason() == "crypto.chain.cert_expired" && ToSeconds(as_of) >= leaf.NotAfter()) {
    return VerificationFailed(key == SigningKey::kVlek ? "snp.vlek.expired" : "snp.vcek.expired",
                              "{} expired: its notAfter is {}, the as-of time {} ({} chain)",
                              SigningKeyName(key), FormatRfc3339(FromSeconds(leaf.NotAfter())),
                              FormatRfc3339(as_of), ProductName(product));
  }
  std::string reason = s.reason();
  constexpr std::string_view kPrefix = "crypto.chain.";
  if (reason.starts_with(kPrefix)) reason = "snp.chain." + reason.substr(kPrefix.size());
  return Status(s.code(), reason, fmt::format("{} chain: {}", ProductName(product), s.message()));
}

struct ChainResult {
  const AmdCertificates* amd;
  crypto::VerifiedChain chain;
};

// ARK → ASK → VCEK or ARK → ASVK → VLEK for each candidate product; the first that verifies.
Result<ChainResult> VerifyChainFor(const crypto::Certificate& leaf, SigningKey key,
                                   const std::vector<Product>& candidates,
                                   std::span<const AmdCertificates> roots, Timestamp as_of) {
  std::optional<Status> first_error;
  for (Product product : candidates) {
    auto amd = std::ranges::find(roots, product, &AmdCertificates::product);
    if (amd == roots.end()) {
      if (!first_error) {
        first_error = VerificationFailed("snp.chain.untrusted_root", "no {} roots are trusted",
                                         ProductName(product));
      }
      continue;
    }
    const std::vector<crypto::Certificate> path = {key == SigningKey::kVlek ? amd->asvk : amd->ask,
                                                   amd->ark};
    const std::vector<crypto::TrustAnchor> anchors = {amd->anchor};
    crypto::ChainOptions options{.as_of = ToSeconds(as_of),
                                 .crl_policy = crypto::ChainOptions::CrlPolicy::kNone,
                                 .max_depth = 3,
                                 .x509_strict = false};  // AMD certificates have no AKI
    Result<crypto::VerifiedChain> chain = crypto::VerifyChain(leaf, path, anchors, options);
    if (chain.ok()) return ChainResult{&*amd, std::move(*chain)};
    if (!first_error) first_error = MapChainError(chain.error(), product, leaf, key, as_of);
  }
  return *first_error;
}

// Steps 4–7 for a certificate not in the cache (or outside its window).
Result<std::shared_ptr<CachedPath>> ValidatePath(const ReportView& report,
                                                 const VerifyOptions& options,
                                                 std::span<const AmdCertificates> roots) {
  auto entry = std::make_shared<CachedPath>();
  // 4. The signing certificate, and that it is the kind of key FLAGS names.
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate leaf, ParseSigningCert(*options.signing_cert));
  entry->common_name = leaf.SubjectCommonName();
  LUNAL_RETURN_IF_ERROR(CheckKind(entry->common_name, report.signing_key));
  // 5. The product (ChooseProducts).
  entry->issuer_product = ProductFromName(leaf.IssuerName());
  const ProductChoice choice = ChooseProducts(report, entry->issuer_product);
  // 6. The chain to the product's pinned ARK, valid at as_of [KDS].
  LUNAL_ASSIGN_OR_RETURN(
      ChainResult chain,
      VerifyChainFor(leaf, report.signing_key, choice.candidates, roots, options.as_of));
  const AmdCertificates& amd = *chain.amd;
  entry->product = amd.product;
  entry->description = chain.chain.Describe();
  // 7. The CRLs that apply to this path: signed, current, not listing it [KDS].
  LUNAL_ASSIGN_OR_RETURN(std::vector<crypto::Crl> crls, internal::ParseCrls(options.crls));
  const internal::AmdPath path{
      .product = amd.product,
      .key = report.signing_key,
      .leaf = leaf,
      .intermediate = report.signing_key == SigningKey::kVlek ? amd.asvk : amd.ask,
      .ark = amd.ark,
  };
  LUNAL_ASSIGN_OR_RETURN(
      internal::RevocationOutcome revocation,
      internal::CheckRevocation(crls, path, roots, options.as_of, options.require_crl));
  entry->ark_crl_applied = revocation.ark_crl_applied;
  // The window in which steps 6 and 7 give the same answer.
  entry->valid_from = revocation.valid_from;
  entry->valid_until = revocation.valid_until;
  for (const crypto::Certificate& cert : chain.chain.path) {
    entry->valid_from = std::max(entry->valid_from, FromSeconds(cert.NotBefore()));
    entry->valid_until = std::min(entry->valid_until, FromSeconds(cert.NotAfter()));
  }
  // What the now-trusted leaf says, for steps 8 and 9.
  if (Result<crypto::PublicKey> key = leaf.PublicKey(); key.ok()) {
    entry->key = std::move(*key);
  } else {
    entry->key_error = key.error();
  }
  if (Result<VcekExtensions> ext = ParseVcekExtensions(leaf); ext.ok()) {
    entry->extensions = *ext;
  } else {
    entry->extensions_error = ext.error();
  }
  return entry;
}

}  // namespace

Verifier::Verifier(std::size_t max_cache_entries)
    : roots_(EmbeddedRoots().ok() ? *EmbeddedRoots() : nullptr),
      cache_(std::make_unique<Cache>(max_cache_entries)) {}

Verifier::Verifier(std::vector<AmdCertificates> roots, std::size_t max_cache_entries)
    : roots_(std::make_shared<const std::vector<AmdCertificates>>(std::move(roots))),
      cache_(std::make_unique<Cache>(max_cache_entries)) {}

Verifier::~Verifier() = default;

std::size_t Verifier::CacheSize() const {
  std::lock_guard lock(cache_->mu);
  return cache_->slots.size();
}

Result<SnpVerification> Verifier::Verify(ByteSpan bytes, const VerifyOptions& options) const {
  // 1. An as-of time is required: certificate and CRL validity is judged then.
  if (ToUnixSeconds(options.as_of) == 0) {
    return InvalidArgument("snp.options.as_of", "an as-of time is required");
  }
  if (!roots_) return EmbeddedRoots().error();
  // 2. Structure [ABI]: size, version, algorithm, FLAGS, POLICY, reserved ranges.
  LUNAL_ASSIGN_OR_RETURN(ReportView report, ParseReport(bytes));
  // 3. Which key signed (FLAGS.SIGNING_KEY): 7 means the report is not signed at all.
  if (report.signing_key == SigningKey::kNone) {
    return VerificationFailed("snp.report.unsigned", "SIGNING_KEY is 7: the report is unsigned");
  }
  // 4–7. The signing certificate, its kind, the product, the chain and the CRLs (ValidatePath),
  //      or their cached outcome for this certificate and these CRLs: the kind and products this
  //      report names are checked against it again, and as_of must be inside its window.
  if (!options.signing_cert) {
    return Unavailable("snp.vcek.missing", "no {} certificate was given for this report",
                       SigningKeyName(report.signing_key));
  }
  const std::string key = CacheKey(*options.signing_cert, options.crls);
  std::shared_ptr<const CachedPath> entry = cache_->Find(key);
  ProductChoice choice;
  if (entry) {
    LUNAL_RETURN_IF_ERROR(CheckKind(entry->common_name, report.signing_key));
    choice = ChooseProducts(report, entry->issuer_product);
    if (std::ranges::find(choice.candidates, entry->product) == choice.candidates.end() ||
        options.as_of < entry->valid_from || options.as_of >= entry->valid_until) {
      entry = nullptr;
    } else if (options.require_crl && !entry->ark_crl_applied) {
      return internal::CrlMissing(entry->product);
    }
  }
  if (!entry) {
    LUNAL_ASSIGN_OR_RETURN(std::shared_ptr<CachedPath> fresh,
                           ValidatePath(report, options, *roots_));
    choice = ChooseProducts(report, fresh->issuer_product);
    entry = fresh;
    cache_->Insert(key, std::move(fresh));
  }
  // 8. The report signature under the certificate's P-384 key [ABI].
  if (!entry->key) return entry->key_error;
  LUNAL_RETURN_IF_ERROR(VerifyReportSignature(report, *entry->key));
  // 9. The certificate speaks for this TCB and chip: SPLs = REPORTED_TCB, hwID = CHIP_ID [KDS].
  if (!entry->extensions) return entry->extensions_error;
  LUNAL_RETURN_IF_ERROR(CheckCertificateMatchesReport(*entry->extensions, report, entry->product));
  // 10. The caller's binding, when given.
  if (options.expected_report_data &&
      !ConstantTimeEqual(*options.expected_report_data, report.report_data)) {
    return VerificationFailed("snp.report_data.mismatch", "REPORT_DATA is not the expected value");
  }
  auto copy = [](ByteSpan s) { return Bytes(s.begin(), s.end()); };
  return SnpVerification{
      .version = report.version,
      .product = entry->product,
      .product_source = std::string(choice.source),
      .signing_key = report.signing_key,
      .measurement = copy(report.measurement),
      .report_data = copy(report.report_data),
      .host_data = copy(report.host_data),
      .chip_id = copy(report.chip_id),
      .id_key_digest = copy(report.id_key_digest),
      .author_key_digest = copy(report.author_key_digest),
      .guest_svn = report.guest_svn,
      .vmpl = report.vmpl,
      .policy = report.policy.bits,
      .debug = report.policy.debug(),
      .policy_flags = report.policy.FlagNames(),
      .reported_tcb = report.reported_tcb.Decode(entry->product),
      .certificate_chain = entry->description,
      .revocation_checked = entry->ark_crl_applied,
      .collateral_valid_until = entry->valid_until,
      .as_of = options.as_of,
  };
}

Result<SnpVerification> VerifyReport(ByteSpan report, const VerifyOptions& options) {
  return Verifier(/*max_cache_entries=*/0).Verify(report, options);
}

Json SnpVerification::ToJson() const {
  Json tcb = {{"boot_loader", reported_tcb.boot_loader},
              {"tee", reported_tcb.tee},
              {"snp", reported_tcb.snp},
              {"microcode", reported_tcb.microcode}};
  if (reported_tcb.fmc) tcb["fmc"] = *reported_tcb.fmc;
  Json measurements = {
      {"measurement", HexEncode(measurement)},
      {"host_data", HexEncode(host_data)},
      {"id_key_digest", HexEncode(id_key_digest)},
      {"author_key_digest", HexEncode(author_key_digest)},
      {"report_data", HexEncode(report_data)},
      {"policy",
       {{"raw", fmt::format("{:016x}", policy)}, {"debug", debug}, {"flags", policy_flags}}},
      {"vmpl", vmpl},
      {"guest_svn", guest_svn},
      {"reported_tcb", tcb},
      {"chip_id", HexEncode(chip_id)},
  };
  Json platform = {
      {"product", ProductName(product)},
      {"product_source", product_source},
      {"signing_key", SigningKeyName(signing_key)},
      {"certificate_chain", certificate_chain},
      {"revocation_checked", revocation_checked},
      {"collateral_valid_until", FormatRfc3339(collateral_valid_until)},
      {"verified_as_of", FormatRfc3339(as_of)},
  };
  return Json{{"tee", {{"type", "snp"}, {"simulated", false}, {"report_version", version}}},
              {"measurements", measurements},
              {"platform_verification", platform}};
}

}  // namespace lunal::attest::snp
