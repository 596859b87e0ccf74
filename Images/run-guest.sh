#!/usr/bin/env bash
# Boot the nvme-vfu test guest (built by Images/build-guest.sh) under the QEMU of the
# cached Debian sid root, optionally with a test script and extra devices.
#
# Usage: Images/run-guest.sh [options] [-- extra QEMU arguments]
#   --cache DIR      cache directory (default: $NVME_VFU_CACHE, else /var/cache/nvme-vfu)
#   --test SCRIPT    run SCRIPT in the guest as /test/run.sh (bash); the guest prints
#                    NVMEVFU-TEST-BEGIN / NVMEVFU-TEST-END rc=N and powers off
#   --test-dir DIR   put the contents of DIR in the guest's /test (needs DIR/run.sh
#                    unless --test is given too)
#   --device JSON    add `-device JSON` (repeatable), e.g. the vfio-user controller:
#                    '{"driver":"vfio-user-pci","socket":{"path":"/tmp/x/cntrl","type":"unix"}}'
#   --share DIR      make host directory DIR visible at the same path inside the root that
#                    QEMU is chrooted into (repeatable); needed for the vfio-user socket:
#                    --share /tmp/x --device '{..."path":"/tmp/x/cntrl"...}'
#   --append ARGS    extra kernel command line; NAME=value words become environment
#                    variables of the guest's /init and so of the test
#   --timeout SECS   kill QEMU after SECS seconds (default 600); exit status 124
#   --mem SIZE       guest RAM (default 1G); a shared memfd, so that a vfio-user server
#                    can map it (unless --no-share-mem)
#   --no-share-mem   plain, unshared guest RAM: QEMU passes no fds with DMA_MAP and the
#                    vfio-user server must reach guest memory by DMA_READ/DMA_WRITE
#   --reboot         let a guest reboot restart the machine in the same QEMU (default:
#                    QEMU exits when the guest reboots); the test then runs again (and
#                    a guest panic reboots too, until --timeout)
#   --smp N          vCPUs (default 2)
#   --kvm            use KVM instead of TCG (default: TCG, multi-threaded). A paravirtual
#                    KVM (PVM, found on some cloud VMs) cannot run stock kernels.
#   --log FILE       also write the serial console output to FILE
#   --host-pipe PATH a second serial port, the guest's ttyS1, that reads the FIFO PATH.in
#                    (and writes PATH.out); both are made if missing. PATH must be in a
#                    --share directory. Tests/blktests/check answers host requests on it.
#
# Without --test/--test-dir the guest starts bash on the serial console for interactive
# use and powers off when it exits.
#
# Exit status: with a test, the test's status taken from the NVMEVFU-TEST-END line, 124 on
# timeout, 125 if the guest stopped without that line; without a test, QEMU's status.
#
# Mounts: QEMU runs chrooted into the sid root with /dev, /proc, /sys, the run directory
# and the --share directories mounted there. All of these are made in a private mount
# namespace (unshare -m), so the host never sees them and they disappear when QEMU exits,
# whichever way it exits. Several guests can run at once.
set -euo pipefail

log() { printf '[run-guest] %s\n' "$*" >&2; }
die() { printf '[run-guest] ERROR: %s\n' "$*" >&2; exit 2; }

CACHE=${NVME_VFU_CACHE:-/var/cache/nvme-vfu}
TEST_SCRIPT= TEST_DIR= APPEND= TIMEOUT=600 MEM=1G SMP=2 ACCEL=tcg LOG= SHARE_MEM=1 REBOOT=0
DEVICES=() SHARES=() EXTRA=() HOST_PIPE=
need() { [ "$2" -ge 2 ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
    case $1 in
        --cache)    need "$1" $#; CACHE=$2; shift 2 ;;
        --test)     need "$1" $#; TEST_SCRIPT=$2; shift 2 ;;
        --test-dir) need "$1" $#; TEST_DIR=$2; shift 2 ;;
        --device)   need "$1" $#; DEVICES+=("$2"); shift 2 ;;
        --share)    need "$1" $#; SHARES+=("$2"); shift 2 ;;
        --append)   need "$1" $#; APPEND="$APPEND $2"; shift 2 ;;
        --timeout)  need "$1" $#; TIMEOUT=$2; shift 2 ;;
        --mem)      need "$1" $#; MEM=$2; shift 2 ;;
        --smp)      need "$1" $#; SMP=$2; shift 2 ;;
        --host-pipe) need "$1" $#; HOST_PIPE=$2; shift 2 ;;
        --kvm)      ACCEL=kvm; shift ;;
        --no-share-mem) SHARE_MEM=0; shift ;;
        --reboot)   REBOOT=1; shift ;;
        --log)      need "$1" $#; LOG=$2; shift 2 ;;
        --)         shift; EXTRA=("$@"); break ;;
        -h|--help)  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *)          die "unknown argument: $1 (try --help)" ;;
    esac
done
[ "$(id -u)" = 0 ] || die "must run as root (chroot, mount namespace)"

ROOT=$CACHE/sid-root
GUEST=$CACHE/guest
[ -s "$GUEST/vmlinuz" ] && [ -s "$GUEST/initrd.img" ] && [ -x "$ROOT/usr/bin/qemu-system-x86_64" ] \
    || die "no guest in $CACHE; run Images/build-guest.sh first"
command -v cpio >/dev/null || die "cpio missing; Images/build-guest.sh installs it"
[ -z "$TEST_SCRIPT" ] || [ -f "$TEST_SCRIPT" ] || die "no such test script: $TEST_SCRIPT"
[ -z "$TEST_DIR" ] || [ -d "$TEST_DIR" ] || die "no such test directory: $TEST_DIR"
[ -z "$TEST_DIR" ] || [ -n "$TEST_SCRIPT" ] || [ -f "$TEST_DIR/run.sh" ] || die "$TEST_DIR has no run.sh"

# Per-run directory on the host; shows up as /run/nvme-vfu inside the root.
RUN=$(mktemp -d "${TMPDIR:-/tmp}/nvme-vfu-run.XXXXXX")
trap 'rm -rf "$RUN"' EXIT
IN_ROOT_RUN=/run/nvme-vfu

cp "$GUEST/vmlinuz" "$RUN/vmlinuz"
cp "$GUEST/initrd.img" "$RUN/initrd.img"
if [ -n "$TEST_SCRIPT$TEST_DIR" ]; then
    # The test goes in a second, uncompressed cpio appended to the base initramfs; the
    # kernel unpacks both in turn (the base is padded to a 4-byte boundary for this).
    mkdir -p "$RUN/test-stage/test"
    [ -z "$TEST_DIR" ] || cp -a "$TEST_DIR/." "$RUN/test-stage/test/"
    [ -z "$TEST_SCRIPT" ] || install -m 755 "$TEST_SCRIPT" "$RUN/test-stage/test/run.sh"
    (cd "$RUN/test-stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) \
        >> "$RUN/initrd.img"
    # Tells /init to power off rather than start a shell if the test did not arrive.
    APPEND="$APPEND NVMEVFU_EXPECT_TEST=1"
fi

# Shared directories: same absolute path inside the root as outside.
SHARE_ARGS=()
for d in "${SHARES[@]}"; do
    [ -d "$d" ] || die "--share $d: not a directory"
    d=$(readlink -f "$d")
    case $d in /|/dev|/dev/*|/proc|/proc/*|/sys|/sys/*) die "--share $d: not allowed" ;; esac
    SHARE_ARGS+=("$d")
done

if [ "$ACCEL" = kvm ]; then ACCEL_ARGS=(-accel kvm -cpu host)
else ACCEL_ARGS=(-accel tcg,thread=multi -cpu max); fi

QEMU=(qemu-system-x86_64 -nodefaults -no-user-config -display none
      # Serial console on stdout, and QEMU itself keeps a copy in the run directory (read
      # below for the exit marker). signal=on: Ctrl-C on a terminal still stops QEMU.
      -chardev "stdio,id=console,signal=on,logfile=$IN_ROOT_RUN/console.log" -serial chardev:console
      "${ACCEL_ARGS[@]}" -smp "$SMP" -m "$MEM"
      -kernel "$IN_ROOT_RUN/vmlinuz" -initrd "$IN_ROOT_RUN/initrd.img"
      -append "console=ttyS0 panic=-1 quiet${APPEND}")
if [ "$SHARE_MEM" = 1 ]; then
    # Guest RAM as a shared memfd: the vfio-user client passes its fds to the server.
    QEMU+=(-machine q35,memory-backend=mem -object "memory-backend-memfd,id=mem,size=$MEM,share=on")
else
    QEMU+=(-machine q35)
fi
[ "$REBOOT" = 1 ] || QEMU+=(-no-reboot)
for dev in "${DEVICES[@]}"; do QEMU+=(-device "$dev"); done
if [ -n "$HOST_PIPE" ]; then
    # QEMU opens both FIFOs read-write, so neither side blocks in open().
    for f in "$HOST_PIPE.in" "$HOST_PIPE.out"; do [ -p "$f" ] || mkfifo -m 0600 "$f"; done
    QEMU+=(-chardev "pipe,id=host,path=$HOST_PIPE" -serial chardev:host)
fi
QEMU+=("${EXTRA[@]}")

# Runs in the new mount namespace: mount, then become QEMU (exec all the way down, so that
# `timeout` signals QEMU itself).
ns_boot() {
    set -e
    local r=$1 run=$2 in_run=$3; shift 3
    mount --rbind /dev "$r/dev"
    mount -t proc proc "$r/proc"
    mount -t sysfs sysfs "$r/sys"
    mkdir -p "$r$in_run"
    mount --bind "$run" "$r$in_run"
    while [ "$1" != -- ]; do
        mkdir -p "$r$1"            # an empty mount point left in the cached root; harmless
        mount --bind "$1" "$r$1"
        shift
    done
    shift
    exec chroot "$r" "$@"
}

# With a terminal on stdin, QEMU must stay in the terminal's foreground process group to
# read it; otherwise timeout may put it in a group of its own.
TIMEOUT_ARGS=(-k 10)
[ -t 0 ] && TIMEOUT_ARGS+=(--foreground)

log "booting $(cat "$GUEST/kernel-version" 2>/dev/null) (accel $ACCEL, smp $SMP, mem $MEM$([ "$SHARE_MEM" = 1 ] || echo " unshared"), timeout ${TIMEOUT}s)"
t0=$(date +%s)
# QEMU runs as a background job so that a signal to this script (a test harness giving
# up, Ctrl-C) is handled at once: the trap passes it to `timeout`, which passes it to
# QEMU. (A background job would get /dev/null as stdin; hand it ours explicitly.)
exec 3<&0
timeout "${TIMEOUT_ARGS[@]}" "$TIMEOUT" \
    unshare --mount --propagation private -- \
    bash -c "$(declare -f ns_boot); ns_boot \"\$@\"" ns_boot \
        "$ROOT" "$RUN" "$IN_ROOT_RUN" "${SHARE_ARGS[@]}" -- "${QEMU[@]}" <&3 &
qemu_pid=$!
exec 3<&-
trap 'kill -TERM "$qemu_pid" 2>/dev/null || true' INT TERM HUP
set +e
while :; do
    wait "$qemu_pid"; qemu_rc=$?
    kill -0 "$qemu_pid" 2>/dev/null || break   # still running: wait was cut short by a signal
done
set -e
trap - INT TERM HUP
elapsed=$(( $(date +%s) - t0 ))
touch "$RUN/console.log"
[ -z "$LOG" ] || cp "$RUN/console.log" "$LOG"

if [ "$qemu_rc" = 124 ]; then
    log "timed out after ${TIMEOUT}s"
    exit 124
fi
if [ -z "$TEST_SCRIPT$TEST_DIR" ]; then
    log "QEMU exited with status $qemu_rc after ${elapsed}s"
    exit "$qemu_rc"
fi
rc=$(tr -d '\r' < "$RUN/console.log" | sed -n 's/^NVMEVFU-TEST-END rc=\([0-9]*\)$/\1/p' | tail -n1)
if [ -z "$rc" ]; then
    log "guest stopped without NVMEVFU-TEST-END (QEMU status $qemu_rc) after ${elapsed}s"
    exit 125
fi
log "test exited with rc=$rc; QEMU status $qemu_rc; ${elapsed}s"
exit "$rc"
