# Shared helpers for the guest-images build scripts. Sourced, not executed.
#
# Conventions:
#   - every output lives under $MINIVMM_IMAGES (default ~/.cache/minivmm/images), never in
#     the repository;
#   - a build step records a hash of its inputs (files from the repo, Debian package
#     versions, parameters) in a stamp file and is skipped while that hash is unchanged;
#   - Debian packages are the only inputs fetched from outside, through apt-get.

set -euo pipefail

GI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034  # used by the scripts that source this file
IMAGES=${MINIVMM_IMAGES:-$HOME/.cache/minivmm/images}
GI_NAME=${GI_NAME:-$(basename "$0")}
GI_FORCE=${GI_FORCE:-0}

log() { printf '%s: %s\n' "$GI_NAME" "$*" >&2; }
die() { printf '%s: error: %s\n' "$GI_NAME" "$*" >&2; exit 1; }

# Parse the options every script accepts.
gi_parse_args() {
    while [ $# -gt 0 ]; do
        case "$1" in
            -f|--force) GI_FORCE=1 ;;
            -h|--help)
                sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
                exit 0 ;;
            *) die "unknown argument: $1 (try --help)" ;;
        esac
        shift
    done
}

# Run a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run '$*' (no sudo available); install the packages by hand"
    fi
}

pkg_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

# ensure_pkgs PKG...: install the Debian packages that are missing. Runs `apt-get update`
# first, and only when something is missing.
ensure_pkgs() {
    local missing=() p
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
}

# pkg_versions PKG...: "name=version" lines, for the input hash.
pkg_versions() {
    local p
    for p in "$@"; do
        printf '%s=%s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo none)"
    done
}

# inputs_hash: hash of everything on stdin (file contents, versions, parameters).
inputs_hash() { sha256sum | cut -d' ' -f1; }

# stamp_ok STAMPFILE HASH OUTPUT...: true when the stamp holds HASH and every output exists.
stamp_ok() {
    local stamp=$1 hash=$2 f
    shift 2
    [ "$GI_FORCE" = 1 ] && return 1
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] || return 1
    for f in "$@"; do [ -e "$f" ] || return 1; done
    return 0
}

stamp_write() { printf '%s\n' "$2" >"$1.tmp" && mv -f "$1.tmp" "$1"; }

# The busybox-static binary: the static one, never the dynamically linked `busybox` package.
busybox_static_path() {
    local p
    p=$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n1)
    [ -n "$p" ] && [ -x "$p" ] || die "busybox-static installed but no /bin/busybox found"
    if command -v file >/dev/null 2>&1 && ! file -L "$p" | grep -q 'statically linked'; then
        die "$p is not statically linked (is the dynamic 'busybox' package shadowing it?)"
    fi
    printf '%s\n' "$p"
}

# Human-readable elapsed time since $1 (seconds since the epoch).
elapsed() { local s=$(( $(date +%s) - $1 )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# stage_busybox_root DIR: a minimal root in DIR: busybox-static, its applet links, the
# directories init needs and /init (guest-images/init), with /sbin/init linking to it.
stage_busybox_root() {
    local dir=$1 bb applet
    bb=$(busybox_static_path)
    rm -rf "$dir"
    mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,mnt,run,root,etc}
    install -m 0755 "$bb" "$dir/bin/busybox"
    "$bb" --list-full | while read -r applet; do
        [ -e "$dir/$applet" ] || [ -L "$dir/$applet" ] || ln -s /bin/busybox "$dir/$applet"
    done
    install -m 0755 "$GI_DIR/init" "$dir/init"
    ln -sf ../init "$dir/sbin/init"
    chmod 1777 "$dir/tmp"
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
    printf 'root:x:0:\n' >"$dir/etc/group"
    printf 'minivmm\n' >"$dir/etc/hostname"
}

# make_cpio_gz DIR OUT: a reproducible newc cpio.gz of DIR (owner root, fixed mtimes).
make_cpio_gz() {
    local dir=$1 out=$2
    find "$dir" -exec touch -h -d @0 {} +
    (cd "$dir" && find . -mindepth 1 | LC_ALL=C sort \
        | cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9 -n >"$out.tmp"
    mv -f "$out.tmp" "$out"
}
