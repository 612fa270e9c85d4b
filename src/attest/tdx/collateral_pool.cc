// Loading a collateral pool: classify, parse, verify signatures against pinned roots, index.
// Selection is in collateral_pool_select.cc.
#include "lunal/attest/tdx/collateral_pool.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <optional>
#include <system_error>
#include <utility>

#include "collateral_pool_state.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/signature.h"
#include "raw_json.h"

namespace lunal::attest::tdx {
namespace {

using pool_internal::Candidate;
using pool_internal::CandidateList;
using pool_internal::CrlRole;
using pool_internal::Signer;

Timestamp FromSysSeconds(std::chrono::sys_seconds t) { return FromSeconds(t); }

// What step 1 produced, before anything is trusted.
struct Parsed {
  std::vector<std::pair<std::size_t, TcbInfo>> tcb_infos;  // (file index, document)
  std::vector<std::pair<std::size_t, QeIdentity>> qe_identities;
  std::vector<std::pair<std::size_t, crypto::Crl>> crls;
  std::vector<crypto::Certificate> certificates;
};

std::string_view TrimmedText(ByteSpan bytes) {
  std::string_view text = AsStringView(bytes);
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 byte order mark
  std::size_t start = text.find_first_not_of(" \t\r\n");
  return start == std::string_view::npos ? std::string_view() : text.substr(start);
}

// 1a. JSON: a TCB Info or QE identity by its top-level member.
void ClassifyJson(std::size_t index, std::string_view text, PoolFileReport& report, Parsed& out) {
  auto members = raw_json::TopLevelMembers(text);
  if (!members.ok()) {
    report.status = members.error();
    return;
  }
  for (const raw_json::Member& m : *members) {
    if (m.key == "tcbInfo") report.kind = CollateralKind::kTcbInfo;
    if (m.key == "enclaveIdentity") report.kind = CollateralKind::kQeIdentity;
  }
  if (report.kind == CollateralKind::kTcbInfo) {
    auto doc = ParseTcbInfo(text);
    if (doc.ok()) out.tcb_infos.emplace_back(index, std::move(doc).value());
    report.status = doc.status();
  } else if (report.kind == CollateralKind::kQeIdentity) {
    auto doc = ParseQeIdentity(text);
    if (doc.ok()) out.qe_identities.emplace_back(index, std::move(doc).value());
    report.status = doc.status();
  } else {
    report.status = Unsupported("tdx.pool.unknown_json",
                                "JSON without a top-level tcbInfo or enclaveIdentity member");
  }
}

// 1. Classify one file by its content and parse it.
void ClassifyAndParse(std::size_t index, ByteSpan bytes, PoolFileReport& report, Parsed& out) {
  std::string_view text = TrimmedText(bytes);
  report.kind = CollateralKind::kUnknown;
  if (text.starts_with('{')) {
    ClassifyJson(index, text, report, out);
    return;
  }
  if (text.find("-----BEGIN X509 CRL-----") != std::string_view::npos) {
    report.kind = CollateralKind::kCrl;
    auto crl = crypto::Crl::FromPem(text);
    if (crl.ok()) out.crls.emplace_back(index, *crl);
    report.status = crl.status();
    return;
  }
  if (text.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
    report.kind = CollateralKind::kCertificates;
    auto chain = crypto::ParsePemChain(text);
    if (!chain.ok()) {
      report.status = chain.error();
      return;
    }
    out.certificates.insert(out.certificates.end(), chain->begin(), chain->end());
    std::vector<std::string> names;
    for (const crypto::Certificate& c : *chain) names.push_back(c.SubjectCommonName());
    report.detail = fmt::format("certificates: {}", fmt::join(names, ", "));
    return;
  }
  if (!bytes.empty() && bytes[0] == 0x30) {  // a DER SEQUENCE: a CRL or a certificate
    if (auto crl = crypto::Crl::FromDer(bytes); crl.ok()) {
      report.kind = CollateralKind::kCrl;
      out.crls.emplace_back(index, *crl);
      return;
    }
    if (auto cert = crypto::Certificate::FromDer(bytes); cert.ok()) {
      report.kind = CollateralKind::kCertificates;
      report.detail = fmt::format("certificate: {}", cert->SubjectCommonName());
      out.certificates.push_back(*cert);
      return;
    }
  }
  report.status = Unsupported("tdx.pool.unknown_format",
                              "neither collateral JSON, nor a PEM or DER certificate or CRL");
}

bool Pinned(const crypto::Certificate& cert, const PoolOptions& options) {
  auto digest = cert.Sha256OfDer();
  return std::any_of(options.anchors.begin(), options.anchors.end(),
                     [&](const crypto::TrustAnchor& a) { return a.der_sha256 == digest; });
}

// 2. The certificates that chain to a pinned anchor, each with the window in which its whole
// path is valid. The path is built at the certificate's own notBefore (its issuer must have been
// valid when it was issued); CRLs are applied later, per query, by the verifier.
std::vector<Signer> TrustCertificates(const std::vector<crypto::Certificate>& all,
                                      const PoolOptions& options) {
  std::vector<crypto::Certificate> unique;
  for (const crypto::Certificate& c : all) {
    if (std::find(unique.begin(), unique.end(), c) == unique.end()) unique.push_back(c);
  }
  std::vector<Signer> trusted;
  for (const crypto::Certificate& cert : unique) {
    if (Pinned(cert, options) && cert.IsSelfSigned()) {
      trusted.push_back({cert, FromSysSeconds(cert.NotBefore()), FromSysSeconds(cert.NotAfter())});
      continue;
    }
    crypto::ChainOptions chain_options;
    chain_options.as_of = cert.NotBefore();
    chain_options.crl_policy = crypto::ChainOptions::CrlPolicy::kNone;
    auto chain = crypto::VerifyChain(cert, unique, options.anchors, chain_options);
    if (!chain.ok()) continue;  // test PKI, strangers: never trusted
    Signer s{cert, FromSysSeconds(cert.NotBefore()), FromSysSeconds(cert.NotAfter())};
    for (const crypto::Certificate& c : chain->path) {
      s.not_before = std::max(s.not_before, FromSysSeconds(c.NotBefore()));
      s.not_after = std::min(s.not_after, FromSysSeconds(c.NotAfter()));
    }
    trusted.push_back(std::move(s));
  }
  return trusted;
}

std::string Window(Timestamp from, Timestamp to) {
  return fmt::format("valid {} to {}", FormatRfc3339(from), FormatRfc3339(to));
}

// 3. Which trusted TCB signing certificates verify a document's signature.
template <typename Doc>
std::vector<std::size_t> DocSigners(
    const Doc& doc, const std::vector<std::pair<std::size_t, crypto::PublicKey>>& keys) {
  std::vector<std::size_t> out;
  for (const auto& [index, key] : keys) {
    if (crypto::VerifyEcdsaRaw(key, crypto::DigestAlgorithm::kSha256, AsBytes(doc.signed_bytes),
                               doc.signature)
            .ok()) {
      out.push_back(index);
    }
  }
  return out;
}

Status Untrusted(std::string_view what) {
  return VerificationFailed("tdx.collateral.untrusted_signature",
                            "the {} signature does not verify under any TCB signing certificate "
                            "that chains to a pinned root (Intel test PKI, or altered)",
                            what);
}

void SortBestFirst(CandidateList& list) {
  std::stable_sort(list.candidates.begin(), list.candidates.end(),
                   [](const Candidate& a, const Candidate& b) {
                     return a.rank != b.rank ? a.rank > b.rank : a.from > b.from;
                   });
}

class Loader {
 public:
  Loader(const PoolOptions& options, CollateralPool::State& state)
      : options_(options), state_(state) {}

  // 2-5, after step 1 filled `parsed`.
  void Run(Parsed& parsed) {
    for (const crypto::Certificate& c : options_.extra_certificates) {
      parsed.certificates.push_back(c);
    }
    state_.signers = TrustCertificates(parsed.certificates, options_);
    for (std::size_t i = 0; i < state_.signers.size(); ++i) {
      const crypto::Certificate& cert = state_.signers[i].cert;
      if (cert.IsCa() || cert.SubjectCommonName() != options_.tcb_signer_common_name) continue;
      if (auto key = cert.PublicKey(); key.ok()) tcb_keys_.emplace_back(i, std::move(key).value());
    }
    for (auto& [file, doc] : parsed.tcb_infos) AddTcbInfo(file, std::move(doc));
    for (auto& [file, doc] : parsed.qe_identities) AddQeIdentity(file, std::move(doc));
    for (auto& [file, crl] : parsed.crls) AddCrl(file, crl);
    for (auto& entry : state_.tcb_by_fmspc) SortBestFirst(entry.second);
    for (CandidateList* list : {&state_.qe_identity, &state_.root_ca_crl, &state_.pck_platform_crl,
                                &state_.pck_processor_crl}) {
      SortBestFirst(*list);
    }
    ComputeRevocations();
  }

 private:
  void AddTcbInfo(std::size_t file, TcbInfo doc) {
    PoolFileReport& report = state_.files[file];
    std::string fmspc = doc.FmspcHex();
    CandidateList& list = state_.tcb_by_fmspc[fmspc];
    if (list.what.empty()) list.what = fmt::format("TCB Info for FMSPC {}", fmspc);
    report.detail =
        fmt::format("{}, tcbEvaluationDataNumber {}, {}", list.what, doc.tcb_evaluation_data_number,
                    Window(doc.issue_date, doc.next_update));
    report.key = "fmspc=" + fmspc;
    report.issued = doc.issue_date;
    report.next_update = doc.next_update;
    std::vector<std::size_t> signers = DocSigners(doc, tcb_keys_);
    if (signers.empty()) {
      report.status = Untrusted("TCB Info");
      ++list.ignored;
      return;
    }
    list.candidates.push_back(
        {state_.tcb_infos.size(), doc.issue_date, doc.next_update, doc.tcb_evaluation_data_number,
         std::move(signers),
         fmt::format("tcbEvaluationDataNumber {}", doc.tcb_evaluation_data_number)});
    state_.tcb_infos.push_back(std::move(doc));
  }

  void AddQeIdentity(std::size_t file, QeIdentity doc) {
    PoolFileReport& report = state_.files[file];
    report.detail =
        fmt::format("TD QE identity, tcbEvaluationDataNumber {}, {}",
                    doc.tcb_evaluation_data_number, Window(doc.issue_date, doc.next_update));
    report.key = "td_qe";
    report.issued = doc.issue_date;
    report.next_update = doc.next_update;
    std::vector<std::size_t> signers = DocSigners(doc, tcb_keys_);
    if (signers.empty()) {
      report.status = Untrusted("TD QE identity");
      ++state_.qe_identity.ignored;
      return;
    }
    state_.qe_identity.candidates.push_back(
        {state_.qe_identities.size(), doc.issue_date, doc.next_update,
         doc.tcb_evaluation_data_number, std::move(signers),
         fmt::format("tcbEvaluationDataNumber {}", doc.tcb_evaluation_data_number)});
    state_.qe_identities.push_back(std::move(doc));
  }

  // 4. A CRL is kept when a trusted CA certificate verifies it; its role follows from that CA.
  void AddCrl(std::size_t file, const crypto::Crl& crl) {
    PoolFileReport& report = state_.files[file];
    Timestamp this_update = FromSysSeconds(crl.ThisUpdate());
    std::optional<std::chrono::sys_seconds> next = crl.NextUpdate();
    report.detail = fmt::format("CRL issued by \"{}\", thisUpdate {}", crl.IssuerName(),
                                FormatRfc3339(this_update));
    report.issued = this_update;
    if (next) report.next_update = FromSysSeconds(*next);
    std::vector<std::size_t> signers;
    bool by_root = false;
    for (std::size_t i = 0; i < state_.signers.size(); ++i) {
      const crypto::Certificate& ca = state_.signers[i].cert;
      if (ca.IsCa() && crl.VerifySignature(ca).ok()) {
        signers.push_back(i);
        by_root = by_root || ca.IsSelfSigned();
      }
    }
    CandidateList* list = nullptr;
    if (!signers.empty() && by_root) {
      list = &state_.root_ca_crl;
    } else if (!signers.empty()) {
      auto ca = PckCaFromIssuerName(crl.IssuerName());
      if (!ca.ok()) {
        report.status = Unsupported("tdx.pool.unknown_crl", "not a Root CA or PCK CA CRL");
        return;
      }
      list = *ca == PckCa::kPlatform ? &state_.pck_platform_crl : &state_.pck_processor_crl;
    }
    if (list != nullptr) {
      report.key = list == &state_.root_ca_crl        ? "root_ca"
                   : list == &state_.pck_platform_crl ? "ca=platform"
                                                      : "ca=processor";
    }
    if (list == nullptr) {
      report.status = VerificationFailed("tdx.collateral.untrusted_signature",
                                         "the CRL's signature does not verify under any CA "
                                         "certificate that chains to a pinned root");
      return;
    }
    if (!next) {
      report.status = VerificationFailed("tdx.collateral.crl_no_next_update",
                                         "the CRL has no nextUpdate, so it would never expire");
      ++list->ignored;
      return;
    }
    Timestamp next_update = FromSysSeconds(*next);
    report.detail += fmt::format(", nextUpdate {}", FormatRfc3339(next_update));
    list->candidates.push_back({state_.crls.size(), this_update, next_update,
                                static_cast<std::uint64_t>(std::max<std::int64_t>(
                                    0, crl.ThisUpdate().time_since_epoch().count())),
                                std::move(signers),
                                fmt::format("thisUpdate {}", FormatRfc3339(this_update))});
    state_.crls.push_back(crl);
  }

  // 5. Which signers each Root CA CRL revokes (checked per query by Select()).
  void ComputeRevocations() {
    for (const Candidate& c : state_.root_ca_crl.candidates) {
      std::vector<bool> revoked(state_.signers.size());
      for (std::size_t s = 0; s < state_.signers.size(); ++s) {
        revoked[s] = state_.crls[c.index].IsRevoked(state_.signers[s].cert);
      }
      state_.revoked[c.index] = std::move(revoked);
    }
  }

  const PoolOptions& options_;
  CollateralPool::State& state_;
  std::vector<std::pair<std::size_t, crypto::PublicKey>> tcb_keys_;
};

}  // namespace

crypto::TrustAnchor IntelSgxRootCaAnchor() {
  return {{0x44, 0xa0, 0x19, 0x6b, 0x2b, 0x99, 0xf8, 0x89, 0xb8, 0xe1, 0x49,
           0xe9, 0x5b, 0x80, 0x7a, 0x35, 0x0e, 0x74, 0x24, 0x96, 0x43, 0x99,
           0xe8, 0x85, 0xa7, 0xcb, 0xb8, 0xcc, 0xfa, 0xb6, 0x74, 0xd3},
          "Intel SGX Root CA"};
}

std::string_view CollateralKindName(CollateralKind kind) {
  switch (kind) {
    case CollateralKind::kTcbInfo:
      return "tcb_info";
    case CollateralKind::kQeIdentity:
      return "qe_identity";
    case CollateralKind::kCrl:
      return "crl";
    case CollateralKind::kCertificates:
      return "certificates";
    case CollateralKind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

CollateralPool::CollateralPool(std::unique_ptr<const State> state) : state_(std::move(state)) {}
CollateralPool::~CollateralPool() = default;

const std::vector<PoolFileReport>& CollateralPool::files() const { return state_->files; }

std::shared_ptr<const CollateralPool> CollateralPool::Build(std::vector<PoolInput> files,
                                                            const PoolOptions& options) {
  auto state = std::make_unique<State>();
  Parsed parsed;
  for (std::size_t i = 0; i < files.size(); ++i) {
    PoolFileReport report{
        files[i].name, CollateralKind::kUnknown, files[i].read_status, "", "", std::nullopt,
        std::nullopt};
    if (!files[i].read_status.ok()) {
      // reported as is
    } else if (files[i].bytes.size() > options.max_file_bytes) {
      report.status = ResourceExhausted("tdx.pool.file_too_large", "{} bytes; the limit is {}",
                                        files[i].bytes.size(), options.max_file_bytes);
    } else {
      ClassifyAndParse(i, files[i].bytes, report, parsed);
    }
    state->files.push_back(std::move(report));
  }
  Loader(options, *state).Run(parsed);
  return std::make_shared<const CollateralPool>(std::move(state));
}

Result<std::shared_ptr<const CollateralPool>> CollateralPool::LoadDirectory(
    const std::filesystem::path& dir, const PoolOptions& options) {
  std::error_code ec;
  std::vector<std::filesystem::path> paths;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) paths.push_back(it->path());
  }
  if (ec) {
    return Unavailable("tdx.pool.read_failed", "cannot list {}: {}", dir.string(), ec.message());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<PoolInput> inputs;
  for (const std::filesystem::path& path : paths) {
    PoolInput input{path.filename().string(), {}, Status::Ok()};
    std::ifstream in(path, std::ios::binary);
    if (!in.is_open()) {
      input.read_status = Unavailable("tdx.pool.read_failed", "cannot open {}", path.string());
    }
    // At most one byte more than the limit, so an oversized file is reported, not read whole.
    std::istreambuf_iterator<char> it(in), end;
    for (std::size_t n = 0; in.is_open() && it != end && n <= options.max_file_bytes; ++it, ++n) {
      input.bytes.push_back(static_cast<std::uint8_t>(*it));
    }
    inputs.push_back(std::move(input));
  }
  return Build(std::move(inputs), options);
}

}  // namespace lunal::attest::tdx
