#include "lunal/common/status.h"

#include <cstdio>
#include <cstdlib>
#include <ostream>

#include "lunal/common/result.h"

namespace lunal {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kMalformed:
      return "malformed";
    case Code::kUnsupported:
      return "unsupported";
    case Code::kVerificationFailed:
      return "verification_failed";
    case Code::kPolicyViolation:
      return "policy_violation";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kNotFound:
      return "not_found";
    case Code::kPermissionDenied:
      return "permission_denied";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kConflict:
      return "conflict";
    case Code::kResourceExhausted:
      return "resource_exhausted";
    case Code::kDeadlineExceeded:
      return "deadline_exceeded";
    case Code::kInternal:
      return "internal";
  }
  return "unknown";
}

Status::Status(Code code, std::string reason, std::string message) {
  if (code == Code::kOk) return;  // an OK status carries nothing
  rep_ = std::make_unique<Rep>(Rep{code, std::move(reason), std::move(message)});
}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  return *this;
}

namespace {
const std::string& EmptyString() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}
}  // namespace

const std::string& Status::reason() const { return rep_ ? rep_->reason : EmptyString(); }
const std::string& Status::message() const { return rep_ ? rep_->message : EmptyString(); }

Status Status::WithContext(std::string_view context) const& {
  Status copy(*this);
  return std::move(copy).WithContext(context);
}

Status Status::WithContext(std::string_view context) && {
  if (rep_) rep_->message = fmt::format("{}: {}", context, rep_->message);
  return std::move(*this);
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return fmt::format("{} [{}]: {}", CodeName(rep_->code), rep_->reason, rep_->message);
}

bool operator==(const Status& a, const Status& b) {
  if (a.ok() || b.ok()) return a.ok() == b.ok();
  return a.rep_->code == b.rep_->code && a.rep_->reason == b.rep_->reason &&
         a.rep_->message == b.rep_->message;
}

std::ostream& operator<<(std::ostream& os, const Status& status) { return os << status.ToString(); }

namespace internal {
void ResultAccessFailure(const char* what, const Status* status) {
  std::fprintf(stderr, "lunal: fatal: %s%s%s\n", what, status ? ": " : "",
               status ? status->ToString().c_str() : "");
  std::abort();
}
}  // namespace internal

}  // namespace lunal
