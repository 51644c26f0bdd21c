"""Helpers of tools/bench/run: timing a command, the host's kind, results.md's sections, and a
command run inside tools/kvm-in-qemu."""
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def timed(cmd, expect):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if r.returncode != expect:
        sys.exit(f"bench: {' '.join(cmd)} exited {r.returncode}, expected {expect}")
    return dt


def host_kind():
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return "unknown"
    if " vmx" in flags or " svm" in flags:
        return "hardware virtualisation"
    return "PVM (no vmx/svm: guest CPL 0 is emulated)"


def spread(xs):
    return f"{min(xs) * 1e3:.2f}-{max(xs) * 1e3:.2f}"


def write_section(name, lines):
    """Replaces section `name` of results.md (or appends it) with `lines`."""
    path = os.path.join(ROOT, "tools", "bench", "results.md")
    text = open(path).read() if os.path.exists(path) else "# minivmm benchmarks\n"
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = "\n".join([begin, *lines, end])
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)
    print("\n".join(lines))
    print(f"bench: wrote section {name} of {path}")


QEMU_FILES = ["/usr/bin/qemu-system-x86_64", "/usr/share/qemu/bios-microvm.bin",
              "/usr/share/qemu/qboot.rom", "/usr/share/qemu/linuxboot_dma.bin"]
NESTED = ("inside `tools/kvm-in-qemu` (QEMU TCG with nested SVM: the host has no usable "
          "/dev/kvm), so the absolute times are those of QEMU's emulator; only the ratios "
          "taken side by side mean something")


def in_kvm_in_qemu(command, files, out, timeout):
    """Runs one shell command line in one tools/kvm-in-qemu guest (under the shared lock), the
    files copied in, directory `out` shared read-write; returns the exit status. The first
    minivmm among the files is also the guest's holder VM (kvm-in-qemu --holder)."""
    kiq = ["flock", "/tmp/minivmm-kiq.lock", os.path.join(ROOT, "tools", "kvm-in-qemu"),
           "--timeout", str(timeout), "--no-lockup-stop", "--share", out,
           "--log", os.path.join(out, "kvm-in-qemu.log")]
    holder = [f for f in files if os.path.basename(f) == "minivmm"]
    if holder:
        kiq += ["--holder", holder[0]]
    for f in files:
        kiq += ["--file", f]
    return subprocess.run(kiq + ["--", command]).returncode
