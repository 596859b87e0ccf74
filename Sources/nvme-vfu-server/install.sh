#!/usr/bin/env bash
# Builds nvme-vfu's executables for release, with the Swift runtime and Foundation
# linked statically (they then start on a host without a Swift toolchain: ldd lists
# only libaio, libseccomp, libstdc++, libgcc_s, libm and libc), and installs them with their man
# pages, the systemd units and the vfio-user backend-program description:
#
#   PREFIX/bin/nvme-vfu-server, nvme-vfu-ctl, nvme-vfu-bench   (stripped)
#   PREFIX/share/man/man1/nvme-vfu-*.1                          (from the argument parsers)
#   PREFIX/lib/systemd/system/nvme-vfu@.service, nvme-vfu@.socket
#   /usr/share/vfio-user/50-nvme-vfu.json                       (where the spec says)
#   /etc/nvme-vfu/                                              (one INSTANCE.json per SSD)
#
# Usage: Sources/nvme-vfu-server/install.sh [--prefix DIR] [--destdir DIR] [--no-build]
#   --prefix DIR    default /usr/local (systemd reads /usr/local/lib/systemd/system)
#   --destdir DIR   stage everything under DIR (packaging, tests); nothing outside it
#   --no-build      install what a previous run built
# Installing into /usr/local, /usr/share and /etc needs root; building does not.
set -euo pipefail
cd "$(dirname "$0")/../.."

PREFIX=/usr/local DESTDIR='' BUILD=1
while (($#)); do
    case $1 in
        --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
        --destdir) DESTDIR=${2:?--destdir needs a directory}; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
    esac
done
case $PREFIX in /*) ;; *) echo "install.sh: --prefix must be absolute, not $PREFIX" >&2; exit 64 ;; esac

# A scratch path of its own: the static release build never disturbs .build's.
SCRATCH=.build-install
PRODUCTS=(nvme-vfu-server nvme-vfu-ctl nvme-vfu-bench)
BUILD_FLAGS=(-c release --static-swift-stdlib --scratch-path "$SCRATCH")
if [ $BUILD = 1 ]; then
    for product in "${PRODUCTS[@]}" generate-manual; do
        swift build "${BUILD_FLAGS[@]}" --product "$product"
    done
fi
BIN=$(swift build "${BUILD_FLAGS[@]}" --show-bin-path)

MAN=$SCRATCH/man
rm -rf "$MAN" && mkdir -p "$MAN"
for product in "${PRODUCTS[@]}"; do
    "$BIN/generate-manual" "$BIN/$product" --multi-page --section 1 \
        --output-directory "$MAN"
done

root=$DESTDIR
install -d "$root$PREFIX/bin" "$root$PREFIX/share/man/man1" \
    "$root$PREFIX/lib/systemd/system" "$root/usr/share/vfio-user" "$root/etc/nvme-vfu"
for product in "${PRODUCTS[@]}"; do
    install -m 0755 -s "$BIN/$product" "$root$PREFIX/bin/$product"
done
# Not the implicit help subcommand's pages.
rm -f "$MAN"/*.help.1
install -m 0644 "$MAN"/*.1 "$root$PREFIX/share/man/man1/"
for unit in Sources/nvme-vfu-server/systemd/nvme-vfu@.service \
    Sources/nvme-vfu-server/systemd/nvme-vfu@.socket; do
    sed "s|@BINDIR@|$PREFIX/bin|g" "$unit" > "$root$PREFIX/lib/systemd/system/${unit##*/}"
    chmod 0644 "$root$PREFIX/lib/systemd/system/${unit##*/}"
done
sed "s|\"binary\": \"[^\"]*\"|\"binary\": \"$PREFIX/bin/nvme-vfu-server\"|" \
    Sources/nvme-vfu-server/50-nvme-vfu.json > "$root/usr/share/vfio-user/50-nvme-vfu.json"
chmod 0644 "$root/usr/share/vfio-user/50-nvme-vfu.json"

echo "installed $("$root$PREFIX/bin/nvme-vfu-server" --version) into ${root:-/}" \
    "(binaries in $PREFIX/bin)"
[ -n "$DESTDIR" ] || [ ! -d /run/systemd/system ] || systemctl daemon-reload
