// Result<T>: a value or an Error naming the failed step. Used across module boundaries instead
// of exceptions, so pod/ decides how a failure is shown and which exit code it maps to.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace ghostpod {

// What class of failure this is; pod/ maps each to an exit code (see ghostpod(1)).
enum class ErrorCode {
    runtime = 1,   // I/O, system call, resource failures
    usage = 2,     // bad command line or bad input from the user
    unlock = 3,    // wrong passphrase / recovery key, or a tampered / truncated / foreign vault
    network = 4,   // Infisical or other network failure
    session = 5,   // session state: none running, already running
    expiring = 6,  // certs: a certificate expires within the warning window or has expired
    conflict = 7,  // save: the vault was changed elsewhere since the session unlocked it
    untrusted = 8, // a file found by the upward search (a repository's) that the user has not allowed
};
inline constexpr ErrorCode kLastErrorCode = ErrorCode::untrusted;  // keep it the last one

struct Error {
    ErrorCode code = ErrorCode::runtime;
    std::string what;  // what failed, e.g. "write /home/u/.ghostpod/vault.tmp"
    std::string why;   // why; empty means strerror(errnum)
    int errnum = 0;
    std::string hint;  // what to do, optional

    // "what: why" with errno rendered as "Operation not permitted (EPERM)".
    std::string describe() const;
};

// An Error built from the current errno for a failed system call.
Error sys_error(std::string what, int errnum = errno);
Error make_error(ErrorCode code, std::string what, std::string why, std::string hint = {});

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    const T& value() const& { return std::get<0>(v_); }
    T& operator*() & { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const Error& error() const& { return error_; }
    Error&& error() && { return std::move(error_); }

private:
    Error error_;
    bool failed_ = false;
};

using Status = Result<void>;

}  // namespace ghostpod

// Propagates a failed Result from the enclosing function.
#define GP_TRY(expr)                                   \
    do {                                               \
        auto gp_try_result_ = (expr);                  \
        if (!gp_try_result_) return std::move(gp_try_result_).error(); \
    } while (0)
