#pragma once
// Errors that depend on run-time data (files, user buffers) surface in two forms:
//  * every fallible operation has a `try_...` form returning `mote::Status` or
//    `mote::Expected<T>`; it never throws and works with -fno-exceptions;
//  * the plain form (e.g. `load_npz`) throws `mote::Error` and exists only when exceptions are
//    enabled.
// Configuration errors in network types are compile-time errors, never run-time ones.

#include <string>
#include <utility>
#include <variant>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define MOTE_HAS_EXCEPTIONS 1
#include <stdexcept>
#else
#define MOTE_HAS_EXCEPTIONS 0
#endif

namespace mote {

/// What kind of failure happened; the message says where and why.
enum class ErrorCode {
  io,              ///< a file could not be opened or read
  truncated,       ///< a file ended before a structure it announced
  corrupt,         ///< a file's bytes contradict its own format (bad magic, CRC, header)
  unsupported,     ///< valid input that mote does not handle (a dtype, a compression method)
  missing_tensor,  ///< a layer needs a tensor the source does not have
  extra_tensor,    ///< the source has a tensor no layer consumed
  shape_mismatch,  ///< a tensor or buffer has the wrong shape or size
  invalid_value,   ///< a value is outside what the operation accepts
};

/// Human-readable name of an ErrorCode, used as the message prefix.
inline const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::io: return "I/O error";
    case ErrorCode::truncated: return "truncated input";
    case ErrorCode::corrupt: return "corrupt input";
    case ErrorCode::unsupported: return "unsupported input";
    case ErrorCode::missing_tensor: return "missing tensor";
    case ErrorCode::extra_tensor: return "unexpected tensor";
    case ErrorCode::shape_mismatch: return "shape mismatch";
    case ErrorCode::invalid_value: return "invalid value";
  }
  return "error";
}

/// A failure description: a code and a message naming what, where and why.
struct ErrorInfo {
  ErrorCode code{};
  std::string message;

  /// "<code name>: <message>", the text shown to users.
  std::string describe() const { return std::string(to_string(code)) + ": " + message; }
};

/// Success, or an ErrorInfo. Cheap to return when successful (no allocation).
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorInfo error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit by design
  static Status ok() { return {}; }

  bool is_ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return !failed_; }
  const ErrorInfo& error() const noexcept { return error_; }
  /// Empty when successful.
  std::string message() const { return failed_ ? error_.describe() : std::string(); }

 private:
  ErrorInfo error_{};
  bool failed_ = false;
};

/// A value of type T, or an ErrorInfo.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}       // NOLINT
  Expected(ErrorInfo error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const ErrorInfo& error() const { return std::get<1>(state_); }
  Status status() const { return has_value() ? Status{} : Status{error()}; }

 private:
  std::variant<T, ErrorInfo> state_;
};

/// Builds an ErrorInfo; a shorthand used by every loader.
inline ErrorInfo make_error(ErrorCode code, std::string message) {
  return ErrorInfo{code, std::move(message)};
}

#if MOTE_HAS_EXCEPTIONS
/// Thrown by the non-`try_` forms of fallible operations.
class Error : public std::runtime_error {
 public:
  explicit Error(ErrorInfo info) : std::runtime_error(info.describe()), info_(std::move(info)) {}
  ErrorCode code() const noexcept { return info_.code; }
  const ErrorInfo& info() const noexcept { return info_; }

 private:
  ErrorInfo info_;
};

/// Throws mote::Error if `status` failed.
inline void throw_if_failed(const Status& status) {
  if (!status.is_ok()) throw Error(status.error());
}

/// Returns the value or throws mote::Error.
template <class T>
T value_or_throw(Expected<T>&& result) {
  if (!result.has_value()) throw Error(result.error());
  return std::move(result).value();
}
#endif

}  // namespace mote
