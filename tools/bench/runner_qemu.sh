# Sourced by tools/bench/runner_bench and tools/bench/scaling: QEMU microvm booting the same
# kernel with the command runner's own init (guest-images/runner-init) and the job minivmm
# would give it, the host's root as the guest's root over virtio-9p.

# job_cpio OUT ARG...: QEMU's initramfs for the job ARG... with the host's root, what minivmm
# appends (runner/job.hpp, job_archive): /minivmm (0700), /minivmm/init (0700, the file $init
# names), /minivmm/job (0400).
job_cpio() {
    local stage
    stage=$(mktemp -d)
    mkdir -m 0700 "$stage/minivmm"
    install -m 0700 "$init" "$stage/minivmm/init"
    {
        printf 'minivmm-job 1\0root=minivmm-root\0'
        for a in "${@:2}"; do printf 'arg=%s\0' "$a"; done
        printf 'env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\0'
        printf 'env=HOME=/root\0env=TERM=dumb\0cwd=/\0'
    } >"$stage/minivmm/job"
    chmod 0400 "$stage/minivmm/job"
    (cd "$stage" && printf 'minivmm\nminivmm/init\nminivmm/job\n' \
        | cpio -o -H newc -R 0:0 --quiet) >"$1"
    rm -rf "$stage"
}

# qemu_runner_defs: sh lines for the driver that the kvm-in-qemu guest's busybox sh runs; they
# use $K (the kernel) and $O (the output directory) when expanded there. QM: the machine
# without -smp and -m; QAPP: the kernel's command line (the one minivmm gives it with `--`,
# kernel log discarded); Q9P: the root share; QCON: hvc0 and hvc1 on the files $O/qemu.out and
# $O/qemu.err (single-port consoles: with one multiport device they appear only after the
# control queue's messages, after the init has looked for them). The init's status write
# (port 0x510) is QEMU's fw_cfg there, so a QEMU job ends with `poweroff -f`.
qemu_runner_defs() {
    cat <<'DEFS'
QM="-M microvm,x-option-roms=off -enable-kvm -cpu host -nodefaults -no-user-config -no-reboot -display none -monitor none -kernel $K"
QAPP="console=ttyS0 panic=-1 rdinit=/minivmm/init quiet"
Q9P="-fsdev local,id=root,path=/,security_model=none,readonly=on -device virtio-9p-device,fsdev=root,mount_tag=minivmm-root"
QCON="-device virtio-serial-device,id=s0,max_ports=1 -chardev file,id=o,path=$O/qemu.out -device virtconsole,bus=s0.0,chardev=o -device virtio-serial-device,id=s1,max_ports=1 -chardev file,id=e,path=$O/qemu.err -device virtconsole,bus=s1.0,chardev=e"
DEFS
}
