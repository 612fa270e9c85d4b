// FakePcsKdsServer (fake_pcs_kds_server.h).
#include "lunal/attest/collateral/fake_pcs_kds_server.h"

#include <algorithm>
#include <charconv>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "lunal/attest/snp/signatures.h"
#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/crypto/x509.h"
#include "lunal/net/errors.h"
#include "lunal/net/server.h"

namespace lunal::attest::collateral::testing {

namespace fs = std::filesystem;

namespace {

struct Doc {
  std::string body;
  Timestamp issued;
  Timestamp next_update;
  std::string chain_header;  // URL-encoded PEM; empty for the Root CA CRL
  std::string file;
};

Result<crypto::Certificate> ReadPem(const fs::path& path) {
  LUNAL_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return crypto::Certificate::FromPem(text);
}

// The newest document, or the newest valid at `at`.
const Doc* Choose(const std::vector<Doc>& docs, std::optional<Timestamp> at) {
  const Doc* best = nullptr;
  for (const Doc& d : docs) {
    if (at && !(d.issued <= *at && *at < d.next_update)) continue;
    if (best == nullptr || d.issued > best->issued) best = &d;
  }
  return best;
}

std::optional<unsigned> QueryByte(const net::HttpRequest& req, std::string_view name) {
  auto value = req.Query(name);
  if (!value) return std::nullopt;
  unsigned n = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || end != value->data() + value->size() || n > 255) return std::nullopt;
  return n;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

net::HttpResponse NotFound() { return net::HttpResponse::Text(404, "Not Found"); }

}  // namespace

struct FakePcsKdsServer::Impl {
  FakePcsKdsOptions options;
  std::map<std::string, std::vector<Doc>> tcb_infos;  // by lowercase FMSPC
  std::vector<Doc> qe_identities;
  std::map<std::string, std::vector<Doc>> pck_crls;  // "platform", "processor"
  std::vector<Doc> root_ca_crls;
  std::vector<FakeVcek> vceks;
  std::map<std::pair<snp::Product, bool>, std::string> cert_chains;  // (product, vlek) → PEM

  mutable std::mutex mu;
  std::optional<Timestamp> serve_at;
  std::map<std::string, net::HttpResponse> overrides;
  std::chrono::milliseconds delay{0};
  std::map<std::string, std::size_t> counts;
  std::size_t total = 0;

  std::uint16_t port = 0;
  std::unique_ptr<net::HttpServer> server;

  Status LoadIntel();
  Status LoadAmd();
  Result<net::Router> MakeRouter();
  net::Handler Wrap(net::Handler handler);
  net::HttpResponse ServeDoc(const std::vector<Doc>* docs, std::string_view header,
                             std::string_view content_type);

  std::optional<Timestamp> ServeAt() const {
    std::lock_guard lock(mu);
    return serve_at;
  }
};

Status FakePcsKdsServer::Impl::LoadIntel() {
  const fs::path anchors = options.evidence_dir / "anchors";
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate root, ReadPem(anchors / "intel_sgx_root_ca.pem"));
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate platform_ca,
                         ReadPem(anchors / "intel_sgx_pck_platform_ca.pem"));
  std::vector<crypto::Certificate> signers;
  for (const char* name :
       {"intel_sgx_tcb_signing_2018-2025.pem", "intel_sgx_tcb_signing_2025-2032.pem"}) {
    LUNAL_ASSIGN_OR_RETURN(crypto::Certificate signer, ReadPem(anchors / name));
    signers.push_back(signer);
  }
  // The TCB signing certificate PCS would have served with a document issued at `issued`.
  auto signing_chain = [&](Timestamp issued) {
    const crypto::Certificate* best = nullptr;
    for (const crypto::Certificate& c : signers) {
      const bool valid =
          FromSeconds(c.NotBefore()) <= issued && issued <= FromSeconds(c.NotAfter());
      if (valid && (best == nullptr || c.NotBefore() > best->NotBefore())) best = &c;
    }
    if (best == nullptr) best = &signers.back();
    return UrlEncode(best->ToPem() + root.ToPem());
  };
  const std::string pck_chain = UrlEncode(platform_ca.ToPem() + root.ToPem());

  const fs::path dir = options.evidence_dir / "collateral" / "intel";
  LUNAL_ASSIGN_OR_RETURN(auto pool, tdx::CollateralPool::LoadDirectory(dir));
  for (const tdx::PoolFileReport& report : pool->files()) {
    // Only what verifies under Intel's production root: PCS never serves the test PKI.
    if (!report.status.ok() || report.key.empty() || !report.issued || !report.next_update) {
      continue;
    }
    LUNAL_ASSIGN_OR_RETURN(std::string body, ReadFile(dir / report.name));
    Doc doc{std::move(body), *report.issued, *report.next_update, "", report.name};
    if (report.kind == tdx::CollateralKind::kTcbInfo) {
      doc.chain_header = signing_chain(doc.issued);
      tcb_infos[report.key.substr(std::string_view("fmspc=").size())].push_back(std::move(doc));
    } else if (report.kind == tdx::CollateralKind::kQeIdentity) {
      doc.chain_header = signing_chain(doc.issued);
      qe_identities.push_back(std::move(doc));
    } else if (report.key == "root_ca") {
      root_ca_crls.push_back(std::move(doc));
    } else if (report.key == "ca=platform") {
      doc.chain_header = pck_chain;
      pck_crls["platform"].push_back(std::move(doc));
    }
    // ca=processor: the anchors hold no Processor CA to build its chain from (and the evidence
    // holds no production Processor CA CRL).
  }
  return Status::Ok();
}

Status FakePcsKdsServer::Impl::LoadAmd() {
  for (snp::Product product : {snp::Product::kMilan, snp::Product::kGenoa, snp::Product::kTurin}) {
    const std::string p = Lower(snp::ProductName(product));
    const fs::path anchors = options.evidence_dir / "anchors";
    LUNAL_ASSIGN_OR_RETURN(crypto::Certificate ark, ReadPem(anchors / ("amd_" + p + "_ark.pem")));
    LUNAL_ASSIGN_OR_RETURN(crypto::Certificate ask, ReadPem(anchors / ("amd_" + p + "_ask.pem")));
    LUNAL_ASSIGN_OR_RETURN(crypto::Certificate asvk, ReadPem(anchors / ("amd_" + p + "_asvk.pem")));
    cert_chains[{product, false}] = ask.ToPem() + ark.ToPem();
    cert_chains[{product, true}] = asvk.ToPem() + ark.ToPem();
  }
  std::set<Bytes> seen;
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(options.evidence_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_regular_file(ec) &&
        Lower(it->path().filename().string()).find("vcek") != std::string::npos) {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    auto text = ReadFile(file, {.max_bytes = 64 << 10});
    if (!text.ok()) continue;
    Result<crypto::Certificate> cert = Status();
    if (text->find("-----BEGIN CERTIFICATE") != std::string::npos) {
      auto chain = crypto::ParsePemChain(*text);
      if (!chain.ok()) continue;
      cert = chain->front();
    } else {
      cert = crypto::Certificate::FromDer(AsBytes(*text));
    }
    if (!cert.ok()) continue;
    auto product = snp::ProductFromName(cert->IssuerName());
    auto ext = snp::ParseVcekExtensions(*cert);
    if (!product || !ext.ok() || !ext->hw_id) continue;
    auto amd = snp::AmdCertificatesFor(*product);
    if (!amd.ok() || !cert->VerifySignedBy(amd->ask).ok()) continue;  // forged test files
    const ByteSpan der = cert->Der();
    Bytes der_bytes(der.begin(), der.end());
    if (!seen.insert(der_bytes).second) continue;
    FakeVcek vcek{
        .product = *product,
        .hw_id = *ext->hw_id,
        .tcb = {.fmc = ext->fmc_spl,
                .boot_loader = ext->bl_spl,
                .tee = ext->tee_spl,
                .snp = ext->snp_spl,
                .microcode = ext->ucode_spl,
                .reserved_zero = true},
        .der = std::move(der_bytes),
        .file = file.string(),
        .path = fmt::format("/vcek/v1/{}/{}", snp::ProductName(*product), HexEncode(*ext->hw_id))};
    vceks.push_back(std::move(vcek));
  }
  return Status::Ok();
}

net::Handler FakePcsKdsServer::Impl::Wrap(net::Handler handler) {
  return [this, handler = std::move(handler)](net::HttpRequest& req) -> net::HttpResponse {
    std::chrono::milliseconds wait{0};
    std::optional<net::HttpResponse> override;
    {
      std::lock_guard lock(mu);
      ++counts[req.path];
      ++total;
      wait = delay;
      if (auto it = overrides.find(req.path); it != overrides.end()) override = it->second;
    }
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
    if (override) return *override;
    return handler(req);
  };
}

net::HttpResponse FakePcsKdsServer::Impl::ServeDoc(const std::vector<Doc>* docs,
                                                   std::string_view header,
                                                   std::string_view content_type) {
  const Doc* doc = docs == nullptr ? nullptr : Choose(*docs, ServeAt());
  if (doc == nullptr) return NotFound();
  net::HttpResponse response;
  response.status = 200;
  response.body = doc->body;
  response.AddHeader("Content-Type", std::string(content_type));
  response.AddHeader("Request-ID", "fake");
  if (!header.empty()) response.AddHeader(std::string(header), doc->chain_header);
  return response;
}

Result<net::Router> FakePcsKdsServer::Impl::MakeRouter() {
  net::Router router;
  // [PCS API v4] "Get TDX TCB Info V4".
  LUNAL_RETURN_IF_ERROR(
      router.Add("GET", "/tdx/certification/v4/tcb", Wrap([this](net::HttpRequest& req) {
                   auto fmspc = req.Query("fmspc");
                   if (!fmspc || fmspc->size() != 12)
                     return net::HttpResponse::Text(400, "bad fmspc");
                   auto it = tcb_infos.find(Lower(*fmspc));
                   return ServeDoc(it == tcb_infos.end() ? nullptr : &it->second,
                                   "TCB-Info-Issuer-Chain", "application/json");
                 })));
  // [PCS API v4] "Enclave Identity V4", TDX QE.
  LUNAL_RETURN_IF_ERROR(router.Add(
      "GET", "/tdx/certification/v4/qe/identity", Wrap([this](net::HttpRequest&) {
        return ServeDoc(&qe_identities, "SGX-Enclave-Identity-Issuer-Chain", "application/json");
      })));
  // [PCS API v4] "Get Revocation List V4": PEM unless encoding=der.
  LUNAL_RETURN_IF_ERROR(router.Add(
      "GET", "/sgx/certification/v4/pckcrl", Wrap([this](net::HttpRequest& req) {
        auto ca = req.Query("ca");
        if (!ca || (*ca != "platform" && *ca != "processor")) {
          return net::HttpResponse::Text(400, "bad ca");
        }
        auto it = pck_crls.find(std::string(*ca));
        net::HttpResponse response = ServeDoc(it == pck_crls.end() ? nullptr : &it->second,
                                              "SGX-PCK-CRL-Issuer-Chain", "application/pkix-crl");
        if (response.status == 200 && req.Query("encoding") != "der") {
          auto crl = crypto::Crl::FromDer(AsBytes(response.body));
          if (crl.ok()) response.body = crl->ToPem();
          response.headers[0].second = "application/x-pem-file";
        }
        return response;
      })));
  // The Intel SGX Root CA's CRL distribution point.
  LUNAL_RETURN_IF_ERROR(router.Add("GET", "/IntelSGXRootCA.der", Wrap([this](net::HttpRequest&) {
                                     return ServeDoc(&root_ca_crls, "", "application/pkix-crl");
                                   })));
  // [KDS] VCEK, cert_chain, crl.
  auto product_of = [](const net::HttpRequest& req) -> std::optional<snp::Product> {
    auto p = snp::ProductFromName(req.PathParam("product"));
    if (!p || snp::ProductName(*p) != req.PathParam("product")) return std::nullopt;
    return p;
  };
  LUNAL_RETURN_IF_ERROR(router.Add(
      "GET", "/vcek/v1/{product}/{hwid}", Wrap([this, product_of](net::HttpRequest& req) {
        auto product = product_of(req);
        auto hwid = HexDecode(req.PathParam("hwid"));
        if (!product || !hwid.ok()) return NotFound();
        const bool turin = *product == snp::Product::kTurin;
        auto bl = QueryByte(req, "blSPL"), tee = QueryByte(req, "teeSPL"),
             snp_spl = QueryByte(req, "snpSPL"), ucode = QueryByte(req, "ucodeSPL"),
             fmc = QueryByte(req, "fmcSPL");
        if (!bl || !tee || !snp_spl || !ucode || (turin && !fmc)) {
          return net::HttpResponse::Text(400, "missing or bad SPL parameters");
        }
        for (const FakeVcek& v : vceks) {
          if (v.product == *product && v.hw_id == *hwid && v.tcb.boot_loader == *bl &&
              v.tcb.tee == *tee && v.tcb.snp == *snp_spl && v.tcb.microcode == *ucode &&
              (!turin || v.tcb.fmc == fmc)) {
            net::HttpResponse response;
            response.body = ToString(v.der);
            response.AddHeader("Content-Type", "application/octet-stream");
            return response;
          }
        }
        return NotFound();
      })));
  for (const bool vlek : {false, true}) {
    const std::string prefix = vlek ? "/vlek/v1/{product}" : "/vcek/v1/{product}";
    LUNAL_RETURN_IF_ERROR(router.Add("GET", prefix + "/cert_chain",
                                     Wrap([this, product_of, vlek](net::HttpRequest& req) {
                                       auto product = product_of(req);
                                       if (!product) return NotFound();
                                       net::HttpResponse response;
                                       response.body = cert_chains.at({*product, vlek});
                                       response.AddHeader("Content-Type", "application/x-pem-file");
                                       return response;
                                     })));
    LUNAL_RETURN_IF_ERROR(
        router.Add("GET", prefix + "/crl", Wrap([](net::HttpRequest&) { return NotFound(); })));
  }
  return router;
}

FakePcsKdsServer::FakePcsKdsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FakePcsKdsServer::~FakePcsKdsServer() { Stop(); }

Result<std::unique_ptr<FakePcsKdsServer>> FakePcsKdsServer::Start(FakePcsKdsOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->port = impl->options.port;
  LUNAL_RETURN_IF_ERROR(impl->LoadIntel());
  LUNAL_RETURN_IF_ERROR(impl->LoadAmd());
  std::unique_ptr<FakePcsKdsServer> server(new FakePcsKdsServer(std::move(impl)));
  LUNAL_RETURN_IF_ERROR(server->Restart());
  return server;
}

std::uint16_t FakePcsKdsServer::port() const { return impl_->port; }
std::string FakePcsKdsServer::BaseUrl() const {
  return fmt::format("http://127.0.0.1:{}", impl_->port);
}
std::string FakePcsKdsServer::RootCaCrlUrl() const { return BaseUrl() + "/IntelSGXRootCA.der"; }

void FakePcsKdsServer::Stop() {
  if (impl_->server) {
    impl_->server->Stop(std::chrono::milliseconds(0));
    impl_->server.reset();
  }
}

Status FakePcsKdsServer::Restart() {
  Stop();
  LUNAL_ASSIGN_OR_RETURN(net::Router router, impl_->MakeRouter());
  auto server = std::make_unique<net::HttpServer>(
      net::ServerOptions{
          .bind_address = "127.0.0.1", .port = impl_->port, .threads = impl_->options.threads},
      std::move(router));
  LUNAL_RETURN_IF_ERROR(server->Start());
  impl_->port = server->port();
  impl_->server = std::move(server);
  return Status::Ok();
}

void FakePcsKdsServer::ServeValidAt(std::optional<Timestamp> t) {
  std::lock_guard lock(impl_->mu);
  impl_->serve_at = t;
}

void FakePcsKdsServer::Override(const std::string& path,
                                std::optional<net::HttpResponse> response) {
  std::lock_guard lock(impl_->mu);
  if (response) {
    impl_->overrides[path] = std::move(*response);
  } else {
    impl_->overrides.erase(path);
  }
}

void FakePcsKdsServer::set_delay(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mu);
  impl_->delay = delay;
}

std::size_t FakePcsKdsServer::Requests(const std::string& path) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->counts.find(path);
  return it == impl_->counts.end() ? 0 : it->second;
}

std::size_t FakePcsKdsServer::TotalRequests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->total;
}

void FakePcsKdsServer::ResetCounts() {
  std::lock_guard lock(impl_->mu);
  impl_->counts.clear();
  impl_->total = 0;
}

const std::vector<FakeVcek>& FakePcsKdsServer::vceks() const { return impl_->vceks; }

std::string FakePcsKdsServer::UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') ||
                            std::string_view("-_.!~*'()").find(ch) != std::string_view::npos;
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace lunal::attest::collateral::testing
