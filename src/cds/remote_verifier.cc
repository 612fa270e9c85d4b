#include "lunal/cds/remote_verifier.h"

#include <utility>

#include "lunal/attest/report_data.h"
#include "lunal/common/encoding.h"
#include "lunal/net/client.h"
#include "lunal/net/errors.h"

namespace lunal::cds {
namespace {

using attest::engine::Verdict;
using attest::engine::VerifyRequest;
using attest::engine::VerifyResponse;

Code CodeFromName(std::string_view name) {
  for (int c = static_cast<int>(Code::kInvalidArgument); c <= static_cast<int>(Code::kInternal);
       ++c) {
    if (CodeName(static_cast<Code>(c)) == name) return static_cast<Code>(c);
  }
  return Code::kVerificationFailed;
}

class RemoteVerifier final : public attest::engine::EvidenceVerifier {
 public:
  explicit RemoteVerifier(RemoteVerifierOptions options) : options_(std::move(options)) {}

  Result<VerifyResponse> Verify(const VerifyRequest& request) const override {
    Json body = Json::object();
    // An envelope travels as the object it is; anything else as base64 of its bytes.
    auto envelope = ParseJson(AsStringView(request.evidence));
    if (envelope.ok() && envelope->is_object()) {
      body["evidence"] = std::move(*envelope);
    } else {
      body["evidence"] = Base64Encode(request.evidence);
    }
    if (request.expected_report_data) {
      body["expected_report_data"] = HexEncode(*request.expected_report_data);
    }
    if (request.event_log) body["event_log"] = Base64Encode(*request.event_log);
    if (request.policy) body["policy"] = request.policy->ToJson();
    if (request.as_of) body["at"] = FormatRfc3339(*request.as_of);

    net::ClientOptions client_options{.connect_timeout = options_.timeout,
                                      .request_timeout = options_.timeout};
    client_options.tls.ca_pem = options_.ca_pem;
    net::HttpClient client(client_options);
    net::HttpClientRequest http{.method = "POST",
                                .url = options_.base_url + "/v1/attestation/verify",
                                .headers = {{"Content-Type", "application/json"}},
                                .body = body.dump()};
    if (!options_.token.empty()) {
      http.headers.emplace_back("Authorization", "Bearer " + options_.token);
    }
    LUNAL_ASSIGN_OR_RETURN(net::HttpResponse response, client.Send(http));
    if (response.status < 200 || response.status > 299) {
      return net::StatusFromErrorBody(response.status, response.body);
    }
    auto record = ParseJson(response.body);
    if (!record.ok() || !record->is_object() || !(*record)["status"].is_string()) {
      return Unavailable("cds.remote.bad_response",
                         "the attestation service answered 200 without a verification record");
    }
    VerifyResponse out;
    const std::string status = (*record)["status"];
    if (status == "verified") {
      out.verdict = Verdict::kVerified;
    } else if (status == "rejected") {
      out.verdict = Verdict::kRejected;
    } else {
      out.verdict = Verdict::kFailed;
      const Json error = record->value("error", Json::object());
      out.error = Status(CodeFromName(error.value("code", "")),
                         error.value("reason", "cds.remote.failed"), error.value("message", ""));
      if (out.error.ok()) {
        out.error = VerificationFailed("cds.remote.failed", "the remote verification failed");
      }
    }
    out.record = std::move(*record);
    if (out.verdict != Verdict::kFailed) out.essentials = EssentialsFromRecord(out.record);
    out.tee = out.essentials.value("tee", "");
    out.container = out.essentials.value("evidence_container", "");
    return out;
  }

 private:
  RemoteVerifierOptions options_;
};

}  // namespace

Json EssentialsFromRecord(const Json& record) {
  const Json a = record.value("attestation", Json::object());
  const Json tee = a.value("tee", Json::object());
  const Json m = a.value("measurements", Json::object());
  const Json platform = a.value("platform_verification", Json::object());
  const std::string type = tee.value("type", "");
  Json out = {{"tee", type},
              {"simulated", tee.value("simulated", false)},
              {"evidence_container", a.value("evidence_container", "")},
              {"report_data", m.value("report_data", "")},
              {"advisory_ids", platform.value("advisory_ids", Json::array())},
              {"policy", a.value("policy", Json::object()).value("result", "fail")}};
  out["tcb_status"] = platform.contains("tcb_status") ? platform["tcb_status"] : Json(nullptr);
  Json measurements = Json::object();
  Json build_hash = nullptr;
  if (type == "tdx") {
    for (const char* name : {"mr_td", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mr_config_id"}) {
      if (m.contains(name)) measurements[name] = m[name];
    }
    // Unknown means debug: fail closed.
    out["debug"] = m.value("td_attributes", Json::object()).value("debug", true);
    const Json log = a.value("event_log", Json::object());
    if (log.contains("build_hash")) build_hash = log["build_hash"];
  } else {
    for (const char* name : {"measurement", "host_data"}) {
      if (m.contains(name)) measurements[name] = m[name];
    }
    out["debug"] = m.value("policy", Json::object()).value("debug", true);
    // DESIGN.md: on SNP the build hash is HOST_DATA, unless the host set none (all zero).
    const std::string host_data = m.value("host_data", "");
    if (!host_data.empty() && host_data.find_first_not_of('0') != std::string::npos) {
      build_hash = "sha256:" + host_data;
    }
  }
  out["measurements"] = std::move(measurements);
  out["build_hash"] = std::move(build_hash);
  return out;
}

std::unique_ptr<attest::engine::EvidenceVerifier> MakeRemoteVerifier(
    RemoteVerifierOptions options) {
  return std::make_unique<RemoteVerifier>(std::move(options));
}

}  // namespace lunal::cds
