// Status and Result<T>: how every fallible v4rt function reports failure.
// A Status is a code plus a message that names the thing, the fault and the
// next step. Result<T> holds either a T or a non-ok Status (shaped like
// std::expected). Both are [[nodiscard]]. Thread-safe as values.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/check.h"

namespace v4rt {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,
    kNotFound,
    kCorruption,
    kIoError,
    kUnsupported,
    kCancelled,
    kResourceExhausted,
    kInternal,
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IoError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  static Status Unsupported(std::string msg) { return Status(Code::kUnsupported, std::move(msg)); }
  static Status Cancelled(std::string msg) { return Status(Code::kCancelled, std::move(msg)); }
  static Status ResourceExhausted(std::string msg) { return Status(Code::kResourceExhausted, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool is_invalid_argument() const { return code_ == Code::kInvalidArgument; }
  bool is_not_found() const { return code_ == Code::kNotFound; }
  bool is_corruption() const { return code_ == Code::kCorruption; }
  bool is_io_error() const { return code_ == Code::kIoError; }
  bool is_unsupported() const { return code_ == Code::kUnsupported; }
  bool is_cancelled() const { return code_ == Code::kCancelled; }
  bool is_resource_exhausted() const { return code_ == Code::kResourceExhausted; }

  // "corruption: <message>"
  std::string to_string() const;
  // Returns a copy whose message is "<context>: <message>" (same code).
  Status with_context(std::string_view context) const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view code_name(Status::Code code);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    check(!status_.ok(), "Result constructed from an ok Status without a value");
  }

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Status& status() const { return status_; }

  // The failure message is built only on failure: `*r` on the hot path costs one branch.
  T& value() & {
    if (!ok()) [[unlikely]] value_on_error();
    return *value_;
  }
  const T& value() const& {
    if (!ok()) [[unlikely]] value_on_error();
    return *value_;
  }
  T&& value() && {
    if (!ok()) [[unlikely]] value_on_error();
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  [[noreturn]] void value_on_error(const SourceLocation& loc = SourceLocation::current()) const {
    check_failed("Result::value() on error: " + status_.to_string(), loc);
  }
  std::optional<T> value_;
  Status status_;
};

}  // namespace v4rt

// Propagation helper. The style guide avoids macros, but early-return on error
// cannot be written as a function; this is the only one shared across folders.
#define V4RT_RETURN_IF_ERROR(expr)            \
  do {                                        \
    ::v4rt::Status v4rt_status_ = (expr);     \
    if (!v4rt_status_.ok()) return v4rt_status_; \
  } while (0)
