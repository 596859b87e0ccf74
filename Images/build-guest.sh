#!/usr/bin/env bash
# Build everything the nvme-vfu VM tests need, from Debian packages, into a cache
# directory outside the repository:
#
#   $CACHE/sid-root/          Debian sid root (debootstrap). Used two ways: as a chroot
#                             to run QEMU (Debian 12's QEMU 7.2 has no vfio-user-pci),
#                             and as the source of the guest's kernel, modules and tools.
#   $CACHE/guest/vmlinuz      guest kernel (copied from the root's /boot)
#   $CACHE/guest/initrd.img   guest initramfs: compressed cpio (newc) with the nvme
#                             module closure, test tools and an /init (see GUEST_INIT)
#   $CACHE/guest/guest.env    shell-sourceable facts (paths, versions) for test harnesses
#   $CACHE/stamps/            one stamp per step; a step is skipped when its outputs
#                             exist and its stamp matches the current inputs
#
# Usage: Images/build-guest.sh [--cache DIR] [--force]
#   --cache DIR   cache directory (default: $NVME_VFU_CACHE, else /var/cache/nvme-vfu)
#   --force       rebuild every step (including a fresh debootstrap)
# Environment:
#   NVME_VFU_CACHE   cache directory
#   NVME_VFU_MIRROR  Debian mirror to use (default: the one this host's apt uses)
#
# Needs root (debootstrap, chroot, mount namespaces). Boot the result with
# Images/run-guest.sh.
set -euo pipefail

log() { printf '[build-guest] %s\n' "$*" >&2; }
die() { printf '[build-guest] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# Inputs. Changing a package list invalidates the steps that depend on it.
# ---------------------------------------------------------------------------
SUITE=sid

# The VMM side: QEMU >= 10.1 for vfio-user-pci, and the guest kernel.
ROOT_PKGS=(qemu-system-x86 linux-image-amd64 kmod)

# Packages whose executables (everything they ship in */bin, */sbin) go into the guest,
# each with its ldd closure. The first group is what the tests call (gawk, sg3-utils,
# udevadm and getconf for the real blktests, see Tests/blktests/README.md); the second
# is already in a minbase root and gives tests the real GNU tools instead of busybox's
# (gzip for zgrep: blktests reads the kernel's config with it, and without it every
# test that asks for a kernel option is skipped).
GUEST_PKGS=(busybox-static fio nvme-cli util-linux mount e2fsprogs xfsprogs pciutils kmod
            bsdextrautils ncurses-bin bash gawk sg3-utils udev libc-bin
            coreutils grep sed findutils diffutils mawk gzip sudo expect)

# Executables of those packages left out: their library closure is large and the tests
# do not use them (xfs_scrub alone pulls in ~40 MB of ICU). util-linux's su needs PAM
# and its configuration, which the guest has not: busybox's su applet takes its place
# (root switching to a test user, as blktests' _run_user does, asks no password).
GUEST_EXCLUDE=(xfs_scrub xfs_scrub_all su)

# Packages whose data files (not docs) go into the guest: terminfo entries for tput,
# PCI names for lspci, and liburing for the real blktests' io_uring helpers (built on
# the host, so not in any guest executable's ldd closure).
# sudo's policy plugin (sudoers.so) and tcl's init.tcl (expect's interpreter will not
# start without it) are also data; shared objects among them get their ldd closure too.
GUEST_DATA_PKGS=(ncurses-base pci.ids liburing2 sudo libtcl8.6)

# Single files put into the guest (with their ldd closure): the PAM modules named by the
# guest's /etc/pam.d/sudo (see step 2b).
GUEST_FILES=(/usr/lib/x86_64-linux-gnu/security/pam_rootok.so
             /usr/lib/x86_64-linux-gnu/security/pam_permit.so
             /usr/lib/x86_64-linux-gnu/security/pam_deny.so)

# Kernel modules (with their dependency closure) put into the guest and loaded by /init.
# Optional ones may be built in or missing in a given kernel; nvme is required. configfs
# is loaded so /init can mount it (blktests' null_blk tests configure devices there).
GUEST_MODULES=(nvme nvme-core ext4 xfs crc32c configfs)
REQUIRED_MODULES=(nvme)
# Modules shipped but not loaded: the real blktests loads and unloads null_blk itself
# (block/039 and block/047 use it without asking whether it exists), and nvme-loop and
# nvmet for its passthru tests (nvme/033-037 put an NVMe-oF target over our device).
GUEST_SHIPPED_MODULES=(null_blk nvme-loop nvmet)

# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------
CACHE=${NVME_VFU_CACHE:-/var/cache/nvme-vfu}
FORCE=0
while [ $# -gt 0 ]; do
    case $1 in
        --cache) [ $# -ge 2 ] || die "--cache needs a directory"; CACHE=$2; shift 2 ;;
        --cache=*) CACHE=${1#--cache=}; shift ;;
        --force) FORCE=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (try --help)" ;;
    esac
done
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, mount namespaces)"
case $CACHE in /*) ;; *) CACHE=$(pwd)/$CACHE ;; esac
CACHE=${CACHE%/}

ROOT=$CACHE/sid-root
GUEST=$CACHE/guest
STAMPS=$CACHE/stamps
WORK=$CACHE/work
SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
T0=$(date +%s)

# Refuse to put binaries into a git checkout by accident (e.g. --cache .).
if git -C "$(dirname "$SCRIPT_PATH")" rev-parse --show-toplevel >/dev/null 2>&1; then
    repo_top=$(git -C "$(dirname "$SCRIPT_PATH")" rev-parse --show-toplevel)
    case $CACHE/ in "$repo_top"/*) die "cache dir $CACHE is inside the repository $repo_top" ;; esac
fi

mkdir -p "$CACHE" "$STAMPS" "$GUEST"
# Serialise concurrent builds (e.g. parallel test processes all calling this script).
exec 9>"$CACHE/.lock"
flock 9

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

# Host prerequisites: install what is missing, with one `apt-get update` first.
ensure_host_tools() {
    local -A pkg_of=([debootstrap]=debootstrap [cpio]=cpio [zstd]=zstd [gzip]=gzip
                     [wget]=wget [unshare]=util-linux [flock]=util-linux
                     [chroot]=coreutils [sha256sum]=coreutils [timeout]=coreutils)
    local missing=() c
    for c in "${!pkg_of[@]}"; do
        command -v "$c" >/dev/null 2>&1 || missing+=("${pkg_of[$c]}")
    done
    [ -r /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
    [ ${#missing[@]} -eq 0 ] && return 0
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    log "installing host prerequisites: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The Debian mirror this host's apt uses (first .../debian URI in its sources), so the
# sid root comes from the same place (and through the same proxy) as the host packages.
detect_mirror() {
    if [ -n "${NVME_VFU_MIRROR:-}" ]; then echo "${NVME_VFU_MIRROR%/}"; return; fi
    local f uri
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        case $f in
            *.sources) # deb822: "URIs: a b" lines (stanzas with "Enabled: no" are skipped)
                uris=$(awk 'BEGIN { RS = "" }
                            tolower($0) !~ /(^|\n)enabled:[ \t]*no/ {
                                n = split($0, l, "\n")
                                for (i = 1; i <= n; i++) if (tolower(l[i]) ~ /^uris:/) {
                                    sub(/^[^:]*:[ \t]*/, "", l[i]); print l[i] } }' "$f") ;;
            *) # one-line: deb [options] URI suite components
                uris=$(awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                                          print $i }' "$f") ;;
        esac
        for uri in $uris; do
            case $uri in http://*/debian|http://*/debian/|https://*/debian|https://*/debian/)
                echo "${uri%/}"; return ;;
            esac
        done
    done
    echo http://deb.debian.org/debian
}

# apt's proxy setting on this host, if any (debootstrap's wget and the root's apt need it).
detect_proxy() { local P=; eval "$(apt-config shell P Acquire::http::Proxy 2>/dev/null)"; echo "$P"; }

# Run a command chrooted into $ROOT with /dev, /proc and /sys mounted. The mounts are made
# in a private mount namespace (unshare -m): they are never visible on the host and vanish
# with the namespace when the command ends, however it ends (even SIGKILL), so there is
# nothing to unmount and no trap that could be skipped.
in_root() {
    unshare --mount --propagation private -- bash -c '
        set -e; r=$1; shift
        mount --rbind /dev "$r/dev"
        mount -t proc proc "$r/proc"
        mount -t sysfs sysfs "$r/sys"
        exec chroot "$r" "$@"' in_root "$ROOT" "$@"
}

# Refuse to delete a tree with something mounted below it (a leaked bind mount of /dev
# would take the host's device nodes with it).
safe_rm() {
    local d=$1
    [ -e "$d" ] || return 0
    if awk -v d="$(readlink -f "$d")" '$5 == d || index($5, d "/") == 1 {found=1} END {exit !found}' \
           /proc/self/mountinfo; then
        die "refusing to delete $d: something is mounted below it (see /proc/self/mountinfo)"
    fi
    rm -rf --one-file-system "$d"
}

stamp_ok() { [ "$FORCE" = 0 ] && [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp_write() { printf '%s\n' "$2" > "$STAMPS/$1.tmp" && mv "$STAMPS/$1.tmp" "$STAMPS/$1"; }
hash_of() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }

newest_kver() {
    local k
    k=$(ls "$ROOT/lib/modules" 2>/dev/null | sort -V | tail -n1)
    [ -n "$k" ] && [ -f "$ROOT/boot/vmlinuz-$k" ] || die "no kernel found in $ROOT"
    echo "$k"
}

# ---------------------------------------------------------------------------
# Step 1: the Debian sid root
# ---------------------------------------------------------------------------
ALL_ROOT_PKGS=$(printf '%s\n' "${ROOT_PKGS[@]}" "${GUEST_PKGS[@]}" "${GUEST_DATA_PKGS[@]}" | sort -u)
MIRROR=$(detect_mirror)
PROXY=$(detect_proxy)
# (The mirror is not part of it: the same packages from another mirror are the same root.)
ROOT_FP="suite=$SUITE packages=$(echo $ALL_ROOT_PKGS)"

root_outputs_ok() { [ -x "$ROOT/usr/bin/qemu-system-x86_64" ] && ls "$ROOT"/boot/vmlinuz-* >/dev/null 2>&1; }

configure_root_apt() {
    # sid's Release files carry a Valid-Until that an archive snapshot or a clock can pass.
    local conf=$ROOT/etc/apt/apt.conf.d/99nvme-vfu
    printf '%s\n' 'Acquire::Check-Valid-Until "false";' 'APT::Install-Recommends "false";' > "$conf"
    if [ -n "$PROXY" ]; then echo "Acquire::http::Proxy \"$PROXY\";" >> "$conf"; fi
}

step_root() {
    if stamp_ok root "$ROOT_FP" && root_outputs_ok; then
        log "step 1/3: sid root up to date ($ROOT)"
        return
    fi
    local t=$(date +%s)
    if [ "$FORCE" = 0 ] && root_outputs_ok && [ -f "$STAMPS/root" ]; then
        # The package list changed: add the new packages to the existing root rather than
        # debootstrapping again (removed packages stay; use --force for a clean root).
        log "step 1/3: package list changed; installing into the existing root"
        configure_root_apt
        in_root apt-get update -qq
        # shellcheck disable=SC2086
        in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $ALL_ROOT_PKGS
    else
        ensure_host_tools
        log "step 1/3: debootstrap $SUITE from $MIRROR (takes several minutes)"
        safe_rm "$ROOT.partial"
        [ "$FORCE" = 1 ] && safe_rm "$ROOT"
        [ -n "$PROXY" ] && export http_proxy=$PROXY
        # In its own mount namespace too: debootstrap mounts proc/sys in the target and
        # would leave them behind if interrupted.
        unshare --mount --propagation private -- \
            debootstrap --variant=minbase --components=main \
                --include="$(echo $ALL_ROOT_PKGS | tr ' ' ,)" \
                "$SUITE" "$ROOT.partial" "$MIRROR" > "$CACHE/debootstrap.log" 2>&1 \
            || { tail -n 30 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
        safe_rm "$ROOT"
        mv "$ROOT.partial" "$ROOT"
        configure_root_apt
        # If the kernel package's hook built an initramfs for this root (initramfs-tools
        # does, dracut in a chroot did not), drop it: nothing boots this root.
        rm -f "$ROOT"/boot/initrd.img-*
    fi
    # Downloaded .debs and the package indexes (60-140 MB) are not needed to run anything;
    # a later package-list change runs `apt-get update` first anyway.
    in_root apt-get clean
    rm -rf "$ROOT"/var/lib/apt/lists/*
    root_outputs_ok || die "the sid root lacks qemu-system-x86_64 or a kernel"
    stamp_write root "$ROOT_FP"
    log "step 1/3: sid root done in $(( $(date +%s) - t )) s ($(du -sh "$ROOT" | cut -f1))"
}

# ---------------------------------------------------------------------------
# Step 2: guest kernel and initramfs
# ---------------------------------------------------------------------------

# The guest's PID 1. /bin/sh in the guest is bash; busybox supplies only applets that
# no real package provides (mount, poweroff, hostname, ...).
read -r -d '' GUEST_INIT <<'EOF' || true
#!/bin/sh
# PID 1 of the nvme-vfu test guest (generated by Images/build-guest.sh).
# Mounts the pseudo file systems, loads the modules below, runs /test/run.sh if a test
# archive supplied one, prints its exit status between markers, and powers off.
# Kernel command line words of the form NAME=value arrive here as environment variables.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
export TERM=${TERM:-linux}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# devtmpfs has no /dev/fd; bash process substitution and many scripts want it.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
hostname nvmevfu-guest
for m in @MODULES@; do
    modprobe "$m" || echo "init: modprobe $m failed" >&2
done
mount -t configfs configfs /sys/kernel/config 2>/dev/null
echo "NVMEVFU-GUEST-UP kernel=$(uname -r)"
if [ -f /test/run.sh ]; then
    echo "NVMEVFU-TEST-BEGIN"
    (cd /test && exec bash /test/run.sh </dev/null)
    rc=$?
    echo "NVMEVFU-TEST-END rc=$rc"
elif [ -n "${NVMEVFU_EXPECT_TEST:-}" ]; then
    # run-guest.sh appended a test archive, but the kernel did not unpack it.
    echo "init: a test was expected but there is no /test/run.sh (see the kernel's initramfs messages)"
else
    echo "init: no /test/run.sh; shell on the console (exit it to power off)"
    setsid cttyhack bash -l || bash -l
fi
sync
poweroff -f
EOF

# Runs inside the sid root (chroot ... bash -s). Prints every path the guest needs, one a
# line, canonical (no symlinked directory in it), followed through symlink chains:
# package executables and their ldd closure, data files, and the module closure.
read -r -d '' COLLECT <<'EOF' || true
set -euo pipefail
emit() {   # print $1 canonicalised, and each link of its symlink chain
    local p=$1 d t n=0
    while [ $((n += 1)) -lt 40 ]; do
        d=$(realpath -e "$(dirname "$p")" 2>/dev/null) || return 0
        p=${d%/}/$(basename "$p")
        [ -e "$p" ] || [ -L "$p" ] || return 0
        echo "$p"
        [ -L "$p" ] || return 0
        t=$(readlink "$p")
        case $t in /*) p=$t ;; *) p=$d/$t ;; esac
    done
}
is_elf() { [ -f "$1" ] && [ "$(head -c4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }
# usrmerge's top-level links (/bin -> usr/bin, /lib64 -> usr/lib64, ...)
for e in /bin /sbin /lib /lib32 /lib64 /libx32; do [ -L "$e" ] && echo "$e"; done
elfs=()
for pkg in $PKGS; do
    while read -r f; do
        case $f in */bin/*|*/sbin/*) ;; *) continue ;; esac
        [ -d "$f" ] && continue
        case " $EXCLUDE " in *" ${f##*/} "*) continue ;; esac
        emit "$f"
        is_elf "$f" && elfs+=("$f")
    done < <(dpkg -L "$pkg")
done
for pkg in $DATA_PKGS; do
    while read -r f; do
        case $f in /usr/share/doc/*|/usr/share/man/*|/usr/share/lintian/*) continue ;; esac
        [ -d "$f" ] && continue
        emit "$f"
        is_elf "$f" && elfs+=("$f")
    done < <(dpkg -L "$pkg")
done
for f in $FILES; do
    [ -e "$f" ] || { echo "file $f: not in the root" >&2; exit 1; }
    emit "$f"
    is_elf "$f" && elfs+=("$f")
done
# Shared libraries, as the loader will look for them. ldd runs inside this root, so the
# closure is the sid one, not the host's.
for f in "${elfs[@]}"; do
    out=$(ldd "$f" 2>&1) || continue          # static binaries and the like
    if grep -q 'not found' <<<"$out"; then echo "ldd $f: $out" >&2; exit 1; fi
    awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$out"
done | sort -u | while read -r lib; do emit "$lib"; done
# glibc dlopen()s libgcc_s for pthread_cancel/thread exit (fio uses threads).
emit "$(ldconfig -p | awk '$1 == "libgcc_s.so.1" {print $NF; exit}')"
# Kernel modules: dependency closure per kmod, plus what depmod needs in the guest.
for m in $MODULES; do
    if ! out=$(modprobe -S "$KVER" --show-depends "$m" 2>&1); then
        case " $REQUIRED " in *" $m "*) echo "module $m: $out" >&2; exit 1 ;; esac
        echo "note: module $m not available ($out)" >&2; continue
    fi
    awk '$1 == "insmod" {print $2}' <<<"$out" | while read -r ko; do emit "$ko"; done
done
for f in modules.builtin modules.builtin.modinfo modules.order; do
    [ -e "/lib/modules/$KVER/$f" ] && emit "/lib/modules/$KVER/$f"
done
# The kernel's configuration: blktests skips every test that asks about an option when
# neither /proc/config.gz nor /boot/config-$(uname -r) exists.
[ -e "/boot/config-$KVER" ] && emit "/boot/config-$KVER"
exit 0
EOF

step_guest() {
    local kver fp
    kver=$(newest_kver)
    # Inputs: the root (its stamp) and this script (init, lists, packing all live here).
    fp="root=$(hash_of "$(cat "$STAMPS/root")") kver=$kver script=$(sha256sum < "$SCRIPT_PATH" | cut -c1-16)"
    if stamp_ok guest "$fp" && [ -s "$GUEST/vmlinuz" ] && [ -s "$GUEST/initrd.img" ]; then
        log "step 2/3: guest kernel and initramfs up to date ($GUEST)"
        return
    fi
    local t=$(date +%s) stage=$WORK/initramfs list=$WORK/initramfs.list
    ensure_host_tools
    log "step 2/3: guest kernel $kver and initramfs"
    safe_rm "$WORK"
    mkdir -p "$stage"

    # 2a. Files from the root, as a canonical path list, copied with tar (keeps symlinks).
    # (in_root, not a bare chroot: the collector's bash needs /dev/fd.)
    in_root env PKGS="${GUEST_PKGS[*]}" DATA_PKGS="${GUEST_DATA_PKGS[*]}" EXCLUDE="${GUEST_EXCLUDE[*]}" FILES="${GUEST_FILES[*]}" \
        MODULES="${GUEST_MODULES[*]} ${GUEST_SHIPPED_MODULES[*]}" REQUIRED="${REQUIRED_MODULES[*]}" KVER="$kver" \
        bash -s <<<"$COLLECT" | sort -u | sed 's|^/||' > "$list"
    tar -C "$ROOT" --no-recursion -cf - -T "$list" | tar -C "$stage" -xpf -
    log "  $(wc -l < "$list") files from the root, $(grep -c '\.ko' "$list") modules"

    # 2b. Layout, shell and busybox applets.
    mkdir -p "$stage"/{proc,sys,dev,tmp,run,root,etc,mnt,test}
    chmod 1777 "$stage/tmp"
    ln -sfn bash "$stage/usr/bin/sh"   # before the applets, so busybox's sh is not used
    local applet dir name
    while read -r applet; do
        name=${applet##*/}; dir=${applet%/*}
        case $dir in bin|usr/bin) dir=usr/bin ;; sbin|usr/sbin) dir=usr/sbin ;; *) continue ;; esac
        # A real tool of the same name (in either bin dir) wins over the applet.
        [ -e "$stage/usr/bin/$name" ] || [ -L "$stage/usr/bin/$name" ] \
            || [ -e "$stage/usr/sbin/$name" ] || [ -L "$stage/usr/sbin/$name" ] \
            || ln -s /usr/bin/busybox "$stage/$dir/$name"
    done < <(chroot "$stage" /usr/bin/busybox --list-full)
    # An ordinary user for tests of what unprivileged processes may do (blktests'
    # NORMAL_USER, cmd/009).
    printf 'root:x:0:0:root:/root:/bin/bash\nblktests:x:1000:1000:blktests:/tmp:/bin/bash\n' \
        > "$stage/etc/passwd"
    printf 'root:x:0:\ndisk:x:6:\nblktests:x:1000:\n' > "$stage/etc/group"
    ln -sf /proc/self/mounts "$stage/etc/mtab"
    # The guest's name (init sets it) resolves, from files only: sudo looks it up.
    printf '127.0.0.1\tlocalhost\n127.0.1.1\tnvmevfu-guest\n' > "$stage/etc/hosts"
    printf '%s\n' 'passwd: files' 'group: files' 'hosts: files' > "$stage/etc/nsswitch.conf"
    # The real sudo (nvme/067 runs a tool with it, as root). Debian's /etc/pam.d/sudo wants
    # pam_unix and shadow files the guest has not: root needs no password, others are denied.
    printf '%s\n' 'auth sufficient pam_rootok.so' 'auth required pam_deny.so' \
        'account required pam_permit.so' 'session required pam_permit.so' > "$stage/etc/pam.d/sudo"
    : > "$stage/etc/fstab"
    printf '%s\n' "${GUEST_INIT//@MODULES@/${GUEST_MODULES[*]}}" > "$stage/init"
    chmod 755 "$stage/init"

    # 2c. Module index for the guest, made by the guest's own depmod, and a smoke test of
    # the copied tools: if a library were missing, they would fail here, not in a VM.
    chroot "$stage" depmod "$kver"
    chroot "$stage" bash -c 'set -e; fio --version; nvme version; lspci --version; modprobe --version;
                             mkfs.xfs -V; mke2fs -V 2>&1 | head -n1; column --version; tput -T linux cols;
                             gawk --version | head -n1; sg_inq --version;
                             sudo -u blktests id -u; expect -c "puts tcl-ok"' \
        > "$WORK/smoke.log" 2>&1 \
        || { cat "$WORK/smoke.log" >&2; die "a guest tool does not run in the staged initramfs"; }
    chroot "$stage" modprobe -S "$kver" --show-depends nvme > /dev/null \
        || die "the guest's module index has no nvme"

    # 2d. Pack. The kernel reads zstd if built with RD_ZSTD (Debian's is); else gzip.
    local comp=(gzip -9n) cname=gzip
    if grep -q '^CONFIG_RD_ZSTD=y' "$ROOT/boot/config-$kver"; then comp=(zstd -q -19 -T0); cname=zstd; fi
    (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) \
        | "${comp[@]}" > "$GUEST/initrd.img.tmp"
    # Tests append an *uncompressed* cpio to this file. The kernel only recognises a cpio
    # header at a 4-byte-aligned offset after a compressed archive, so pad with zeros
    # (which it skips) to a multiple of 4. (`zstd -d`/`gunzip` on the host call the padding
    # an unknown header / trailing garbage after unpacking everything: harmless.)
    local size pad
    size=$(stat -c %s "$GUEST/initrd.img.tmp")
    pad=$(( (4 - size % 4) % 4 ))
    [ "$pad" = 0 ] || head -c "$pad" /dev/zero >> "$GUEST/initrd.img.tmp"
    cp "$ROOT/boot/vmlinuz-$kver" "$GUEST/vmlinuz.tmp"
    mv "$GUEST/vmlinuz.tmp" "$GUEST/vmlinuz"
    mv "$GUEST/initrd.img.tmp" "$GUEST/initrd.img"
    echo "$kver" > "$GUEST/kernel-version"
    safe_rm "$WORK"
    stamp_write guest "$fp"
    log "step 2/3: initramfs done in $(( $(date +%s) - t )) s: $(du -h "$GUEST/initrd.img" | cut -f1) ($cname), kernel $(du -h "$GUEST/vmlinuz" | cut -f1)"
}

# ---------------------------------------------------------------------------
# Step 3: checks, and guest.env for test harnesses
# ---------------------------------------------------------------------------
step_check() {
    local kver fp qver
    kver=$(cat "$GUEST/kernel-version")
    fp="root=$(hash_of "$(cat "$STAMPS/root")") guest=$(hash_of "$(cat "$STAMPS/guest")")"
    if stamp_ok check "$fp" && [ -f "$GUEST/guest.env" ]; then
        log "step 3/3: checks passed earlier"
    else
        log "step 3/3: checks"
        in_root qemu-system-x86_64 -device help > "$CACHE/qemu-devices.txt" 2>&1 \
            || { cat "$CACHE/qemu-devices.txt" >&2; die "qemu-system-x86_64 from the root does not run"; }
        grep -q '"vfio-user-pci"' "$CACHE/qemu-devices.txt" \
            || die "QEMU in the root has no vfio-user-pci device"
        find "$ROOT/lib/modules/$kver/" -name 'nvme.ko*' | grep -q . \
            || die "kernel $kver has no nvme module"
        qver=$(in_root qemu-system-x86_64 --version | head -n1)
        cat > "$GUEST/guest.env.tmp" <<ENV
# Written by Images/build-guest.sh; paths on the host.
NVMEVFU_CACHE='$CACHE'
NVMEVFU_ROOT='$ROOT'
NVMEVFU_KERNEL='$GUEST/vmlinuz'
NVMEVFU_INITRD='$GUEST/initrd.img'
NVMEVFU_KERNEL_VERSION='$kver'
NVMEVFU_QEMU_VERSION='$qver'
ENV
        mv "$GUEST/guest.env.tmp" "$GUEST/guest.env"
        stamp_write check "$fp"
    fi
    # shellcheck disable=SC1091
    . "$GUEST/guest.env"
    log "QEMU:   $NVMEVFU_QEMU_VERSION (has vfio-user-pci)"
    log "kernel: $NVMEVFU_KERNEL_VERSION (nvme is a module, in the initramfs)"
}

step_root
step_guest
step_check
log "ready in $(( $(date +%s) - T0 )) s: $GUEST/guest.env"
