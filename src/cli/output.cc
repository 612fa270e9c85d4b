#include "lunal/cli/output.h"

#include <fmt/format.h>

namespace lunal::cli {

ExitCode ExitCodeFor(Code code) {
  switch (code) {
    case Code::kOk:
      return kExitOk;
    case Code::kVerificationFailed:
    case Code::kPolicyViolation:
    case Code::kConflict:
      return kExitFailed;
    case Code::kInvalidArgument:
    case Code::kMalformed:
    case Code::kUnsupported:
    case Code::kResourceExhausted:
      return kExitUsage;
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
      return kExitUnavailable;
    case Code::kUnauthenticated:
    case Code::kPermissionDenied:
      return kExitDenied;
    case Code::kNotFound:
      return kExitNotFound;
    case Code::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

Json ErrorJson(const Status& status) {
  return Json{{"error",
               {{"code", CodeName(status.code())},
                {"reason", status.reason()},
                {"message", status.message()}}}};
}

int ReportError(const Status& status, bool json, std::FILE* human_out, std::FILE* json_out) {
  if (json) {
    PrintJson(ErrorJson(status), json_out);
  } else {
    fmt::print(human_out, "error: {} [{}]\n", status.message(), status.reason());
  }
  return ExitCodeFor(status.code());
}

void PrintJson(const Json& value, std::FILE* out) {
  fmt::print(out, "{}\n", value.dump(2, ' ', false, Json::error_handler_t::replace));
}

}  // namespace lunal::cli
