// Where the guest-images/ outputs are, and whether this host can boot Linux fully (VT-x or
// AMD-V; inside tools/kvm-in-qemu the emulated CPU has AMD SVM).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "kvm_available.hpp"

namespace minivmm::test {

inline std::filesystem::path images_dir() {
    if (const char* dir = std::getenv("MINIVMM_IMAGES")) return dir;
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home ? home : "/root") / ".cache/minivmm/images";
}

// Whether `text` (a console log, stderr) contains `part`.
inline bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// The whole content of a (small) file; empty if it cannot be read.
inline std::string file_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// minivmm running the minimal Linux with the initramfs's root shell on the console, no disk,
// and the management API on `socket` (for the LinuxGuest* tests that drive it from outside).
inline std::vector<std::string> linux_shell_with_api(const std::string& socket) {
    return {MINIVMM_BINARY, "--kernel", (images_dir() / "kernel/bzImage").string(),
            "--initrd", (images_dir() / "initramfs/initramfs.cpio.gz").string(),
            "--api-socket", socket, "--timeout", "600", "--cmdline",
            "console=ttyS0 minivmm.action=shell minivmm.disk=none"};
}

inline bool host_has_hardware_virtualisation() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line))
        if (line.rfind("flags", 0) == 0)
            return line.find(" vmx") != std::string::npos || line.find(" svm") != std::string::npos;
    return false;
}

// Why the minimal Linux cannot be booted to init here (nothing when it can): no VT-x/AMD-V
// (`where` says where the suite runs instead), or an image of guest-images/ is missing.
inline std::optional<std::string> full_linux_unavailable(
    const std::string& where = "on this host tools/test runs this suite inside tools/kvm-in-qemu") {
    if (!host_has_hardware_virtualisation())
        return "needs VT-x/AMD-V to boot Linux to init; " + where;
    for (const char* f : {"kernel/bzImage", "kernel/vmlinux", "initramfs/initramfs.cpio.gz",
                          "disk/rootfs.ext4"})
        if (!std::filesystem::exists(images_dir() / f))
            return "needs " + (images_dir() / f).string() + " (guest-images/ builds it)";
    return std::nullopt;
}

} // namespace minivmm::test

// Skips the test, saying why, unless /dev/kvm works and the minimal Linux can boot to init.
#define REQUIRE_FULL_LINUX()                                                                       \
    do {                                                                                           \
        REQUIRE_KVM();                                                                             \
        if (auto why_ = minivmm::test::full_linux_unavailable()) GTEST_SKIP() << *why_;            \
    } while (0)
