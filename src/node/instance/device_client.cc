// DeviceAttester (device.h): the instance agent's side of the simulated TDX device socket.
// One connection per call, one JSON line each way, 1 MiB cap, 5 s timeouts.
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "lunal/attest/report_data.h"
#include "lunal/cds/instance.h"
#include "lunal/common/encoding.h"
#include "lunal/common/unique_fd.h"
#include "lunal/crypto/digest.h"
#include "lunal/node/device.h"

namespace lunal::node {
namespace {

constexpr std::size_t kMaxLine = std::size_t{1} << 20;
constexpr int kTimeoutSeconds = 5;

Status Errno(std::string_view what, const std::string& path) {
  return Unavailable("node.device.unavailable", "{} {}: {}", what, path, std::strerror(errno));
}

// An error answer may name its code (status.h CodeName); without one it is kUnavailable: the
// device could not do what was asked.
Code CodeOf(std::string_view name) {
  for (int c = static_cast<int>(Code::kInvalidArgument); c <= static_cast<int>(Code::kInternal);
       ++c) {
    if (CodeName(static_cast<Code>(c)) == name) return static_cast<Code>(c);
  }
  return Code::kUnavailable;
}

// The evidence the device returned: the envelope of cds::EvidenceEnvelope, read back.
Result<attest::Evidence> EvidenceFromEnvelope(const Json& envelope) {
  auto bad = [](std::string_view why) {
    return Malformed("node.device.bad_response", "evidence envelope: {}", why);
  };
  if (!envelope.is_object()) return bad("not an object");
  if (envelope.value("platform", "") != "tdx") return bad("platform is not \"tdx\"");
  if (!envelope.contains("quote") || !envelope["quote"].is_string()) return bad("no quote");
  attest::Evidence evidence{.tee = attest::TeeType::kTdx,
                            .quote = {},
                            .aux_blob = {},
                            .event_log = {},
                            .provider = "lunal_sim_tdx",
                            .generation = 0,
                            .simulated = true};
  auto quote = Base64Decode(envelope["quote"].get<std::string>());
  if (!quote.ok() || quote->empty()) return bad("quote is not base64");
  evidence.quote = std::move(*quote);
  if (envelope.contains("event_log")) {
    if (!envelope["event_log"].is_string()) return bad("event_log is not a string");
    auto log = Base64Decode(envelope["event_log"].get<std::string>());
    if (!log.ok()) return bad("event_log is not base64");
    evidence.event_log = std::move(*log);
  }
  return evidence;
}

}  // namespace

Result<Json> DeviceAttester::Call(const Json& request) {
  std::string line = request.dump();
  line.push_back('\n');
  if (line.size() > kMaxLine) {
    return InvalidArgument("node.device.request_too_large", "{} bytes (at most {})", line.size(),
                           kMaxLine);
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.empty() || socket_path_.size() >= sizeof(addr.sun_path)) {
    return InvalidArgument("node.device.bad_path", "socket path '{}' is empty or too long",
                           socket_path_);
  }
  std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());

  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Errno("socket for", socket_path_);
  timeval tv{.tv_sec = kTimeoutSeconds, .tv_usec = 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Errno("connect to", socket_path_);
  }
  for (std::size_t sent = 0; sent < line.size();) {
    const ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("write to", socket_path_);
    sent += static_cast<std::size_t>(n);
  }

  std::string answer;
  char buf[8192];
  while (answer.find('\n') == std::string::npos) {
    const ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read from", socket_path_);
    if (n == 0) break;  // EOF: the answer must still be complete
    answer.append(buf, static_cast<std::size_t>(n));
    if (answer.size() > kMaxLine) {
      return Malformed("node.device.bad_response", "answer over {} bytes", kMaxLine);
    }
  }
  const auto newline = answer.find('\n');
  if (newline == std::string::npos) {
    return Malformed("node.device.bad_response", "the device closed without a complete answer");
  }
  answer.resize(newline);
  auto doc = ParseJson(answer);
  if (!doc.ok() || !doc->is_object() || !doc->contains("ok") || !(*doc)["ok"].is_boolean()) {
    return Malformed("node.device.bad_response", "the answer is not a JSON object with \"ok\"");
  }
  if (!(*doc)["ok"].get<bool>()) {
    const std::string reason = doc->value("reason", "");
    const std::string message = doc->value("message", "");
    if (reason.empty()) return Malformed("node.device.bad_response", "an error without a reason");
    return Status(CodeOf(doc->value("code", "")), reason, message);
  }
  return std::move(*doc);
}

Result<Json> DeviceAttester::CdsPost(std::string_view path, const Json& body) {
  LUNAL_ASSIGN_OR_RETURN(Json answer, Call(Json{{"op", "cds"}, {"path", path}, {"body", body}}));
  if (!answer.contains("answer")) {
    return Malformed("node.device.bad_response", "a cds answer without \"answer\"");
  }
  return std::move(answer["answer"]);
}

Result<attest::Evidence> DeviceAttester::Attest(
    std::span<const std::uint8_t, attest::kReportDataSize> report_data) {
  LUNAL_ASSIGN_OR_RETURN(Json answer,
                         Call(Json{{"op", "quote"}, {"report_data", HexEncode(report_data)}}));
  if (!answer.contains("evidence")) {
    return Malformed("node.device.bad_response", "a quote answer without evidence");
  }
  return EvidenceFromEnvelope(answer["evidence"]);
}

Status DeviceAttester::ExtendRtmr(int index, ByteSpan digest, ByteSpan event) {
  // Only RTMR3 is the instance's (device.h); the device recomputes the digest from the event, so
  // a digest that is not SHA-384(event) is our caller's bug, refused before it is sent.
  if (index != 3) {
    return InvalidArgument("node.device.bad_rtmr", "the instance extends RTMR3 only, not {}",
                           index);
  }
  const auto expected = crypto::Sha384(event);
  if (digest.size() != expected.size() ||
      !std::equal(digest.begin(), digest.end(), expected.begin())) {
    return InvalidArgument("node.device.bad_digest", "the digest is not SHA-384 of the event");
  }
  return Call(Json{{"op", "extend"}, {"rtmr", index}, {"event", Base64Encode(event)}}).status();
}

Status DeviceAttester::ReportReady(const Json& ready) {
  if (!ready.is_object()) return InvalidArgument("node.device.bad_report", "ready: not an object");
  Json request = ready;
  request["op"] = "ready";
  return Call(request).status();
}

Status DeviceAttester::ReportFailed(std::string_view reason, std::string_view message) {
  return Call(Json{{"op", "failed"}, {"reason", reason}, {"message", message}}).status();
}

}  // namespace lunal::node
