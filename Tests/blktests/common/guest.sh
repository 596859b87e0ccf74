# Guest-side helpers, sourced by the generated /test/run.sh before the test file.
# Everything here runs inside the test guest (bash, GNU tools, nvme-cli, fio).

# _wait_for_nvme N SECONDS: wait until controller nvme0 is live and its namespaces
# nvme0n1..nvme0nN are block devices. The nvme driver probes asynchronously, so a test
# starting right after boot would otherwise race it.
_wait_for_nvme() {
    local n=${1:-1} secs=${2:-60} i ok
    for ((t = 0; t < secs * 10; t++)); do
        ok=1
        [ "$(cat /sys/class/nvme/nvme0/state 2>/dev/null)" = live ] || ok=0
        for ((i = 1; i <= n; i++)); do [ -b /dev/nvme0n$i ] || ok=0; done
        [ $ok = 1 ] && return 0
        sleep 0.1
    done
    echo "nvme0 with $n namespace(s) did not appear in ${secs}s" >&2
    return 1
}

# _nvme_diagnostics: what the controller says, for a namespace that did not show up.
_nvme_diagnostics() {
    echo "controller state: $(cat /sys/class/nvme/nvme0/state 2>&1)"
    echo "block devices: $(ls /sys/block | tr '\n' ' ')"
    [ -e /dev/nvme0 ] || return 0
    echo "active namespaces: $(nvme list-ns /dev/nvme0 2>&1 | grep '^\[' | tr -d ' \n')"
    # Linux >= 6.x reads CNS 08h for NVMe >= 2.0 controllers and creates the namespace
    # only if NSTAT (byte 14) bit 0 says ready.
    echo "id-ns cs-independent (CNS 08h) bytes 0-15: $(nvme admin-passthru /dev/nvme0 --opcode=0x06 \
        --namespace-id=1 --cdw10=8 --data-len=4096 --read --raw-binary 2>/dev/null | od -An -tx1 -N16 | xargs)"
}

# _wait_until SECS CONDITION: until the shell condition (eval'd) holds, looking every
# 0.1 s for at most SECS seconds.
_wait_until() {
    local t
    for ((t = 0; t < $1 * 10; t++)); do eval "$2" && return 0; sleep 0.1; done
    return 1
}

# _wait_live: wait up to 30 s for nvme0 to be live again (after a controller reset).
_wait_live() { _wait_until 30 '[ "$(cat /sys/class/nvme/nvme0/state)" = live ]'; }

# _nvme_bdf: PCI address of controller nvme0, e.g. 0000:00:01.0.
_nvme_bdf() { basename "$(readlink -f /sys/class/nvme/nvme0/device)"; }

# _irq_count NAME: interrupts of /proc/interrupts line NAME, summed over CPUs.
_irq_count() {
    awk -v name="$1" '$NF == name { s = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; else break; print s; f = 1 }
                      END { if (!f) print 0 }' /proc/interrupts
}

# _json_number FIELD: the first number after "FIELD": in JSON on stdin (nvme -o json).
_json_number() { tr -d ' \n' | grep -o "\"$1\":[0-9]*" | head -n1 | cut -d: -f2; }

# _flushes DEV: flush requests completed by block device DEV (diskstats field 16).
_flushes() { awk '{ print $16 }' "/sys/block/$1/stat"; }

# _kill_qemu_here: the host SIGKILLs QEMU when it sees this line; never returns.
_kill_qemu_here() { echo BLKTESTS-KILL-QEMU; sleep 3600; }

# _reboot_after_test: reboot the guest (not power off) once the test body has returned
# and its output is out; the test must run with GUEST_ARGS=(--reboot).
_reboot_after_test() { : > /tmp/blktests.reboot; }

# _fs_roundtrip FSTYPE: mount /dev/nvme0n1 (already made) on /mnt/t, write files (a copy
# of the guest's kernel modules, a 32 MiB pattern file, 300 small files), record their
# checksums in /tmp/fs.sums, unmount.
_fs_roundtrip() {
    mkdir -p /mnt/t
    mount -t "$1" /dev/nvme0n1 /mnt/t || return 1
    echo "mounted $1"
    cp -a /usr/lib/modules /mnt/t/modules || return 1
    _pattern 0 65536 "$1-file" > /mnt/t/pattern || return 1
    mkdir -p /mnt/t/small
    for i in $(seq 300); do echo "small file $i" > "/mnt/t/small/$i"; done
    (cd /mnt/t && find . -type f | LC_ALL=C sort | xargs md5sum) > /tmp/fs.sums || return 1
    echo "wrote files"
    umount /mnt/t && echo unmounted
}

# _fs_verify FSTYPE: mount again and check the files against /tmp/fs.sums.
_fs_verify() {
    mount -t "$1" /dev/nvme0n1 /mnt/t || return 1
    (cd /mnt/t && md5sum -c --quiet /tmp/fs.sums) >&2 && echo "files intact after remount"
    umount /mnt/t
}

# _lbafs FILE: the LBA formats of `nvme id-ns` output in FILE, as
# "lbaf N lbads:X ms:Y [in use]" (relative performance left out).
_lbafs() {
    sed -n 's/^lbaf *\([0-9]*\) *: *ms:\([0-9]*\) *lbads:\([0-9]*\).*/lbaf \1 lbads:\3 ms:\2 &/p' "$1" \
        | sed 's/ lbaf *[0-9]* *:.*(in use).*/ (in use)/; s/ lbaf *[0-9]* *:.*//'
}

# _ns_dev NSID: block device of that NSID (Linux scans namespaces in parallel, so
# nvme0nN need not be NSID N); fails if there is none.
_ns_dev() {
    local d
    for d in /sys/block/nvme0n*; do
        [ "$(cat "$d/nsid" 2>/dev/null)" = "$1" ] && { echo "/dev/${d##*/}"; return 0; }
    done
    return 1
}

# _wait_ns NSID SECS / _wait_ns_gone NSID SECS: until the block device of NSID appears /
# is gone (after a change on the host, Linux rescans on the async event).
_wait_ns() { _wait_until "${2:-30}" "_ns_dev $1 > /dev/null"; }
_wait_ns_gone() { _wait_until "${2:-30}" "! _ns_dev $1 > /dev/null"; }

# _host WORDS...: have the host run the test's host_during WORDS now, while this guest
# runs (check answers on ttyS1, fd 7), and return its status. The request goes out on
# the test's own stdout (fd 9), so it also works inside $(...).
_host() {
    local seq line
    seq=$(($(cat /tmp/blktests.hostseq 2>/dev/null || echo 0) + 1))
    echo "$seq" > /tmp/blktests.hostseq
    echo "BLKTESTS-HOST $seq $* BLKTESTS-END" >&9
    while IFS= read -r -t 300 line <&7; do
        case $line in "BLKTESTS-HOST-DONE $seq "*) return "${line##* }" ;; esac
    done
    echo "_host $*: no answer from the host within 300 s" >&2
    return 99
}
