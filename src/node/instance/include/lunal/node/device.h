// The simulated TDX device between a node and one instance (docs/protocols/instance-agent.md):
// the node holds the instance's SimTdxAttester (its "hardware": RTMRs, event log, quoting key) and
// serves it on a Unix socket bound into the sandbox at kDevicePath; the instance agent inside
// reaches it only through DeviceAttester, the way a real TD reaches TDG.MR.RTMR.EXTEND and the
// quoting enclave through configfs-tsm. Nothing secret crosses the socket: the quote is signed on
// the node's side, which is what makes the simulation a simulation.
//
// Wire format: one connection per call; the client writes one JSON object and a newline, the
// server answers one JSON object and a newline, then closes. Requests (at most 1 MiB):
//   {"op": "extend", "rtmr": 3, "event": "<base64>"}    → {"ok": true}
//   {"op": "quote", "report_data": "<128 hex>"}        → {"ok": true, "evidence": <envelope>}
//   {"op": "ready", "address": "127.0.0.1:<port>", "nonce": "…", "certificate_pem": "…",
//    "evidence": <envelope>}                           → {"ok": true}
//   {"op": "failed", "reason": "…", "message": "…"}   → {"ok": true}
//   {"op": "cds", "path": "/v1/cds/challenge" | "/v1/cds/certificates", "body": {…}}
//                                                       → {"ok": true, "answer": {…}}: the node
//     relays the POST to its CDS (the instance has no network beyond its own loopback); any other
//     path is refused with node.device.bad_request, and the CDS's refusal comes back as the
//     error (its reason and code)
// Errors: {"ok": false, "reason": "<stable reason>", "message": "…", "code"?: "<CodeName>"}
// (without "code" the client reports kUnavailable). <envelope> is
// cds::EvidenceEnvelope(evidence). "extend" takes only Lunal events for RTMR3 (the agent cannot
// rewrite boot measurements: RTMR0–2 are extended by the node before the sandbox starts).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "lunal/attest/attester.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"

namespace lunal::node {

inline constexpr std::string_view kDevicePath = "/run/lunal/tdx.sock";
inline constexpr std::string_view kSpecPath = "/run/lunal/instance.json";

// The instance agent's side: an attest::Attester whose Attest and ExtendRtmr go over the socket.
// Errors: node.device.unavailable (kUnavailable: connect/read/write/5 s timeout),
// node.device.bad_response (kMalformed: no complete JSON line, over 1 MiB, no "ok", a bad
// envelope), node.device.bad_rtmr / node.device.bad_digest (kInvalidArgument: ExtendRtmr of
// another RTMR than 3, or a digest that is not SHA-384(event), refused before sending),
// node.device.bad_path (kInvalidArgument), and the server's own {reason, message}.
// Evidence from Attest says simulated = true, provider "lunal_sim_tdx".
// Thread-safety: every call opens its own connection; calls may run concurrently.
class DeviceAttester final : public attest::Attester {
 public:
  explicit DeviceAttester(std::string socket_path) : socket_path_(std::move(socket_path)) {}
  std::string_view Name() const override { return "sim-tdx-device"; }
  attest::TeeType Tee() const override { return attest::TeeType::kTdx; }
  Result<attest::Evidence> Attest(
      std::span<const std::uint8_t, attest::kReportDataSize> report_data) override;
  Status ExtendRtmr(int index, ByteSpan digest, ByteSpan event) override;

  // The "ready" and "failed" reports.
  Status ReportReady(const Json& ready);  // the members of the "ready" request above
  Status ReportFailed(std::string_view reason, std::string_view message);
  // The "cds" relay: a cds::EnrollOptions::post.
  Result<Json> CdsPost(std::string_view path, const Json& body);

 private:
  Result<Json> Call(const Json& request);
  std::string socket_path_;
};

}  // namespace lunal::node
