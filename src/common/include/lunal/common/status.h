// lunal::Status: the outcome of an operation that can fail.
//
// A Status is OK, or carries three things:
//   - a Code from a small fixed set (what kind of failure: callers branch on it, HTTP maps it);
//   - a stable dotted reason ("tdx.qe_auth_data.truncated") that tests, clients and policies
//     match on. Reasons are part of the interface: never reword one, add a new one;
//   - a human message with the values involved ("need 584 bytes at offset 48, have 120").
//
// OK is a null pointer, so returning and testing an OK Status costs nothing. Status is a value
// type: copyable, movable, not thread-safe to mutate concurrently (like std::string).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace lunal {

enum class Code : std::uint8_t {
  kOk = 0,
  kInvalidArgument,     // the caller's request or input is wrong (bad flag, bad config field)
  kMalformed,           // bytes or documents that do not parse (truncated quote, bad base64)
  kUnsupported,         // well-formed but a version, type or algorithm we do not handle
  kVerificationFailed,  // a signature, chain, CRL, binding or collateral check failed
  kPolicyViolation,     // verified, but the appraisal policy rejects it
  kUnavailable,         // a dependency could not be reached or has no data (retry may help)
  kNotFound,            // the named object does not exist (or is not visible to the caller)
  kPermissionDenied,    // authenticated, but not allowed
  kUnauthenticated,     // no or bad credentials
  kConflict,            // the object's state forbids it (already exists, rollback refused)
  kResourceExhausted,   // a size or rate limit was hit (request too large)
  kDeadlineExceeded,    // a timeout expired
  kInternal,            // our own bug or an invariant broken; never the input's fault
};

// "ok", "invalid_argument", "malformed", ...: the string used in JSON error bodies and logs.
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string reason, std::string message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  // Empty for OK.
  const std::string& reason() const;
  const std::string& message() const;

  // Prefixes the message with context ("reading quote.dat: "), keeping code and reason.
  Status WithContext(std::string_view context) const&;
  Status WithContext(std::string_view context) &&;

  // "malformed [tdx.header.truncated]: need 48 bytes at offset 0, have 12", or "ok".
  std::string ToString() const;

  // Silences [[nodiscard]] where ignoring an error is deliberate; say why at the call site.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b);

 private:
  struct Rep {
    Code code;
    std::string reason;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

// Writes ToString() (for test failure messages and debugging).
std::ostream& operator<<(std::ostream& os, const Status& status);

// Constructors for each failure kind. The format arguments are fmt-style:
//   return Malformed("tdx.header.truncated", "need {} bytes, have {}", need, have);
#define LUNAL_DEFINE_STATUS_FACTORY(Name, CodeValue)                                              \
  inline Status Name(std::string reason, std::string message) {                                   \
    return Status(Code::CodeValue, std::move(reason), std::move(message));                        \
  }                                                                                               \
  template <typename... Args>                                                                     \
  requires(sizeof...(Args) > 0) Status Name(std::string reason,                                   \
                                            fmt::format_string<Args...> format, Args&&... args) { \
    return Status(Code::CodeValue, std::move(reason),                                             \
                  fmt::format(format, std::forward<Args>(args)...));                              \
  }

LUNAL_DEFINE_STATUS_FACTORY(InvalidArgument, kInvalidArgument)
LUNAL_DEFINE_STATUS_FACTORY(Malformed, kMalformed)
LUNAL_DEFINE_STATUS_FACTORY(Unsupported, kUnsupported)
LUNAL_DEFINE_STATUS_FACTORY(VerificationFailed, kVerificationFailed)
LUNAL_DEFINE_STATUS_FACTORY(PolicyViolation, kPolicyViolation)
LUNAL_DEFINE_STATUS_FACTORY(Unavailable, kUnavailable)
LUNAL_DEFINE_STATUS_FACTORY(NotFound, kNotFound)
LUNAL_DEFINE_STATUS_FACTORY(PermissionDenied, kPermissionDenied)
LUNAL_DEFINE_STATUS_FACTORY(Unauthenticated, kUnauthenticated)
LUNAL_DEFINE_STATUS_FACTORY(Conflict, kConflict)
LUNAL_DEFINE_STATUS_FACTORY(ResourceExhausted, kResourceExhausted)
LUNAL_DEFINE_STATUS_FACTORY(DeadlineExceeded, kDeadlineExceeded)
LUNAL_DEFINE_STATUS_FACTORY(Internal, kInternal)

#undef LUNAL_DEFINE_STATUS_FACTORY

}  // namespace lunal

template <>
struct fmt::formatter<lunal::Status> : fmt::formatter<std::string> {
  auto format(const lunal::Status& status, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(status.ToString(), ctx);
  }
};
