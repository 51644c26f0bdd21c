// Result<T> and Error: errors as values, shaped like std::expected (see conventions.md for why
// we do not use <expected> yet: GCC 12 only has it in C++23 mode and clang 14 cannot use it).
#pragma once

#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace minivmm {

// What kind of failure; main() maps each kind to a documented process exit code.
enum class ErrorCode {
    Usage,       // bad command line
    Input,       // a file the user gave is missing, unreadable or malformed
    KvmUnusable, // /dev/kvm missing, no permission, wrong API, missing capability
    Host,        // any other host-side failure (mmap, thread, ioctl during set-up)
    Invalid,     // a value outside its allowed range (library-level validation)
};

class Error {
public:
    Error(ErrorCode code, std::string context, int err = 0)
        : code_(code), context_(std::move(context)), errno_(err) {}

    ErrorCode code() const { return code_; }
    int sys_errno() const { return errno_; }
    const std::string& context() const { return context_; }
    // "context: strerror(errno)" or just the context when there is no errno.
    std::string message() const;
    // Prefixes more context: "Failed to load kernel: <old message>".
    Error with_context(const std::string& outer) const;

private:
    ErrorCode code_;
    std::string context_;
    int errno_;
};

// Builds an Error from the current errno: sys_error(ErrorCode::Host, "mmap guest RAM").
Error sys_error(ErrorCode code, std::string context);

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    const Error& error() const { return std::get<1>(v_); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}

    bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return error_; }

private:
    Error error_{ErrorCode::Invalid, {}};
    bool ok_ = true;
};

// Propagates an error: MINIVMM_TRY(do_thing()); returns the error from the enclosing function.
#define MINIVMM_TRY(expr)                                                                          \
    do {                                                                                           \
        auto minivmm_try_result_ = (expr);                                                         \
        if (!minivmm_try_result_) return minivmm_try_result_.error();                              \
    } while (0)

} // namespace minivmm
