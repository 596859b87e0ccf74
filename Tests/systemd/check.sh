#!/usr/bin/env bash
# The install and systemd path end to end, as README "Install" and "Under systemd" say:
#
# 1. Sources/nvme-vfu-server/install.sh --destdir STAGE (static release build);
#    each binary runs --version, and ldd lists no Swift library;
# 2. a real systemd (this host's /lib/systemd/systemd) as PID 1 of a private PID and
#    mount namespace, with STAGE/usr/local mounted on /usr/local and the installed
#    nvme-vfu@.socket enabled for instance "ci" (/etc/nvme-vfu/ci.json: one image);
# 3. a connection to /run/nvme-vfu/ci.sock starts nvme-vfu@ci.service (socket
#    activation), which must reach "active" with the Status its READY=1 carried;
# 4. with --guest, a Linux guest (Images/run-guest.sh) writes and reads back 4 MiB
#    through that service;
# 5. systemctl stop: the server exits 0 (STOPPING=1 then a clean exit), the socket
#    stays listening.
#
# The service runs with the shipped unit's hardening and the README's drop-in (Security):
# --user nobody, ProtectSystem=strict with the image's directory writable, ProtectHome,
# PrivateTmp; the server is checked to be nobody, seccomp-filtered, no_new_privs.
#
# That systemd shares this host's file systems and kernel, so everything that would
# write to them (tmpfiles, which empties /tmp; sysusers; sysctl; udev; ...) is masked,
# and /run, /etc/systemd/system and /etc/nvme-vfu are private tmpfs mounts.
#
# Usage: Tests/systemd/check.sh [--guest] [--no-build]   (as root; prints PASS or FAIL)
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
GUEST=0 BUILD=()
while (($#)); do
    case $1 in
        --guest) GUEST=1; shift ;;
        --no-build) BUILD=(--no-build); shift ;;
        *) echo "check.sh: unknown option $1" >&2; exit 64 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "check.sh: must run as root (systemd as PID 1 of a namespace)" >&2; exit 1; }
[ -x /lib/systemd/systemd ] || { echo "check.sh: no /lib/systemd/systemd (apt-get install systemd)" >&2; exit 1; }

WORK=$(mktemp -d "$REPO/.build-systemd-check.XXXXXX")
# The image lives outside /tmp and /var/tmp: the hardening drop-in's PrivateTmp gives
# the service a /tmp of its own, where a checkout under /tmp (as CI's) is not.
IMAGES=$(mktemp -d /var/lib/nvme-vfu-check.XXXXXX)
SYSTEMD_PID=
cleanup() {
    [ -z "$SYSTEMD_PID" ] || kill -KILL "$SYSTEMD_PID" 2>/dev/null || true
    rm -rf "$WORK" "$IMAGES"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ ! -s "$WORK/journal" ] || tail -n 20 "$WORK/journal"; exit 1; }

echo "== install.sh --destdir"
Sources/nvme-vfu-server/install.sh --destdir "$WORK/stage" "${BUILD[@]}" > "$WORK/install.log" 2>&1 ||
    { tail -n 20 "$WORK/install.log"; fail "install.sh"; }
for bin in nvme-vfu-server nvme-vfu-ctl nvme-vfu-bench; do
    path=$WORK/stage/usr/local/bin/$bin
    version=$("$path" --version) || fail "$bin --version"
    echo "$bin --version: $version"
    ! ldd "$path" | grep -q swift || fail "$bin links Swift libraries: $(ldd "$path" | grep swift)"
done
for page in nvme-vfu-server nvme-vfu-ctl nvme-vfu-bench nvme-vfu-bench.perf; do
    [ -s "$WORK/stage/usr/local/share/man/man1/$page.1" ] || fail "no man page $page.1"
done
grep -q "ExecStart=/usr/local/bin/nvme-vfu-server" \
    "$WORK/stage/usr/local/lib/systemd/system/nvme-vfu@.service" || fail "unit's ExecStart"

mkdir -p /etc/nvme-vfu "$WORK/sockets"
truncate -s 64M "$IMAGES/disk.img"
# The README's hardening drop-in (Security) runs the server as nobody with the file
# system read-only but for the image's directory: nobody must reach and write it.
chmod 755 "$IMAGES"
chown nobody "$IMAGES/disk.img"
cat > "$WORK/inner.sh" <<EOF
set -e
mount -t proc proc /proc
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /etc/systemd/system
mount -t tmpfs tmpfs /etc/nvme-vfu
mount --bind "$WORK/stage/usr/local" /usr/local
mount --bind /sys /sys && mount -o remount,bind,ro /sys
for unit in systemd-tmpfiles-setup systemd-tmpfiles-setup-dev systemd-tmpfiles-clean \\
    systemd-sysusers systemd-sysctl systemd-modules-load systemd-remount-fs \\
    systemd-journal-flush systemd-update-utmp systemd-binfmt systemd-random-seed \\
    systemd-machine-id-commit kmod-static-nodes systemd-udevd systemd-udev-trigger \\
    systemd-hwdb-update systemd-journal-catalog-update systemd-update-done \\
    systemd-firstboot systemd-pstore systemd-boot-system-token; do
    ln -s /dev/null /etc/systemd/system/\$unit.service
done
printf '%s\n' '[Unit]' 'Description=nvme-vfu systemd check' > /etc/systemd/system/default.target
mkdir /etc/systemd/system/sockets.target.wants
ln -s /usr/local/lib/systemd/system/nvme-vfu@.socket \\
    /etc/systemd/system/sockets.target.wants/nvme-vfu@ci.socket
printf '%s\n' 'Wants=sockets.target' >> /etc/systemd/system/default.target
echo '{"namespaces": [{"backing": "$IMAGES/disk.img"}]}' > /etc/nvme-vfu/ci.json
mkdir /etc/systemd/system/nvme-vfu@.service.d
cat > /etc/systemd/system/nvme-vfu@.service.d/hardening.conf <<'UNIT'
[Service]
ExecStart=
ExecStart=/usr/local/bin/nvme-vfu-server --fd=3 --config /etc/nvme-vfu/%i.json --control /run/nvme-vfu/%i.ctl --user nobody --image-dir $IMAGES
ProtectSystem=strict
ReadWritePaths=$IMAGES /run/nvme-vfu
ProtectHome=yes
PrivateTmp=yes
UNIT
exec env container=nvme-vfu-check /lib/systemd/systemd --system --log-target=console
EOF
echo "== systemd in a namespace"
unshare --pid --fork --mount --propagation private bash "$WORK/inner.sh" > "$WORK/systemd.log" 2>&1 &
for _ in $(seq 100); do
    SYSTEMD_PID=$(pgrep -f -n "^/lib/systemd/systemd --system --log-target=console" || true)
    if [ -n "$SYSTEMD_PID" ] && [ "$(nsenter -t "$SYSTEMD_PID" -m -p \
        systemctl is-active nvme-vfu@ci.socket 2>/dev/null)" = active ]; then break; fi
    sleep 0.2
done
[ -n "$SYSTEMD_PID" ] || fail "systemd did not start: $(tail -n 5 "$WORK/systemd.log")"
ns() { nsenter -t "$SYSTEMD_PID" -m -p "$@"; }
journal() { ns journalctl -u nvme-vfu@ci.service --no-pager > "$WORK/journal" 2>&1 || true; }
[ "$(ns systemctl is-active nvme-vfu@ci.socket)" = active ] || fail "nvme-vfu@ci.socket not listening"
[ "$(ns systemctl is-active nvme-vfu@ci.service || true)" = inactive ] || fail "service ran before a connection"

echo "== a connection activates nvme-vfu@ci.service"
ns /usr/local/bin/nvme-vfu-bench identify --socket /run/nvme-vfu/ci.sock > "$WORK/identify" ||
    { journal; fail "identify through the activated socket"; }
grep -q "^sn *: NVMEVFU0001" "$WORK/identify" || fail "identify: $(head -n 5 "$WORK/identify")"
[ "$(ns systemctl is-active nvme-vfu@ci.service)" = active ] || { journal; fail "service not active"; }
pid=$(ns systemctl show -P MainPID nvme-vfu@ci.service)
ids=$(ns awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
[ "$ids" = 65534 ] || { journal; fail "the service runs as uid $ids, not nobody (--user)"; }
[ "$(ns awk '/^Seccomp:/ { print $2 }' "/proc/$pid/status")" = 2 ] || fail "no seccomp filter"
[ "$(ns awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status")" = 1 ] || fail "no no_new_privs"
# ProtectSystem=strict: / is read-only in the service's mount namespace, the images'
# directory is not.
root_options=$(ns awk '$5 == "/" { print $6 }' "/proc/$pid/mountinfo" | tail -n1)
image_options=$(ns awk -v dir="$IMAGES" '$5 == dir { print $6 }' "/proc/$pid/mountinfo" | tail -n1)
[[ $root_options == ro* ]] || fail "/ is \"$root_options\" for the service, not read-only"
[[ $image_options == rw* ]] || fail "$IMAGES is \"$image_options\" for the service, not writable"
echo "service runs as nobody, seccomp filter mode, no_new_privs, / read-only (the hardening drop-in)"
status=$(ns systemctl show -P StatusText nvme-vfu@ci.service)
[ "$status" = "serving 1 namespace(s)" ] || fail "StatusText \"$status\" (READY=1's STATUS)"
echo "service active, status: $status"

if [ $GUEST = 1 ]; then
    echo "== a guest through the service"
    ns mount --bind /run/nvme-vfu "$WORK/sockets"
    cat > "$WORK/guest.sh" <<'EOF'
for i in $(seq 50); do [ -b /dev/nvme0n1 ] && break; sleep 0.2; done
dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 status=none
dd if=/tmp/pattern of=/dev/nvme0n1 bs=1M oflag=direct status=none
dd if=/dev/nvme0n1 of=/tmp/back bs=1M count=4 iflag=direct status=none
cmp /tmp/pattern /tmp/back && echo GUEST-IO-OK
EOF
    nsenter -t "$SYSTEMD_PID" -m "$REPO/Images/run-guest.sh" --share "$WORK/sockets" \
        --test "$WORK/guest.sh" --timeout 240 \
        --device "{\"driver\":\"vfio-user-pci\",\"socket\":{\"path\":\"$WORK/sockets/ci.sock\",\"type\":\"unix\"}}" \
        > "$WORK/guest.log" 2>&1 || { tail -n 20 "$WORK/guest.log"; fail "guest boot"; }
    grep -q GUEST-IO-OK "$WORK/guest.log" || fail "guest I/O: $(tail -n 5 "$WORK/guest.log")"
    echo "guest wrote and read back 4 MiB"
fi

echo "== systemctl stop"
ns systemctl stop nvme-vfu@ci.service
result=$(ns systemctl show -P Result nvme-vfu@ci.service)
code=$(ns systemctl show -P ExecMainStatus nvme-vfu@ci.service)
journal
[ "$result" = success ] && [ "$code" = 0 ] || fail "stop: Result=$result ExecMainStatus=$code"
grep -q "stopping: finishing in-flight I/O" "$WORK/journal" || fail "no stop in the journal"
# journald read each line's priority from its <N> prefix, and the line has no timestamp
# of the server's own: info lines at priority 6 only, statistics among them.
ns journalctl -u nvme-vfu@ci.service --no-pager -o cat -p 6..6 > "$WORK/info" 2>&1 || true
grep -q "^serving 1 namespace(s)$" "$WORK/info" || fail "no 'serving' line at priority 6 (info)"
grep -q "^statistics: namespace 1 .*nsid=1" "$WORK/info" || fail "no statistics line at priority 6"
# Landlock confined the service (where this kernel has it: the line says which).
grep -qE "^sandbox: Landlock ABI [0-9]+, 2 path rule\(s\)$" "$WORK/info" ||
    grep -q "sandbox: .*files are limited only" "$WORK/journal" || fail "no Landlock line in the journal"
! grep -qE '^<[0-9]>|^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$WORK/info" ||
    fail "journal lines carry a priority prefix or a timestamp of their own: $(head -n 2 "$WORK/info")"
echo "journal: $(wc -l < "$WORK/info") info lines at priority 6, no timestamps of the server's own"
[ "$(ns systemctl is-active nvme-vfu@ci.socket)" = active ] || fail "socket gone after stop"
echo "PASS"
