#!/bin/bash
# Smoke test for the guest image: run with
#   Images/run-guest.sh --test Images/guest-smoke.sh
# Shows the kernel, loaded modules and tool versions; exits 0 if they all ran.
set -euo pipefail
echo "== uname -r";      uname -r
echo "== lsmod";         lsmod
echo "== nvme version";  nvme version
echo "== fio --version"; fio --version
echo "== lspci";         lspci
echo "== sh is";         readlink -f /bin/sh
exit 0
