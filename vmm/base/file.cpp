#include "base/file.hpp"

#include <cctype>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace minivmm {

namespace {
std::string capitalized(std::string_view what) {
    std::string s(what);
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
}
} // namespace

Result<OpenedFile> open_regular_file(const std::string& path, std::string_view what) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever; it is
    // cleared again once the file is known to be regular.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd.valid())
        return sys_error(ErrorCode::Input, fmt::format("Cannot open {} {}", what, path));
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) return sys_error(ErrorCode::Input, fmt::format("stat {}", path));
    if (!S_ISREG(st.st_mode))
        return Error(ErrorCode::Input,
                     fmt::format("{} {} is not a regular file", capitalized(what), path));
    if (::fcntl(fd.get(), F_SETFL, 0) < 0)
        return sys_error(ErrorCode::Input, fmt::format("fcntl {}", path));
    if (st.st_size == 0)
        return Error(ErrorCode::Input, fmt::format("{} {} is empty", capitalized(what), path));
    return OpenedFile{std::move(fd), static_cast<uint64_t>(st.st_size)};
}

Result<std::vector<uint8_t>> read_file(const std::string& path, std::string_view what,
                                       uint64_t max_size) {
    auto file = open_regular_file(path, what);
    if (!file) return file.error();
    if (file->size > max_size)
        return Error(ErrorCode::Input, fmt::format("{} {} is larger than {} MiB", capitalized(what),
                                                   path, max_size >> 20));
    std::vector<uint8_t> data(file->size);
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::read(file->fd.get(), data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return sys_error(ErrorCode::Input, fmt::format("Cannot read {} {}", what, path));
        if (n == 0) return Error(ErrorCode::Input, fmt::format("{} {} shrank while being read",
                                                               capitalized(what), path));
        done += static_cast<size_t>(n);
    }
    return data;
}

Result<void> write_all_at(int fd, const uint8_t* data, size_t size, uint64_t offset,
                          const std::string& path) {
    while (size > 0) {
        ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return sys_error(ErrorCode::Host, fmt::format("Failed to write {}", path));
        data += n;
        size -= static_cast<size_t>(n);
        offset += static_cast<uint64_t>(n);
    }
    return {};
}

} // namespace minivmm
