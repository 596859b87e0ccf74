#!/usr/bin/env python3
"""The measuring half of Tests/Benchmarks/run.sh (which installs, builds and
creates the backing file, then runs this). Python standard library only.

Runs fio on the backing file and nvme-vfu-bench against nvme-vfu-server with
the same file, mem:SIZE and null:SIZE; repeats each configuration, quotes the
median, prints the table and writes the dated JSON and PNG.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

WORKLOADS = [
    {"name": "4k randread QD1", "rw": "randread", "bs": "4k", "iodepth": 1},
    {"name": "4k randread QD32", "rw": "randread", "bs": "4k", "iodepth": 32},
    {"name": "4k randwrite QD32", "rw": "randwrite", "bs": "4k", "iodepth": 32},
    {"name": "128k read QD8", "rw": "read", "bs": "128k", "iodepth": 8},
]

# Configuration name -> (what it is, server --backing or None for fio).
CONFIGS = [
    ("fio-file", "fio libaio O_DIRECT on the file (a: the backend's limit)"),
    ("vfu-file", "nvme-vfu-bench -> nvme-vfu-server --backing FILE (b)"),
    ("vfu-mem", "nvme-vfu-bench -> nvme-vfu-server --backing mem:SIZE (c)"),
    ("vfu-null", "nvme-vfu-bench -> nvme-vfu-server --backing null:SIZE (c)"),
    ("fio-uring", "fio io_uring O_DIRECT on the file, registered file, no fixed buffers (a')"),
    ("vfu-uring", "nvme-vfu-bench -> nvme-vfu-server --backing FILE,engine=io_uring (b')"),
    ("fio-rbd", "fio --ioengine=rbd on the RBD image, librbd cache off (a'')"),
    ("vfu-rbd", "nvme-vfu-bench -> nvme-vfu-server --backing rbd:POOL/IMAGE (b'')"),
]

# Which fio row each server row on the same file is compared with (b/a).
BASELINES = {"vfu-file": "fio-file", "vfu-uring": "fio-uring", "vfu-rbd": "fio-rbd"}

METRICS = ["iops", "mib_per_s", "lat_p50_us", "lat_p99_us", "server_cpu_s_per_mio",
           "server_cpu_percent", "client_cpu_percent", "other_cpu_cores", "steal_cores"]

# A run during which others used more than this many cores is "disturbed"
# and, with --retries, run again.
DISTURBED_CORES = 0.25


def log(message):
    print(message, file=sys.stderr, flush=True)


def read_text(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def loadavg():
    parts = read_text("/proc/loadavg").split()
    return [float(x) for x in parts[:3]] if len(parts) >= 3 else None


def cpu_times():
    """(busy, steal) seconds summed over all CPUs, from /proc/stat."""
    for line in read_text("/proc/stat").splitlines():
        if line.startswith("cpu "):
            v = [int(x) for x in line.split()[1:]]
            # user nice system idle iowait irq softirq steal (guest is in user)
            steal = v[7] if len(v) > 7 else 0
            busy = v[0] + v[1] + v[2] + v[5] + v[6] + steal
            ticks = os.sysconf("SC_CLK_TCK")
            return busy / ticks, steal / ticks
    return 0.0, 0.0


def busy_jiffies():
    return cpu_times()[0]


def wait_quiet(max_wait, threshold=0.15, interval=0.5):
    """Waits (up to max_wait s) until the machine is idle: less than
    `threshold` cores busy over `interval`. Returns (seconds waited, last busy)."""
    start = time.monotonic()
    announced = False
    while True:
        b0, t0 = busy_jiffies(), time.monotonic()
        time.sleep(interval)
        cores = (busy_jiffies() - b0) / (time.monotonic() - t0)
        waited = time.monotonic() - start
        if cores < threshold or waited >= max_wait:
            if announced:
                log(f"   ... waited {waited:.0f} s ({cores:.2f} cores busy now)")
            return waited, cores
        if not announced:
            log(f"   machine busy ({cores:.2f} cores used by others): waiting up to {max_wait:.0f} s")
            announced = True


def process_cpu(pid):
    """utime + stime of `pid` in seconds (/proc/PID/stat), or None."""
    text = read_text(f"/proc/{pid}/stat")
    if not text:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def top_processes(count=6):
    """The busiest processes right now (ps, %CPU over their lifetime is useless,
    so two /proc samples 1 s apart)."""
    def sample():
        result = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                cpu = process_cpu(entry)
                if cpu is not None:
                    result[entry] = cpu
        return result
    first = sample()
    time.sleep(1)
    second = sample()
    busy = []
    for pid, cpu in second.items():
        delta = cpu - first.get(pid, cpu)
        if delta >= 0.02 and int(pid) != os.getpid():
            comm = read_text(f"/proc/{pid}/comm").strip()
            busy.append({"pid": int(pid), "comm": comm, "cpu_percent": round(delta * 100, 1)})
    busy.sort(key=lambda p: -p["cpu_percent"])
    return busy[:count]


def machine_info():
    model = ""
    for line in read_text("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    os_name = ""
    for line in read_text("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            os_name = line.split("=", 1)[1].strip('"')

    def version(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
            return out.strip().splitlines()[0] if out.strip() else ""
        except (OSError, subprocess.SubprocessError):
            return ""
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "os": os_name,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "swift": version(["swift", "--version"]),
        "fio": version(["fio", "--version"]),
    }


def run_child(argv, timeout):
    """Runs argv; returns (stdout, stderr, returncode, child CPU seconds)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                proc.returncode, usage.ru_utime + usage.ru_stime)


class Server:
    """nvme-vfu-server pinned to one CPU, on a socket in a private directory."""

    def __init__(self, args, backing, poll, workdir, tag, doorbells="mapped", extra=()):
        self.socket = os.path.join(workdir, f"{tag}.sock")
        self.log_path = os.path.join(workdir, f"{tag}.log")
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(args.server_cpu), os.path.join(args.bin, "nvme-vfu-server"),
             "--socket", self.socket, "--backing", backing, "--poll", poll,
             "--doorbells", doorbells, "--log-level", "warning", *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server for {backing} did not start: {read_text(self.log_path)}")
            time.sleep(0.02)

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def bench_perf(args, server, workload, extra=(), runtime=None, completion="poll"):
    """One nvme-vfu-bench perf run; `extra` are more bench flags (the wake
    rows' --thinktime, --dbbuf), `runtime` overrides args.runtime,
    `completion` is poll (spin on the CQ) or interrupt (sleep on MSI-X)."""
    runtime = args.runtime if runtime is None else runtime
    argv = [os.path.join(args.bin, "nvme-vfu-bench"), "perf", "--socket", server.socket,
            "--rw", workload["rw"], "--bs", workload["bs"], "--iodepth", str(workload["iodepth"]),
            "--queues", "1", "--runtime", str(runtime), "--ramp", str(args.ramp),
            "--cpu", str(args.client_cpu), "--completion", completion, "--server-pid", str(server.pid),
            "--output-format", "json", *extra]
    (busy0, steal0), server0, t0 = cpu_times(), process_cpu(server.pid), time.monotonic()
    out, err, code, child_cpu = run_child(argv, runtime + args.ramp + 120)
    (busy1, steal1), server1, t1 = cpu_times(), process_cpu(server.pid), time.monotonic()
    if code != 0:
        raise RuntimeError(f"nvme-vfu-bench exit {code}: {err.strip()}")
    r = json.loads(out.strip().splitlines()[-1])["nvme-vfu"]
    server_delta = (server1 or 0) - (server0 or 0)
    return {
        "iops": r["iops"], "mib_per_s": r["mib_per_s"], "ios": r["ios"], "errors": r["errors"],
        "runtime_s": r["runtime_s"], "lat_mean_us": r["lat_mean_us"],
        "lat_p50_us": r["lat_p50_us"], "lat_p99_us": r["lat_p99_us"],
        "lat_p999_us": r["lat_p999_us"], "lat_max_us": r["lat_max_us"],
        "client_cpu_percent": r["cpu_percent"],
        "server_cpu_s": r["server_cpu_s"],
        "server_cpu_s_per_mio": r["server_cpu_s_per_mio"],
        "server_cpu_percent": (r["server_cpu_s"] / r["runtime_s"] * 100
                               if r["server_cpu_s"] is not None and r["runtime_s"] else None),
        "dbbuf": r.get("dbbuf"), "doorbell_rings_per_io": r.get("doorbell_rings_per_io"),
        # Everything else the machine did meanwhile (other processes,
        # interrupts, hypervisor steal), in cores (0 = quiet).
        "other_cpu_cores": max(0.0, (busy1 - busy0 - server_delta - child_cpu) / (t1 - t0)),
        "steal_cores": (steal1 - steal0) / (t1 - t0),
    }


def prefill(args, server):
    """Writes the whole namespace once, sequentially. mem:SIZE starts as
    calloc'd memory, whose untouched pages all read from the kernel's one
    shared zero page (always in cache): reads before any write would not
    measure memory at all."""
    runtime = 1
    while True:
        argv = [os.path.join(args.bin, "nvme-vfu-bench"), "perf", "--socket", server.socket,
                "--rw", "write", "--bs", "128k", "--iodepth", "8", "--runtime", str(runtime),
                "--ramp", "0", "--cpu", str(args.client_cpu), "--output-format", "json"]
        out, err, code, _ = run_child(argv, runtime + 120)
        if code != 0:
            raise RuntimeError(f"prefill: nvme-vfu-bench exit {code}: {err.strip()}")
        written = json.loads(out.strip().splitlines()[-1])["nvme-vfu"]["ios"] * (128 << 10)
        if written >= args.size_bytes or runtime >= 64:
            return written
        runtime *= 2


def fio_run(args, workload, engine="libaio"):
    # Like the server's io_uring engine: the file registered, guest buffers not.
    # Like the server's RBD backend: librbd's cache off (the conf run.sh
    # writes says so for every client), the image as the target.
    if engine == "rbd":
        pool, image = args.rbd_image.split("/", 1)
        target = ["--ioengine=rbd", "--clientname=admin", f"--pool={pool}", f"--rbdname={image}"]
        engine_args = []
    else:
        target = [f"--filename={args.file}", "--direct=1"]
        engine_args = ["--ioengine=io_uring", "--registerfiles=1"] if engine == "io_uring" \
            else ["--ioengine=libaio"]
    with tempfile.NamedTemporaryFile(suffix=".json") as output:
        argv = ["taskset", "-c", str(args.server_cpu), "fio", "--name=bench",
                *target, f"--size={args.size_bytes}",
                *engine_args, f"--rw={workload['rw']}", f"--bs={workload['bs']}",
                f"--iodepth={workload['iodepth']}", "--numjobs=1", "--time_based",
                f"--runtime={args.runtime}", f"--ramp_time={args.ramp}", "--norandommap",
                "--randrepeat=0", "--invalidate=1", f"--cpus_allowed={args.server_cpu}",
                "--lat_percentiles=1", "--percentile_list=50:99", "--output-format=json",
                f"--output={output.name}"]
        (busy0, steal0), t0 = cpu_times(), time.monotonic()
        out, err, code, child_cpu = run_child(argv, args.runtime + args.ramp + 120)
        (busy1, steal1), t1 = cpu_times(), time.monotonic()
        if code != 0:
            raise RuntimeError(f"fio exit {code}: {err.strip()} {out.strip()}")
        text = open(output.name).read()
    report = json.loads(text[text.index("{"):])
    job = report["jobs"][0]
    side = job["write" if workload["rw"].endswith("write") else "read"]
    percentiles = side["lat_ns"].get("percentile", {})

    def pct(key):
        value = percentiles.get(key)
        return value / 1000 if value is not None else None
    runtime_s = side["runtime"] / 1000
    return {
        "iops": side["iops"], "mib_per_s": side["bw_bytes"] / 2**20, "ios": side["total_ios"],
        "errors": job.get("error", 0), "runtime_s": runtime_s,
        "lat_mean_us": side["lat_ns"]["mean"] / 1000,
        "lat_p50_us": pct("50.000000"), "lat_p99_us": pct("99.000000"),
        "lat_p999_us": None, "lat_max_us": side["lat_ns"]["max"] / 1000,
        "client_cpu_percent": job["usr_cpu"] + job["sys_cpu"],
        "server_cpu_s": None, "server_cpu_s_per_mio": None, "server_cpu_percent": None,
        "other_cpu_cores": max(0.0, (busy1 - busy0 - child_cpu) / (t1 - t0)),
        "steal_cores": (steal1 - steal0) / (t1 - t0),
    }


def idle_run(args, workdir, doorbells="mapped"):
    server = Server(args, args.file, "adaptive", workdir, f"idle-{doorbells}", doorbells)
    try:
        argv = ["taskset", "-c", str(args.client_cpu), os.path.join(args.bin, "nvme-vfu-bench"),
                "idle", "--socket", server.socket, "--seconds", str(args.idle_seconds),
                "--server-pid", str(server.pid)]
        out, err, code, _ = run_child(argv, args.idle_seconds + 60)
        if code != 0:
            raise RuntimeError(f"nvme-vfu-bench idle exit {code}: {err.strip()}")
        return json.loads(out.strip().splitlines()[-1])
    finally:
        server.stop()


def print_checks(checks, failures):
    """Each target, met or not, then each failed run (bench.py and wake.py)."""
    for check in checks:
        measured = check["measured"]
        shown = "-" if measured is None else (f"{measured:,.0f}" if measured > 100 else f"{measured:.2f}")
        verdict = {True: "met", False: "MISSED", None: "not measured"}[check["met"]]
        print(f"  [{verdict}] {check['target']}: {shown}")
    for failure in failures:
        print(f"  failed: {failure}")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, kind):
    if value is None:
        return "-"
    if kind == "iops":
        return f"{value / 1e6:.2f}M" if value >= 1e6 else f"{value / 1e3:.1f}k"
    if kind == "mib":
        return f"{value:.0f}" if value >= 100 else f"{value:.1f}"
    if kind == "us":
        return f"{value:.0f}" if value >= 1000 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    if kind == "cpu":
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def table(results, repeats):
    header = (f"{'workload':<18} {'config':<9} {'IOPS':>8} {'MiB/s':>7} {'p50 us':>7} "
              f"{'p99 us':>7} {'srv CPU s/M IO':>14} {'b/a':>5}")
    lines = [header, "-" * len(header)]
    for workload in WORKLOADS:
        per = results[workload["name"]]
        for index, (config, _) in enumerate(CONFIGS):
            m = per[config]["median"]
            ratio = ""
            fio = per[BASELINES[config]]["median"]["iops"] if config in BASELINES else None
            if fio and m["iops"]:
                ratio = f"{m['iops'] / fio:.2f}"
            name = workload["name"] if index == 0 else ""
            lines.append(
                f"{name:<18} {config:<9} {fmt(m['iops'], 'iops'):>8} {fmt(m['mib_per_s'], 'mib'):>7} "
                f"{fmt(m['lat_p50_us'], 'us'):>7} {fmt(m['lat_p99_us'], 'us'):>7} "
                f"{fmt(m['server_cpu_s_per_mio'], 'cpu'):>14} {ratio:>5}".rstrip())
    kept = [r for w in WORKLOADS for c, _ in CONFIGS for r in results[w["name"]][c]["runs"]]
    disturbed = sum(1 for r in kept if r.get("disturbed"))
    lines.append(f"median of {repeats}; b/a = vfu-file IOPS / fio-file IOPS (vfu-uring / "
                 "fio-uring for io_uring, vfu-rbd / fio-rbd for RBD); srv CPU = server "
                 "utime+stime over the measured window per million I/Os")
    lines.append(f"runs disturbed by other load (> {DISTURBED_CORES} cores) among those kept: "
                 f"{disturbed} of {len(kept)}")
    return "\n".join(lines)


def targets(results, idle_percent):
    def m(workload, config, key):
        return results[workload][config]["median"][key]
    checks = []

    def check(target, measured, met):
        checks.append({"target": target, "measured": measured,
                       "met": None if measured is None else met})
    for config in ("vfu-mem", "vfu-null"):
        value = m("4k randread QD32", config, "iops")
        check(f"{config} 4k randread QD32 >= 1.5M IOPS", value, value is not None and value >= 1.5e6)
    for config in ("vfu-mem", "vfu-null"):
        value = m("4k randread QD1", config, "lat_p50_us")
        check(f"{config} 4k randread QD1 p50 <= 1.2 us", value, value is not None and value <= 1.2)
    fio, vfu = m("4k randread QD32", "fio-file", "iops"), m("4k randread QD32", "vfu-file", "iops")
    ratio = vfu / fio if fio and vfu else None
    check("b/a (vfu-file / fio-file) 4k randread QD32 >= 0.90", ratio,
          ratio is not None and ratio >= 0.90)
    uring, aio = m("4k randread QD32", "vfu-uring", "iops"), vfu
    ratio = uring / aio if uring and aio else None
    check("vfu-uring / vfu-file 4k randread QD32 >= 1.00 (io_uring at least libaio)", ratio,
          ratio is not None and ratio >= 1.0)
    fio, vfu = m("4k randread QD32", "fio-rbd", "iops"), m("4k randread QD32", "vfu-rbd", "iops")
    ratio = vfu / fio if fio and vfu else None
    check("vfu-rbd / fio-rbd 4k randread QD32 >= 0.90", ratio, ratio is not None and ratio >= 0.9)
    check("idle attached client: server CPU <= 2% of a core", idle_percent,
          idle_percent is not None and idle_percent <= 2)
    return checks


def plot(results, path, title):
    """Grouped bars of median IOPS (log scale), one group per workload."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        log("gnuplot not found: no plot")
        return False
    colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]
    width = 0.8 / len(CONFIGS)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        with open(data, "w") as f:
            for index, (config, _) in enumerate(CONFIGS):
                f.write(f"# {config}\n")
                for x, workload in enumerate(WORKLOADS):
                    value = results[workload["name"]][config]["median"]["iops"] or 0
                    label = fmt(value, "iops") if value else "-"
                    f.write(f"{x + (index - (len(CONFIGS) - 1) / 2) * width:.3f} {max(value, 1):.1f} "
                            f"\"{label}\"\n")
                f.write("\n\n")
        xtics = ", ".join(f'"{w["name"]}" {x}' for x, w in enumerate(WORKLOADS))
        plots = []
        for index, (config, _) in enumerate(CONFIGS):
            plots.append(f"'{data}' index {index} using 1:2 with boxes fill solid 0.85 "
                         f"lc rgb '{colors[index]}' title '{config}'")
            plots.append(f"'{data}' index {index} using 1:($2*1.12):3 with labels rotate by 90 "
                         "left font ',8' notitle")
        script = f"""
set terminal pngcairo size 1100,620 font ',10'
set output '{path}'
set title "{title}"
set ylabel 'IOPS (median, log scale)'
set logscale y
set yrange [1000:*]
set format y '%.0s%c'
set xrange [-0.6:{len(WORKLOADS) - 0.4}]
set xtics ({xtics}) nomirror
set grid ytics
set key top right
set boxwidth {width * 0.95}
plot {", ".join(plots)}
"""
        proc = subprocess.run([gnuplot], input=script, text=True, capture_output=True)
        if proc.returncode != 0 or "pngcairo" in proc.stderr:
            proc = subprocess.run([gnuplot], input=script.replace("pngcairo", "png"),
                                  text=True, capture_output=True)
        if proc.returncode != 0:
            log(f"gnuplot failed: {proc.stderr.strip()}")
            return False
    return True


def parse_size(text):
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    text = text.lower()
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def add_run_arguments(parser, ramp, command="Tests/Benchmarks/run.sh"):
    """The arguments run.sh passes to bench.py, wake.py and qos.py alike."""
    parser.add_argument("--bin", required=True)
    parser.add_argument("--size", default="1G")
    parser.add_argument("--runtime", type=float, default=10)
    parser.add_argument("--ramp", type=float, default=ramp)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", required=True)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--wait-quiet", type=float, default=60)
    parser.add_argument("--command", default=command)


def finish_run_arguments(args):
    """Derived values of add_run_arguments' arguments."""
    args.size_bytes = parse_size(args.size)
    # Whole numbers print as such in the commands (fio wants integers).
    args.runtime = int(args.runtime) if args.runtime == int(args.runtime) else args.runtime
    args.ramp = int(args.ramp) if args.ramp == int(args.ramp) else args.ramp


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser, ramp=2)
    parser.add_argument("--file", required=True)
    parser.add_argument("--fstype", default="")
    parser.add_argument("--rbd-image", default="",
                        help="POOL/IMAGE for fio-rbd and vfu-rbd, on the cluster CEPH_CONF names")
    parser.add_argument("--idle-seconds", type=float, default=10)
    parser.add_argument("--quick", type=int, default=0)
    parser.add_argument("--retries", type=int, default=1)
    parser.add_argument("--configs",
                        default=",".join(c for c, _ in CONFIGS if not c.endswith("-rbd")),
                        help="comma-separated subset of " + ", ".join(c for c, _ in CONFIGS))
    parser.add_argument("--no-idle", action="store_true", help="skip the idle measurement")
    args = parser.parse_args()
    finish_run_arguments(args)
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in args.configs if c not in dict(CONFIGS)]
    if unknown:
        parser.error(f"unknown configuration {unknown}; known: {[c for c, _ in CONFIGS]}")

    started = time.time()
    machine = machine_info()
    machine["load_average_start"] = loadavg()
    log(f"== machine: {machine['nproc']} CPUs, {machine['cpu_model']}, kernel {machine['kernel']}, "
        f"load {machine['load_average_start']}")
    machine["busy_processes_start"] = top_processes()
    if machine["busy_processes_start"]:
        log("== busy before start: " + ", ".join(
            f"{p['comm']} {p['cpu_percent']}%" for p in machine["busy_processes_start"]))

    if any(c.endswith("-rbd") for c in args.configs) and not (
            args.rbd_image and os.environ.get("CEPH_CONF")):
        parser.error("fio-rbd and vfu-rbd need --rbd-image POOL/IMAGE and CEPH_CONF")
    backings = {"vfu-file": args.file, "vfu-mem": f"mem:{args.size}",
                "vfu-null": f"null:{args.size}", "vfu-uring": f"{args.file},engine=io_uring",
                "vfu-rbd": f"rbd:{args.rbd_image},conf={os.environ.get('CEPH_CONF', '')}"}
    runs = {w["name"]: {c: [] for c, _ in CONFIGS} for w in WORKLOADS}
    failures = []
    workdir = tempfile.mkdtemp(prefix="nvme-vfu-bench.")
    total = args.repeats * len(args.configs) * len(WORKLOADS)
    done = 0
    try:
        # Repeats outermost, so a burst of load elsewhere hits one repeat of
        # every configuration rather than every repeat of one.
        for repeat in range(args.repeats):
            for config, _ in CONFIGS:
                if config not in args.configs:
                    continue
                server = None
                try:
                    if config == "vfu-rbd":
                        # Nothing spins on RBD: the OSD and monitor share these
                        # two cores, and a busy server plus a polling client
                        # would take both from them (fio's rbd engine sleeps
                        # on librbd's completions too). So the default server
                        # (adaptive, trapped doorbells) and a client that
                        # uses shadow doorbells and sleeps on its MSI-X.
                        server = Server(args, backings[config], "adaptive", workdir, config,
                                        "trapped")
                    elif not config.startswith("fio-"):
                        server = Server(args, backings[config], "busy", workdir, config)
                    if config == "vfu-mem":
                        try:
                            written = prefill(args, server)
                            log(f"   vfu-mem: wrote {written / 2**30:.1f} GiB sequentially first "
                                "(untouched calloc memory reads from the zero page)")
                        except (RuntimeError, ValueError, KeyError) as error:
                            failures.append(f"repeat {repeat + 1} vfu-mem prefill: {error}")
                            log(f"   vfu-mem prefill FAILED: {error}")
                    for workload in WORKLOADS:
                        done += 1
                        label = f"[{done}/{total}] repeat {repeat + 1} {config:<8} {workload['name']}"
                        result = None
                        for attempt in range(args.retries + 1):
                            waited = 0.0
                            if args.wait_quiet > 0:
                                waited, _ = wait_quiet(args.wait_quiet)
                            load = loadavg()
                            try:
                                # Mapped doorbells, no shadow buffers: the
                                # path these rows measured before (and SPDK's
                                # initiator's); wake.py has the others.
                                engine = {"fio-uring": "io_uring", "fio-rbd": "rbd"}.get(
                                    config, "libaio")
                                if server is None:
                                    result = fio_run(args, workload, engine)
                                elif config == "vfu-rbd":
                                    result = bench_perf(args, server, workload,
                                                        completion="interrupt")
                                else:
                                    result = bench_perf(args, server, workload,
                                                        ["--dbbuf", "off"])
                            except (RuntimeError, ValueError, KeyError, OSError) as error:
                                failures.append(f"{label}: {error}")
                                log(f"{label}: FAILED {error}")
                                result = None
                                break
                            # On RBD the OSD's own CPU is the load under test, not a
                            # disturbance (it shares these cores).
                            disturbed = (result["other_cpu_cores"] > DISTURBED_CORES
                                         and not config.endswith("-rbd"))
                            result.update({"repeat": repeat + 1, "attempt": attempt + 1,
                                           "waited_for_quiet_s": round(waited, 1),
                                           "load_average": load, "disturbed": disturbed})
                            log(f"{label}: {fmt(result['iops'], 'iops')} IOPS, p50 "
                                f"{fmt(result['lat_p50_us'], 'us')} us, others used "
                                f"{result['other_cpu_cores']:.2f} cores"
                                + (" (disturbed)" if result["disturbed"] else ""))
                            if not result["disturbed"]:
                                break
                        if result is not None:
                            runs[workload["name"]][config].append(result)
                finally:
                    if server:
                        server.stop()
        idle = []
        for repeat in range(0 if args.no_idle else args.repeats):
            if args.wait_quiet > 0:
                wait_quiet(args.wait_quiet)
            try:
                r = idle_run(args, workdir)
                idle.append(r)
                log(f"idle {repeat + 1}: server {r['server_cpu_percent']}% of a core "
                    f"over {r['seconds']} s")
            except (RuntimeError, ValueError, OSError) as error:
                failures.append(f"idle {repeat + 1}: {error}")
                log(f"idle {repeat + 1}: FAILED {error}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    results = {}
    for workload in WORKLOADS:
        results[workload["name"]] = {}
        for config, _ in CONFIGS:
            entries = runs[workload["name"]][config]
            results[workload["name"]][config] = {
                "median": {k: median([e.get(k) for e in entries]) for k in METRICS},
                "runs": entries,
            }
        fio = results[workload["name"]]["fio-file"]["median"]["iops"]
        vfu = results[workload["name"]]["vfu-file"]["median"]["iops"]
        results[workload["name"]]["ratio_b_over_a"] = vfu / fio if fio and vfu else None
        fio = results[workload["name"]]["fio-uring"]["median"]["iops"]
        vfu = results[workload["name"]]["vfu-uring"]["median"]["iops"]
        results[workload["name"]]["ratio_uring_b_over_a"] = vfu / fio if fio and vfu else None
        fio = results[workload["name"]]["fio-rbd"]["median"]["iops"]
        vfu = results[workload["name"]]["vfu-rbd"]["median"]["iops"]
        results[workload["name"]]["ratio_rbd_b_over_a"] = vfu / fio if fio and vfu else None
    idle_percent = median([r["server_cpu_percent"] for r in idle])

    machine["load_average_end"] = loadavg()
    machine["busy_processes_end"] = top_processes()
    text = table(results, args.repeats)
    checks = targets(results, idle_percent)
    day = time.strftime("%Y-%m-%d", time.localtime(started))
    document = {
        "date": day,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "command": args.command,
        "settings": {"runtime_s": args.runtime, "ramp_s": args.ramp, "repeats": args.repeats,
                     "file": args.file, "rbd_image": args.rbd_image or None,
                     "file_size": args.size, "file_fstype": args.fstype,
                     "server_cpu": args.server_cpu, "client_cpu": args.client_cpu,
                     "server_poll": "busy (throughput runs), adaptive (idle, and vfu-rbd)",
                     "server_doorbells": "mapped, client --dbbuf off (throughput and idle "
                                         "runs; wake.py has the trapped and shadowed ones); "
                                         "vfu-rbd: trapped, shadow doorbells, client "
                                         "--completion interrupt",
                     "queues": 1, "completion": "poll", "quick": bool(args.quick),
                     "configs": args.configs, "idle_measured": not args.no_idle,
                     "mem_prefilled": "each vfu-mem server: the whole namespace written "
                                      "sequentially (128k) before its workloads",
                     "wait_quiet_s": args.wait_quiet, "retries": args.retries,
                     "disturbed_threshold_cores": DISTURBED_CORES},
        "machine": machine,
        "configurations": {c: d for c, d in CONFIGS},
        "workloads": WORKLOADS,
        "results": results,
        "idle": {"seconds": args.idle_seconds, "runs": idle,
                 "server_cpu_percent_median": idle_percent},
        "targets": checks,
        "failures": failures,
        "table": text,
    }
    os.makedirs(args.out, exist_ok=True)
    json_path = os.path.join(args.out, f"benchmark-{day}.json")
    png_path = os.path.join(args.out, f"benchmark-{day}.png")
    with open(json_path, "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")
    title = (f"nvme-vfu, {day}: {machine['nproc']} x {machine['cpu_model']}, "
             f"{args.runtime} s x {args.repeats}, median")
    plot(results, png_path, title)

    print(text)
    print()
    print(f"idle attached client, --poll adaptive, {args.idle_seconds} s: server "
          f"{fmt(idle_percent, 'cpu')}% of a core (median of {len(idle)})")
    print(f"machine: {machine['nproc']} CPUs, {machine['cpu_model']}, kernel {machine['kernel']}; "
          f"load average start {machine['load_average_start']}, end {machine['load_average_end']}")
    print()
    print_checks(checks, failures)
    print(f"\nwrote {json_path}, {png_path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
