#!/usr/bin/env bash
# A throwaway single-node Ceph cluster for the RBD tests: one monitor (mon.a) and one
# memstore OSD (osd.0), no manager (RBD I/O does not need one), a pool `rbd` of size 1.
#
#   Tests/ceph/cluster.sh install     apt-get installs the Ceph packages and fio if missing
#   Tests/ceph/cluster.sh start DIR   starts the cluster, prints the absolute DIR/ceph.conf
#                                     once `rbd create` and `rbd info` work
#   Tests/ceph/cluster.sh stop DIR    stops its daemons and removes DIR; succeeds when
#                                     nothing runs there or DIR does not exist
#   Tests/ceph/cluster.sh pause DIR   freezes both daemons (SIGSTOP): to its clients the
#                                     cluster is gone, yet memstore keeps every object
#   Tests/ceph/cluster.sh resume DIR  lets them go on (SIGCONT): the cluster returns
#
# Everything the cluster has (config, keyring, mon store, OSD data, logs, pid files,
# admin sockets) lives in DIR; /etc/ceph and /var/lib/ceph are never read or written.
# Auth is cephx, with every key in DIR/keyring, which ceph.conf names, so a client given
# only the conf (`rbd -c DIR/ceph.conf`, CEPH_CONF for fio, librbd) finds the admin key.
# The daemons bind only 127.0.0.1, on fixed non-default ports so that a system cluster
# is not disturbed: mon v2 13300 and v1 16789, the OSD in 16800-16899
# (CEPH_TEST_MON_V2_PORT, CEPH_TEST_MON_V1_PORT, CEPH_TEST_OSD_PORT_MIN override them).
# start fails, with one line on stderr, if a port is taken or DIR is in use; on any
# failure it stops what it started and keeps DIR (its log/ says more) for `stop DIR`.
set -euo pipefail

readonly mon_v2_port=${CEPH_TEST_MON_V2_PORT:-13300}
readonly mon_v1_port=${CEPH_TEST_MON_V1_PORT:-16789}
readonly osd_port_min=${CEPH_TEST_OSD_PORT_MIN:-16800}
readonly osd_port_max=$((osd_port_min + 99))
# Memstore keeps objects in the OSD's memory; this is its capacity, not an allocation.
readonly memstore_bytes=$((3 << 30))
readonly start_timeout=45 # seconds for the whole start; a healthy one takes a few
readonly marker=.cluster-sh # in a DIR that start made: stop removes only such DIRs
readonly packages=(ceph-mon ceph-osd ceph-common librbd-dev python3-rbd fio)

# The caller's Ceph environment must not redirect our commands to another cluster.
unset CEPH_ARGS CEPH_CONF

dir='' conf='' step_out='' cleanup_armed=0

# Prints one line on stderr and exits; during start the EXIT trap then stops the daemons.
fail() {
  printf 'cluster.sh: %s\n' "$*" >&2
  exit 1
}

# The last non-blank line of FILE, shortened, for a one-line failure reason.
last_line() {
  local line
  line=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1) || true
  printf '%s' "${line:0:300}"
}

# The ceph CLI against this cluster only; it gives up rather than hang on a dead mon.
ceph_cli() { timeout 20 ceph --conf "$conf" --connect-timeout 10 "$@"; }
rbd_cli() { timeout 20 rbd --conf "$conf" "$@"; }

# --- daemons, by the pid files in DIR/run --------------------------------------------

# Whether process PID is alive and one of ours: its command line names our ceph.conf,
# which also rules out a reused pid and a zombie (whose cmdline is empty).
is_ours() {
  { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF -- "--conf $conf "
}

# The pid in pid file FILE if that process is one of ours.
live_pid() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && is_ours "$pid" || return 1
  printf '%s' "$pid"
}

# The OSD goes first and alone: on TERM it waits (up to 5 s) for the mon's ack.
stop_daemons() {
  stop_daemon osd.0
  stop_daemon mon.a
}

# TERM daemon NAME and wait for it to exit; KILL it if it takes over 10 s.
stop_daemon() {
  local pid deadline=$((SECONDS + 10))
  pid=$(live_pid "$dir/run/$1.pid") || return 0
  kill -TERM "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true # a paused daemon handles TERM only once going
  while is_ours "$pid"; do
    if ((SECONDS >= deadline)); then
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.1
  done
}

# Starts daemon NAME (mon.a, osd.0) with BINARY; its early stderr goes to log/NAME.out.
start_daemon() {
  local name=$1 binary=$2
  if ! (close_inherited_fds && exec "$binary" --conf "$conf" -i "${name#*.}") \
    >>"$dir/log/$name.out" 2>&1 </dev/null; then
    fail "$binary failed to start: $(daemon_reason "$name")"
  fi
}

# Closes every fd above 2 in this (sub)shell: a daemon that kept a caller's pipe open
# (a CI log, a test capturing our output) would keep that reader waiting for EOF.
close_inherited_fds() {
  local path fd
  for path in "/proc/$BASHPID/fd/"*; do
    fd=${path##*/}
    if ((fd > 2)); then
      exec {fd}>&-
    fi
  done 2>/dev/null
}

# Why daemon NAME stopped: the last line of its stderr, else of its log.
daemon_reason() {
  local reason
  reason=$(last_line "$dir/log/$1.out")
  [[ -n $reason ]] || reason=$(last_line "$dir/log/$1.log")
  printf '%s' "${reason:-no output in $dir/log}"
}

# --- setup steps ------------------------------------------------------------------------

# Runs a setup command with its output appended to log/setup.log; on failure, fails
# naming WHAT and the command's last line of output.
step() {
  local what=$1
  shift
  if ! "$@" >"$step_out" 2>&1 </dev/null; then
    cat "$step_out" >>"$dir/log/setup.log"
    fail "$what failed: $(last_line "$step_out")"
  fi
  cat "$step_out" >>"$dir/log/setup.log"
}

# Retries a command until it succeeds; fails at the start deadline, or at once if
# daemon NAME has died meanwhile (with that daemon's last words).
wait_for() {
  local what=$1 name=$2
  shift 2
  until "$@" >"$step_out" 2>&1 </dev/null; do
    live_pid "$dir/run/$name.pid" >/dev/null ||
      fail "$name exited while waiting for $what: $(daemon_reason "$name")"
    ((SECONDS < start_timeout)) ||
      fail "timed out after ${start_timeout}s waiting for $what: $(last_line "$step_out")"
    sleep 0.2
  done
  cat "$step_out" >>"$dir/log/setup.log"
}

# Something already answering on 127.0.0.1:PORT means another cluster (or anything).
check_port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    fail "port 127.0.0.1:$1 is already in use (set CEPH_TEST_* ports to move the cluster)"
  fi
}

write_conf() {
  cat >"$conf" <<EOF
# Written by Tests/ceph/cluster.sh for a throwaway test cluster; removed by its stop.
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
mon host = [v2:127.0.0.1:$mon_v2_port,v1:127.0.0.1:$mon_v1_port]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
ms bind port min = $osd_port_min
ms bind port max = $osd_port_max

# cephx with one keyring in DIR; every client is current, so no legacy global_id.
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = $dir/keyring

# All state in DIR. Daemons' admin sockets default to \$run_dir/\$cluster-\$name.asok.
run dir = $dir/run
crash dir = $dir/crash
mon data = $dir/mon.\$id
osd data = $dir/osd.\$id

# One OSD: pools of size 1 are the intent here, not a risk to warn about.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon allow pool delete = true
# No mgr by design; without this the mon warns "no active mgr" two minutes in.
mon mgr mkfs grace = 31536000
# DIR's filesystem is not the cluster's concern: never warn about or stop on its space.
mon data avail warn = 1
mon data avail crit = 0
# The mon's cluster and audit logs, which default to /var/log/ceph.
mon cluster log file = $dir/log/\$cluster.\$channel.log

[mon]
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid

[osd]
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
osd objectstore = memstore
memstore device bytes = $memstore_bytes

[client]
# Per-process sockets, so that concurrent clients (rbd, fio, tests) do not collide.
admin socket = $dir/run/\$cluster-\$name.\$pid.\$cctid.asok
EOF
}

# mon., client.admin and osd.0 keys with their caps; ceph-mon --mkfs imports them all.
write_keyring() {
  local mon_key admin_key osd_key
  mon_key=$(ceph-authtool --gen-print-key)
  admin_key=$(ceph-authtool --gen-print-key)
  osd_key=$(ceph-authtool --gen-print-key)
  (
    umask 077
    cat >"$dir/keyring" <<EOF
[mon.]
	key = $mon_key
	caps mon = "allow *"
[client.admin]
	key = $admin_key
	caps mon = "allow *"
	caps osd = "allow *"
	caps mgr = "allow *"
[osd.0]
	key = $osd_key
	caps mon = "allow profile osd"
	caps mgr = "allow profile osd"
	caps osd = "allow *"
EOF
  )
}

start_mon() {
  local fsid
  fsid=$(sed -n 's/^fsid = //p' "$conf")
  step "monmaptool" monmaptool --create --fsid "$fsid" \
    --addv a "[v2:127.0.0.1:$mon_v2_port,v1:127.0.0.1:$mon_v1_port]" "$dir/monmap"
  step "ceph-mon --mkfs" ceph-mon --conf "$conf" --mkfs -i a \
    --monmap "$dir/monmap" --keyring "$dir/keyring"
  start_daemon mon.a ceph-mon
  wait_for "the monitor to answer" mon.a ceph_cli mon stat
}

start_osd() {
  local uuid
  uuid=$(cat /proc/sys/kernel/random/uuid)
  step "ceph osd new" ceph_cli osd new "$uuid" 0
  mkdir "$dir/osd.0"
  step "ceph-osd --mkfs" ceph-osd --conf "$conf" --mkfs -i 0 --osd-uuid "$uuid"
  start_daemon osd.0 ceph-osd
  wait_for "osd.0 to be up" osd.0 osd_up
}

osd_up() { ceph_cli osd stat --format json | grep -q '"num_up_osds":1[,}]'; }

# `rbd pool init` also enables the rbd application on the pool.
create_pool() {
  step "ceph osd pool create rbd" ceph_cli osd pool create rbd 8 8 replicated
  step "rbd pool init" rbd_cli pool init rbd
}

# An image created, read back and removed: the PGs are active and I/O is served.
wait_rbd_ready() {
  wait_for "rbd create" osd.0 rbd_cli create rbd/cluster-sh-probe --size 1M
  step "rbd info" rbd_cli info rbd/cluster-sh-probe
  step "rbd rm" rbd_cli rm --no-progress rbd/cluster-sh-probe
}

on_start_exit() {
  local status=$?
  if ((status != 0 && cleanup_armed)); then
    stop_daemons
  fi
  rm -f "$step_out"
  return "$status"
}

# --- commands -------------------------------------------------------------------------

# DIR's absolute path; ceph.conf cannot quote, so refuse what it would misread.
set_dir() {
  [[ -n ${1:-} ]] || fail "usage: cluster.sh start|stop|pause|resume DIR"
  dir=$(realpath -m -- "$1")
  [[ $dir != *[[:space:]\$\#\;\\]* ]] || fail "DIR must not contain spaces or \$#;\\: $dir"
  conf=$dir/ceph.conf
}

cmd_start() {
  local tool
  set_dir "${1:-}"
  for tool in ceph ceph-mon ceph-osd ceph-authtool monmaptool rbd; do
    command -v "$tool" >/dev/null || fail "$tool not found (run: cluster.sh install)"
  done
  if live_pid "$dir/run/mon.a.pid" >/dev/null || live_pid "$dir/run/osd.0.pid" >/dev/null; then
    fail "a cluster is already running in $dir (cluster.sh stop $dir first)"
  fi
  if [[ -e $dir ]] && [[ ! -d $dir || -n $(ls -A "$dir") ]]; then
    fail "$dir exists and is not an empty directory (cluster.sh stop $dir removes a stopped one)"
  fi
  check_port_free "$mon_v2_port"
  check_port_free "$mon_v1_port"

  SECONDS=0
  mkdir -p "$dir/log" "$dir/run" "$dir/crash"
  touch "$dir/$marker"
  step_out=$(mktemp)
  cleanup_armed=1
  trap on_start_exit EXIT
  trap 'fail "interrupted"' INT TERM
  write_conf
  write_keyring
  start_mon
  start_osd
  create_pool
  wait_rbd_ready
  printf 'started in %ss\n' "$SECONDS" >>"$dir/log/setup.log"
  cleanup_armed=0
  printf '%s\n' "$conf"
}

cmd_stop() {
  set_dir "${1:-}"
  [[ -e $dir ]] || return 0
  [[ -d $dir ]] || fail "$dir is not a directory"
  if [[ ! -e $dir/$marker ]]; then
    # An empty DIR is harmless to remove; anything else was not made by start.
    rmdir -- "$dir" 2>/dev/null || fail "$dir was not made by cluster.sh start; not removing it"
    return 0
  fi
  stop_daemons
  rm -rf -- "$dir"
}

# Sends SIGNAL to both daemons; fails unless both run.
signal_daemons() {
  local name pid
  set_dir "${2:-}"
  for name in mon.a osd.0; do
    pid=$(live_pid "$dir/run/$name.pid") || fail "$name is not running in $dir"
    kill "-$1" "$pid"
  done
}

cmd_install() {
  local missing=() pkg log
  for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  log=$(mktemp --tmpdir cluster-sh-install.XXXXXX.log)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    "${missing[@]}"; } >"$log" 2>&1; then
    fail "apt-get install ${missing[*]} failed: $(last_line "$log") (log: $log)"
  fi
  rm -f "$log"
}

case "${1:-}" in
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  pause) signal_daemons STOP "${2:-}" ;;
  resume) signal_daemons CONT "${2:-}" ;;
  install) cmd_install ;;
  *) fail "usage: cluster.sh install | start DIR | stop DIR | pause DIR | resume DIR" ;;
esac
