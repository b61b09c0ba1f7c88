// Status and Result<T>: how every ferrograph function reports failure.
//
// A Status is a cheap value. OK carries no allocation; an error carries a code
// and a message, built from named factories (Status::NotFound(...)). Context is
// added as an error travels outwards, outermost first:
//   "indexing crate regex: parsing src/lib.rs:120: unexpected token".
// No exception crosses a module boundary: adapters around throwing libraries
// catch and convert to Status.
//
// Result<T> holds either a value or an error Status. Accessing the value of an
// error Result is a programming error (checked by assert in debug builds).
//
// Thread safety: Status and Result are values; distinct objects may be used
// from distinct threads freely, const access to one object is safe.
#ifndef FERROGRAPH_STATUS_H_
#define FERROGRAPH_STATUS_H_

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ferrograph {

enum class StatusCode {
  kOk = 0,
  kNotFound,
  kInvalidArgument,  // bad input from the user or a file
  kCorruption,       // stored data is damaged or not ours
  kIOError,          // the operating system refused
  kBusy,             // another process holds a lock (a database being written); try again
  kUnsupported,      // e.g. a database written by a newer ferrograph
  kAmbiguous,        // a name matches several things
  kInternal,
};

class Status {
 public:
  Status() = default;  // OK

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(StatusCode::kNotFound, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(StatusCode::kInvalidArgument, msg);
  }
  static Status Corruption(std::string_view msg) { return Status(StatusCode::kCorruption, msg); }
  static Status IOError(std::string_view msg) { return Status(StatusCode::kIOError, msg); }
  static Status Busy(std::string_view msg) { return Status(StatusCode::kBusy, msg); }
  static Status Unsupported(std::string_view msg) { return Status(StatusCode::kUnsupported, msg); }
  static Status Ambiguous(std::string_view msg) { return Status(StatusCode::kAmbiguous, msg); }
  static Status Internal(std::string_view msg) { return Status(StatusCode::kInternal, msg); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  // The message with its context chain; empty for OK.
  const std::string& message() const;
  // "NotFound: indexing crate x: ..." or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "context: message". OK stays OK.
  Status WithContext(std::string_view context) const;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  Status(StatusCode code, std::string_view msg)
      : state_(std::make_shared<const State>(State{code, std::string(msg)})) {}

  std::shared_ptr<const State> state_;  // null means OK
};

const char* StatusCodeName(StatusCode code);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok() && "a Result built from a Status must hold an error");
    if (status_.ok()) status_ = Status::Internal("Result built from an OK status");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  Result WithContext(std::string_view context) && {
    if (ok()) return std::move(*this);
    return Result(status_.WithContext(context));
  }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace ferrograph

// Returns early from the enclosing function with the error of `expr`.
#define FG_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::ferrograph::Status fg_status_ = (expr); \
    if (!fg_status_.ok()) return fg_status_;  \
  } while (0)

#define FG_CONCAT_INNER_(a, b) a##b
#define FG_CONCAT_(a, b) FG_CONCAT_INNER_(a, b)

// `FG_ASSIGN_OR_RETURN(auto x, Compute());` declares x from a Result or
// returns its error.
#define FG_ASSIGN_OR_RETURN(lhs, expr) \
  FG_ASSIGN_OR_RETURN_IMPL_(FG_CONCAT_(fg_result_, __LINE__), lhs, expr)
#define FG_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#endif  // FERROGRAPH_STATUS_H_
