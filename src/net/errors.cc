#include "lunal/net/errors.h"

#include <array>
#include <cstddef>
#include <optional>
#include <string>

namespace lunal::net {
namespace {

constexpr std::size_t kMaxQuotedBody = 200;    // of a non-JSON error body, in the message
constexpr std::size_t kMaxReasonLength = 200;  // a longer "reason" is not one of ours

constexpr std::array kAllErrorCodes = {
    Code::kInvalidArgument, Code::kMalformed,   Code::kUnsupported,       Code::kVerificationFailed,
    Code::kPolicyViolation, Code::kUnavailable, Code::kNotFound,          Code::kPermissionDenied,
    Code::kUnauthenticated, Code::kConflict,    Code::kResourceExhausted, Code::kDeadlineExceeded,
    Code::kInternal,
};

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::optional<Code> CodeFromName(std::string_view name) {
  for (Code code : kAllErrorCodes) {
    if (CodeName(code) == name) return code;
  }
  return std::nullopt;
}

// Keeps a quoted body printable and short: it ends up in logs and terminals.
std::string QuoteBody(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, kMaxQuotedBody)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  if (body.size() > kMaxQuotedBody) out += "...";
  return out;
}

}  // namespace

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
    case Code::kMalformed:
      return 400;
    case Code::kUnsupported:
    case Code::kVerificationFailed:
      return 422;
    case Code::kPolicyViolation:
    case Code::kPermissionDenied:
      return 403;
    case Code::kUnauthenticated:
      return 401;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
      return 409;
    case Code::kResourceExhausted:
      return 413;
    case Code::kDeadlineExceeded:
      return 504;
    case Code::kUnavailable:
      return 503;
    case Code::kOk:
    case Code::kInternal:
      return 500;
  }
  return 500;
}

int HttpStatusFor(const Status& status) {
  const std::string& reason = status.reason();
  switch (status.code()) {
    case Code::kResourceExhausted:
      if (EndsWith(reason, ".rate_limited")) return 429;
      if (reason == "http.header_too_large") return 431;
      break;
    case Code::kDeadlineExceeded:
      if (reason == "http.request_timeout") return 408;
      break;
    case Code::kInvalidArgument:
      if (reason == "http.method_not_allowed") return 405;
      break;
    default:
      break;
  }
  return HttpStatusFor(status.code());
}

HttpResponse ErrorResponse(const Status& status) {
  nlohmann::json error;
  int http_status = HttpStatusFor(status);
  if (status.ok() || status.code() == Code::kInternal) {
    error = {
        {"code", CodeName(Code::kInternal)}, {"reason", "internal"}, {"message", "internal error"}};
    http_status = 500;
  } else {
    error = {{"code", CodeName(status.code())},
             {"reason", status.reason()},
             {"message", status.message()}};
  }
  HttpResponse response = HttpResponse::Json(http_status, {{"error", std::move(error)}});
  if (http_status == 401) response.AddHeader("WWW-Authenticate", "Bearer");
  return response;
}

Code CodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 400:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
    case 410:
      return Code::kNotFound;
    case 408:
    case 504:
      return Code::kDeadlineExceeded;
    case 409:
    case 412:
      return Code::kConflict;
    case 413:
    case 414:
    case 429:
    case 431:
      return Code::kResourceExhausted;
    case 415:
    case 501:
    case 505:
      return Code::kUnsupported;
    case 422:
      return Code::kVerificationFailed;
    case 502:
    case 503:
      return Code::kUnavailable;
    default:
      break;
  }
  if (http_status >= 400 && http_status < 500) return Code::kInvalidArgument;
  return Code::kInternal;
}

Status StatusFromErrorBody(int http_status, std::string_view body) {
  if (http_status >= 200 && http_status < 300) {
    return InvalidArgument("net.not_an_error", "HTTP {} is not an error", http_status);
  }
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded() && parsed.is_object()) {
    auto error_it = parsed.find("error");
    if (error_it != parsed.end() && error_it->is_object()) {
      const nlohmann::json& error = *error_it;
      auto code_it = error.find("code");
      auto reason_it = error.find("reason");
      auto message_it = error.find("message");
      if (reason_it != error.end() && reason_it->is_string() &&
          !reason_it->get_ref<const std::string&>().empty() &&
          reason_it->get_ref<const std::string&>().size() <= kMaxReasonLength) {
        std::optional<Code> code;
        if (code_it != error.end() && code_it->is_string()) {
          code = CodeFromName(code_it->get_ref<const std::string&>());
        }
        std::string message = (message_it != error.end() && message_it->is_string())
                                  ? message_it->get<std::string>()
                                  : std::string();
        return Status(code.value_or(CodeForHttpStatus(http_status)), reason_it->get<std::string>(),
                      std::move(message));
      }
    }
  }
  return Status(CodeForHttpStatus(http_status), "net.http_error",
                fmt::format("HTTP {}: {}", http_status, QuoteBody(body)));
}

}  // namespace lunal::net
