# Helpers shared by the host side (Tests/blktests/check: requires, host_setup,
# host_check) and the guest side (the generated /test/run.sh). Plain bash; no `test`
# builtin here: tests define a function of that name. Offsets and lengths are in MiB.

# _pattern FIRST COUNT [TAG]: COUNT 512-byte records, record i reading
# "TAG lba FIRST+i" padded with spaces and ending in a newline. Both sides generate it
# with awk, so the guest can write it and the host can check the image byte for byte,
# and a block landing at the wrong LBA shows.
_pattern() {
    awk -v first="$1" -v count="$2" -v tag="${3:-nvme-vfu}" \
        'BEGIN { for (i = 0; i < count; i++) printf "%-511s\n", tag " lba " (first + i) }'
}

# _range FILE OFFSET LENGTH [IFLAG]: the bytes of that range (IFLAG e.g. direct).
_range() { dd if="$1" bs=1M skip="$2" count="$3" ${4:+iflag=$4} status=none; }

# _is_zero FILE OFFSET LENGTH [IFLAG]: true if the range is all zero bytes.
_is_zero() { cmp -s -n $(($3 << 20)) <(_range "$@") /dev/zero; }

# _has_pattern FILE OFFSET LENGTH TAG [IFLAG]: true if the range holds _pattern TAG for
# its own LBAs (counted in 512-byte units from the start of FILE).
_has_pattern() {
    cmp -s <(_pattern $(($2 * 2048)) $(($3 * 2048)) "$4") <(_range "$1" "$2" "$3" "${5:-}")
}

# _write_pattern FILE OFFSET LENGTH TAG [dd options...]: write _pattern TAG there
# (default oflag=direct; on a host image file pass conv=notrunc).
_write_pattern() {
    local f=$1 off=$2 len=$3 tag=$4; shift 4
    [ $# -gt 0 ] || set -- oflag=direct
    _pattern $((off * 2048)) $((len * 2048)) "$tag" \
        | dd of="$f" bs=1M seek="$off" iflag=fullblock status=none "$@"
}
