// lunal::Result<T>: a value of type T, or the Status saying why there is none.
//
// The member names follow std::expected (has_value, value, error, value_or, operator*, ->), so a
// later move to C++23 can make Result an alias. std::expected itself needs -std=c++2b on g++ 12.
//
//   Result<QuoteView> ParseQuote(std::span<const uint8_t> bytes);
//   LUNAL_ASSIGN_OR_RETURN(auto quote, ParseQuote(bytes));
//   LUNAL_RETURN_IF_ERROR(CheckSignature(quote));
//
// value() on an error, or error() on a value, is a bug in the caller and aborts (it never throws).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "lunal/common/status.h"

namespace lunal {

namespace internal {
[[noreturn]] void ResultAccessFailure(const char* what, const Status* status);
}  // namespace internal

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>, "use Status, not Result<Status>");
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported; use a pointer");

 public:
  using value_type = T;
  using error_type = Status;

  // A value. Implicit, so `return value;` works in a function returning Result<T>.
  template <typename U = T>
  requires std::is_constructible_v<T, U&&> &&(!std::is_same_v<std::remove_cvref_t<U>, Result>)&&(
      !std::is_same_v<std::remove_cvref_t<U>, Status>)Result(U&& value)
      : data_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT

  // An error. Implicit, so `return Malformed(...);` works. An OK status here is a bug: it is
  // turned into an internal error rather than a Result that has neither value nor error.
  Result(Status status) : data_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    if (std::get<1>(data_).ok()) {
      data_.template emplace<1>(
          Internal("internal.ok_status_as_error", "an OK Status was returned as an error"));
    }
  }

  bool has_value() const { return data_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  bool ok() const { return has_value(); }

  T& value() & {
    Check();
    return std::get<0>(data_);
  }
  const T& value() const& {
    Check();
    return std::get<0>(data_);
  }
  T&& value() && {
    Check();
    return std::get<0>(std::move(data_));
  }

  const Status& error() const& {
    if (has_value()) internal::ResultAccessFailure("error() on a Result holding a value", nullptr);
    return std::get<1>(data_);
  }
  Status&& error() && {
    if (has_value()) internal::ResultAccessFailure("error() on a Result holding a value", nullptr);
    return std::get<1>(std::move(data_));
  }

  // The Status: OK when there is a value.
  Status status() const { return has_value() ? Status() : std::get<1>(data_); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(data_) : static_cast<T>(std::forward<U>(fallback));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void Check() const {
    if (!has_value()) {
      internal::ResultAccessFailure("value() on a Result holding an error", &std::get<1>(data_));
    }
  }

  std::variant<T, Status> data_;
};

namespace internal {
inline const Status& AsStatus(const Status& s) { return s; }
inline Status AsStatus(Status&& s) { return std::move(s); }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace lunal

#define LUNAL_INTERNAL_CONCAT2(a, b) a##b
#define LUNAL_INTERNAL_CONCAT(a, b) LUNAL_INTERNAL_CONCAT2(a, b)

// Returns the error of `expr` (a Status or a Result<T>) from the enclosing function.
#define LUNAL_RETURN_IF_ERROR(expr)                                    \
  do {                                                                 \
    ::lunal::Status lunal_status_ = ::lunal::internal::AsStatus(expr); \
    if (!lunal_status_.ok()) return lunal_status_;                     \
  } while (false)

// Evaluates `rexpr` (a Result<T>); on error returns it, else moves the value into `lhs`, which
// may be a declaration: LUNAL_ASSIGN_OR_RETURN(auto view, ParseQuote(bytes));
#define LUNAL_ASSIGN_OR_RETURN(lhs, rexpr) \
  LUNAL_INTERNAL_ASSIGN_OR_RETURN(LUNAL_INTERNAL_CONCAT(lunal_result_, __LINE__), lhs, rexpr)

#define LUNAL_INTERNAL_ASSIGN_OR_RETURN(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                    \
  if (!tmp.has_value()) return std::move(tmp).error();   \
  lhs = std::move(tmp).value()
