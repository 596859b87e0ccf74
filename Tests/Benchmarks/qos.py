#!/usr/bin/env python3
"""The operations half of Tests/Benchmarks/run.sh: per-namespace QoS and the
metrics file, measured with nvme-vfu-bench against the default server
(--poll adaptive --doorbells trapped, client with shadow doorbells) on
mem:SIZE, server and client pinned to separate CPUs, each row REPEATS times
(median quoted), a fresh server per run. Python standard library only;
helpers shared with bench.py.

Rows:
  qos-iops   4k randread QD8 with set_qos --iops LIMIT (two limits): IOPS
             against the limit
  qos-bw     128k randread QD8 with set_qos --bytes-per-second LIMIT: MiB/s
             against the limit
  free       the same loads with no limit (what the limit is cut from)
  metrics    4k randread QD32 with and without --metrics-file rewritten every
             second: IOPS side by side; and get_stats' sampled read latency
             p50/p99 against the client's own (HDR histogram) for that run
Limits are set on the control socket (nvme-vfu-ctl) after the server starts
and before the load, as an operator would. Writes
OUT/benchmark-qos-YYYY-MM-DD.json and prints a table.
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

from bench import (Server, add_run_arguments, bench_perf, finish_run_arguments, loadavg, log,
                   machine_info, median, print_checks, top_processes, wait_quiet)

QD8_4K = {"name": "4k randread QD8", "rw": "randread", "bs": "4k", "iodepth": 8}
QD8_128K = {"name": "128k randread QD8", "rw": "randread", "bs": "128k", "iodepth": 8}
QD32_4K = {"name": "4k randread QD32", "rw": "randread", "bs": "4k", "iodepth": 32}
DEFAULT_CLIENT = ["--dbbuf", "on"]

# row -> (workload, set_qos parameters or None, metrics file or not)
ROWS = {
    "4k randread QD8, no limit": (QD8_4K, None, False),
    "4k randread QD8, iops 20000": (QD8_4K, {"iops": 20000}, False),
    "4k randread QD8, iops 2000": (QD8_4K, {"iops": 2000}, False),
    "128k randread QD8, no limit": (QD8_128K, None, False),
    "128k randread QD8, 200 MiB/s": (QD8_128K, {"bytes_per_second": 200 << 20}, False),
    "4k randread QD32, no metrics file": (QD32_4K, None, False),
    "4k randread QD32, metrics file every 1 s": (QD32_4K, None, True),
}


def ctl(args, control, method, params):
    argv = [os.path.join(args.bin, "nvme-vfu-ctl"), "--control", control, method]
    for key, value in params.items():
        argv += [f"--{key}", str(value)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"nvme-vfu-ctl {method}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def run_row(args, workdir, name, runs, failures):
    workload, qos, metrics = ROWS[name]
    tag = f"qos-{list(ROWS).index(name)}-{len(runs)}"
    control = os.path.join(workdir, f"{tag}.ctl")
    metrics_path = os.path.join(workdir, f"{tag}.prom")
    extra = ["--control", control]
    if metrics:
        extra += ["--metrics-file", metrics_path, "--metrics-interval", "1"]
    if args.wait_quiet > 0:
        wait_quiet(args.wait_quiet)
    server = Server(args, f"mem:{args.size}", "adaptive", workdir, tag, "trapped", extra)
    try:
        # No wait: Server waits for the vfio-user socket, bound after the control one.
        if qos:
            ctl(args, control, "set_qos", {"nsid": 1, **qos})
        r = bench_perf(args, server, workload, DEFAULT_CLIENT)
        stats = ctl(args, control, "get_stats", {})
        ns = stats["namespaces"][0]
        r["server_read_p50_us"] = ns["read_latency_us"]["p50"]
        r["server_read_p99_us"] = ns["read_latency_us"]["p99"]
        r["server_read_samples"] = ns["read_latency_us"]["samples"]
        if qos:
            r["throttled_commands"] = ctl(args, control, "get_qos", {"nsid": 1})[
                "namespaces"][0]["throttled_commands"]
        if metrics:
            text = open(metrics_path, encoding="utf-8").read()
            r["metrics_file_bytes"] = len(text)
            r["metrics_file_lines"] = len(text.splitlines())
        runs.append(r)
        log(f"   {name}: {r['iops']:,.0f} IOPS, {r['mib_per_s']:.1f} MiB/s, p50 "
            f"{r['lat_p50_us']} us (server's sample {r['server_read_p50_us']} us)")
    except (RuntimeError, ValueError, OSError, KeyError, subprocess.SubprocessError) as error:
        failures.append(f"{name}: {error}")
        log(f"   {name}: FAILED {error}")
    finally:
        server.stop()


def summary(runs):
    keys = ["iops", "mib_per_s", "lat_p50_us", "lat_p99_us", "server_read_p50_us",
            "server_read_p99_us", "server_cpu_percent", "throttled_commands",
            "metrics_file_bytes", "metrics_file_lines"]
    return {k: median([r.get(k) for r in runs]) for k in keys}


def fmt(value, digits=1):
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 1000 else f"{value:.{digits}f}"


def table(results):
    lines = [f"{'row':<42} {'IOPS':>9} {'MiB/s':>8} {'p50 us':>7} {'p99 us':>7} "
             f"{'srv p50':>7} {'srv p99':>7} {'srv CPU %':>9}"]
    for name in ROWS:
        m = results[name]["median"]
        lines.append(f"{name:<42} {fmt(m['iops']):>9} {fmt(m['mib_per_s']):>8} "
                     f"{fmt(m['lat_p50_us']):>7} {fmt(m['lat_p99_us']):>7} "
                     f"{fmt(m['server_read_p50_us']):>7} {fmt(m['server_read_p99_us']):>7} "
                     f"{fmt(m['server_cpu_percent']):>9}")
    return "\n".join(lines)


def targets(results):
    checks = []

    def m(name, key):
        return results[name]["median"][key]
    for name, (_, qos, _) in ROWS.items():
        if not qos:
            continue
        if "iops" in qos:
            measured, limit = m(name, "iops"), qos["iops"]
        else:
            measured, limit = m(name, "mib_per_s"), qos["bytes_per_second"] / 2**20
        ratio = measured / limit if measured else None
        checks.append({"target": f"{name}: within 10% of the limit", "measured": ratio,
                       "met": None if ratio is None else 0.9 <= ratio <= 1.1})
    free, with_file = (m("4k randread QD32, no metrics file", "iops"),
                       m("4k randread QD32, metrics file every 1 s", "iops"))
    ratio = with_file / free if free and with_file else None
    checks.append({"target": "4k randread QD32: metrics file every 1 s >= 0.95x without",
                   "measured": ratio, "met": None if ratio is None else ratio >= 0.95})
    return checks


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser, ramp=2, command="Tests/Benchmarks/run.sh --qos-only")
    args = parser.parse_args()
    finish_run_arguments(args)

    started = time.time()
    machine = machine_info()
    machine["load_average_start"] = loadavg()
    machine["busy_processes_start"] = top_processes()
    runs = {name: [] for name in ROWS}
    failures = []
    workdir = tempfile.mkdtemp(prefix="nvme-vfu-qos.")
    try:
        for repeat in range(args.repeats):
            log(f"== qos and metrics rows, repeat {repeat + 1} of {args.repeats}")
            for name in ROWS:
                run_row(args, workdir, name, runs[name], failures)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    results = {name: {"runs": runs[name], "median": summary(runs[name])} for name in ROWS}
    checks = targets(results)
    machine["load_average_end"] = loadavg()
    report = {
        "date": time.strftime("%Y-%m-%d", time.gmtime(started)),
        "command": args.command, "machine": machine,
        "setup": {"server": "nvme-vfu-server --backing mem:SIZE --poll adaptive --doorbells "
                            "trapped --control PATH, pinned", "client": "nvme-vfu-bench perf "
                            "--dbbuf on --completion poll, pinned",
                  "server_cpu": args.server_cpu, "client_cpu": args.client_cpu,
                  "runtime_s": args.runtime, "ramp_s": args.ramp, "repeats": args.repeats,
                  "size": args.size},
        "results": results, "targets": checks, "failures": failures,
    }
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"benchmark-qos-{report['date']}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1, sort_keys=True)
    print(table(results))
    print_checks(checks, failures)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
