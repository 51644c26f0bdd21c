#include "base/file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace minivmm {

Result<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_size) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return sys_error(ErrorCode::Input, fmt::format("Cannot open {}", path));
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) return sys_error(ErrorCode::Input, fmt::format("stat {}", path));
    if (!S_ISREG(st.st_mode))
        return Error(ErrorCode::Input, fmt::format("{} is not a regular file", path));
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size == 0) return Error(ErrorCode::Input, fmt::format("{} is empty", path));
    if (size > max_size)
        return Error(ErrorCode::Input, fmt::format("{} is larger than {} MiB", path, max_size >> 20));
    std::vector<uint8_t> data(size);
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return sys_error(ErrorCode::Input, fmt::format("Cannot read {}", path));
        if (n == 0) return Error(ErrorCode::Input, fmt::format("{} shrank while being read", path));
        done += static_cast<size_t>(n);
    }
    return data;
}

} // namespace minivmm
