// FakePcsKdsServer: a local Intel PCS v4 + AMD KDS over the shared evidence, for tests and
// benchmarks (target lunal::attest_collateral_testing; never linked into shipped binaries).
//
// It serves, on http://127.0.0.1:<port> (port 0 by default: an ephemeral one), the responses the
// real services give (docs/protocols/pcs-kds.md):
//   GET /tdx/certification/v4/tcb?fmspc=<hex>        TCB Info JSON, header TCB-Info-Issuer-Chain
//   GET /tdx/certification/v4/qe/identity            TD_QE identity,
//   SGX-Enclave-Identity-Issuer-Chain GET /sgx/certification/v4/pckcrl?ca=<ca>&encoding=der   DER,
//   SGX-PCK-CRL-Issuer-Chain GET /IntelSGXRootCA.der                          the Root CA CRL, DER
//   GET /vcek/v1/<product>/<hwid>?[fmcSPL=&]blSPL=&teeSPL=&snpSPL=&ucodeSPL=   VCEK, DER
//   GET /vcek/v1/<product>/cert_chain, /vlek/v1/<product>/cert_chain          PEM ASK|ASVK + ARK
//   GET /vcek/v1/<product>/crl                       404 (the evidence holds no AMD CRL)
// Intel documents: those of <evidence>/collateral/intel that verify under Intel's pinned root
// (the test-PKI ones are left out, as PCS never serves them), indexed by FMSPC / CA. Of several,
// the newest (latest issueDate / thisUpdate) is served; with ServeValidAt(t), the newest valid at
// t (issued <= t < nextUpdate), as PCS serving at time t would. Issuer chains come from
// <evidence>/anchors: the TCB signing certificate valid when the document was issued, then the
// root; the PCK Platform CA, then the root. Headers are URL-encoded as Intel does
// (encodeURIComponent: "-----BEGIN%20CERTIFICATE-----%0AMIIC...%2B...%3D%0A...").
// AMD VCEKs: every certificate under <evidence> whose file name contains "vcek", that is issued by
// its product's ASK, indexed by product, hwID and SPL extensions. Unknown documents are 404.
//
// Requests are counted per path (without the query). Override(path, response) answers a path
// with a given response instead (malformed bodies, 429, 500, oversize); set_delay() holds every
// answer (for concurrency tests). Stop() and Restart() keep the port.
//
// Thread-safety: the setters and counters may be used from any thread while the server runs;
// Start/Stop/Restart from the owning thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lunal/attest/snp/report.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/net/http.h"

namespace lunal::attest::collateral::testing {

struct FakePcsKdsOptions {
  std::filesystem::path evidence_dir;  // required: ../shared/evidence
  std::uint16_t port = 0;
  int threads = 4;
};

// A VCEK the fake serves, and the request that names it.
struct FakeVcek {
  snp::Product product;
  Bytes hw_id;  // 64 bytes (8 for Turin)
  snp::TcbParts tcb;
  Bytes der;
  std::string file;  // where it came from
  std::string path;  // "/vcek/v1/Milan/<hwid hex>"
};

class FakePcsKdsServer {
 public:
  static Result<std::unique_ptr<FakePcsKdsServer>> Start(FakePcsKdsOptions options);
  ~FakePcsKdsServer();
  FakePcsKdsServer(const FakePcsKdsServer&) = delete;
  FakePcsKdsServer& operator=(const FakePcsKdsServer&) = delete;

  std::uint16_t port() const;
  std::string BaseUrl() const;       // "http://127.0.0.1:<port>": PCS and KDS base URL
  std::string RootCaCrlUrl() const;  // BaseUrl() + "/IntelSGXRootCA.der"

  void Stop();       // connections refused until Restart
  Status Restart();  // on the same port

  // nullopt: the newest documents; a time: the newest valid then.
  void ServeValidAt(std::optional<Timestamp> t);
  // Answers `path` (exact, without query) with `response` until cleared with nullopt.
  void Override(const std::string& path, std::optional<net::HttpResponse> response);
  void set_delay(std::chrono::milliseconds delay);

  std::size_t Requests(const std::string& path) const;  // answered requests for `path`
  std::size_t TotalRequests() const;
  void ResetCounts();

  const std::vector<FakeVcek>& vceks() const;

  // Intel's header encoding (unreserved characters kept, everything else %XX upper case).
  static std::string UrlEncode(std::string_view text);

  struct Impl;  // private

 private:
  explicit FakePcsKdsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunal::attest::collateral::testing
