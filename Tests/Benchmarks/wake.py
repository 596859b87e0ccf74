#!/usr/bin/env python3
"""The doorbell half of Tests/Benchmarks/run.sh: how fast an idle server
answers, what an idle server costs, and what trapped doorbells cost a busy
one. Python standard library only; helpers shared with bench.py.

Rows, each REPEATS times (median quoted), server and client pinned to
separate CPUs, all on mem:SIZE (prefilled, so reads touch real memory):
  sparse  4k randread QD1 after 2, 20 and 200 ms of think time, default
          (--poll adaptive --doorbells trapped, client with shadow doorbells)
          against --poll busy --doorbells mapped: p50 and p99
  qd32    4k randread QD32: mapped (--poll busy) against trapped with shadow
          doorbells and EventIdx (the default server) and trapped without
  idle    an attached idle client, --poll adaptive, for each doorbell mode:
          server CPU
  floor   wake_probe.c (built with gcc): a thread asleep in ppoll with no
          timeout, as the reactor is, woken by a socket write from the other
          CPU after the same quiet spells: what any sleeping server pays here
Writes OUT/benchmark-wake-YYYY-MM-DD.json and prints a table.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from bench import (Server, add_run_arguments, bench_perf, finish_run_arguments, idle_run,
                   loadavg, log, machine_info, median, prefill, print_checks, top_processes,
                   wait_quiet)

THINK_MS = [2, 20, 200]
QD1 = {"name": "4k randread QD1", "rw": "randread", "bs": "4k", "iodepth": 1}
QD32 = {"name": "4k randread QD32", "rw": "randread", "bs": "4k", "iodepth": 32}

# Server setups: name -> (poll, doorbells, extra bench flags, what it is).
SETUPS = {
    "default": ("adaptive", "trapped", ["--dbbuf", "on"],
                "--poll adaptive --doorbells trapped, client with shadow doorbells"),
    "busy": ("busy", "mapped", ["--dbbuf", "off"], "--poll busy --doorbells mapped"),
    "trapped-no-dbbuf": ("adaptive", "trapped", ["--dbbuf", "off"],
                         "--poll adaptive --doorbells trapped, client without shadow doorbells"),
}

ROWS = ([{"row": f"4k randread QD1 after {ms} ms", "workload": QD1, "think_ms": ms,
          "setups": ["default", "busy"]} for ms in THINK_MS]
        + [{"row": "4k randread QD32", "workload": QD32, "think_ms": 0,
            "setups": ["busy", "default", "trapped-no-dbbuf"]}])


def sparse_runtime(args, think_ms):
    """Long enough for about 100 sparse I/Os (p99 then means something)."""
    return max(args.runtime, round(think_ms * 100 / 1000))


def run_row(args, workdir, row, setup, results, failures):
    poll, doorbells, extra, _ = SETUPS[setup]
    server = Server(args, f"mem:{args.size}", poll, workdir, f"{setup}-{row['think_ms']}",
                    doorbells)
    try:
        prefill(args, server)
        flags = list(extra)
        runtime = args.runtime
        if row["think_ms"]:
            flags += ["--thinktime", str(row["think_ms"] * 1000), "--thinktime_blocks", "1"]
            runtime = sparse_runtime(args, row["think_ms"])
        if args.wait_quiet > 0:
            wait_quiet(args.wait_quiet)
        result = bench_perf(args, server, row["workload"], flags, runtime)
        result["load_average"] = loadavg()
        results.append(result)
        log(f"   {row['row']:<30} {setup:<17} p50 {result['lat_p50_us']:.1f} us, p99 "
            f"{result['lat_p99_us']:.1f} us, {result['iops']:,.0f} IOPS, rings/io "
            f"{result.get('doorbell_rings_per_io')}, others {result['other_cpu_cores']:.2f} cores")
    except (RuntimeError, ValueError, KeyError, OSError) as error:
        failures.append(f"{row['row']} {setup}: {error}")
        log(f"   {row['row']} {setup}: FAILED {error}")
    finally:
        server.stop()


def build_probe(workdir):
    """Compiles wake_probe.c next to this script; the binary, or None."""
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wake_probe.c")
    binary = os.path.join(workdir, "wake_probe")
    built = subprocess.run(["gcc", "-O2", "-pthread", "-o", binary, source],
                           capture_output=True, text=True)
    return binary if built.returncode == 0 else None


def wake_floor(args, probe, think_ms):
    """p50 and p99 (us) of a ppoll wake-up after think_ms of quiet."""
    count = max(20, min(500, int(10_000 / think_ms)))
    out = subprocess.run([probe, str(args.server_cpu), str(args.client_cpu),
                          str(think_ms * 1000), str(count)],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"wake_probe exit {out.returncode}: {out.stderr.strip()}")
    p50, p99 = (float(v) for v in out.stdout.split())
    return {"count": count, "lat_p50_us": p50, "lat_p99_us": p99}


def fmt(value, digits=1):
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 1000 else f"{value:.{digits}f}"


def table(results, idle, floor):
    lines = [f"{'row':<30} {'setup':<17} {'IOPS':>10} {'p50 us':>8} {'p99 us':>8} "
             f"{'rings/IO':>8} {'srv CPU %':>9}"]
    for row in ROWS:
        if row["think_ms"] in floor:
            f = floor[row["think_ms"]]
            lines.append(f"{row['row']:<30} {'floor (probe)':<17} {'':>10} "
                         f"{fmt(f['lat_p50_us']):>8} {fmt(f['lat_p99_us']):>8}")
        for setup in row["setups"]:
            m = results[row["row"]][setup]["median"]
            lines.append(f"{row['row']:<30} {setup:<17} {fmt(m['iops']):>10} "
                         f"{fmt(m['lat_p50_us']):>8} {fmt(m['lat_p99_us']):>8} "
                         f"{fmt(m['doorbell_rings_per_io'], 3):>8} "
                         f"{fmt(m['server_cpu_percent']):>9}")
    for mode, entry in idle.items():
        lines.append(f"{'idle attached client':<30} {mode:<17} {'':>10} {'':>8} {'':>8} {'':>8} "
                     f"{fmt(entry['server_cpu_percent_median'], 2):>9}")
    return "\n".join(lines)


def targets(results, idle):
    checks = []

    def m(row, setup, key):
        return results[row][setup]["median"][key]
    for ms in THINK_MS:
        row = f"4k randread QD1 after {ms} ms"
        for key in ["lat_p50_us", "lat_p99_us"]:
            default, busy = m(row, "default", key), m(row, "busy", key)
            ratio = default / busy if default and busy else None
            checks.append({"target": f"{row}: default {key[4:7]} <= 1.5x --poll busy",
                           "measured": ratio, "met": None if ratio is None else ratio <= 1.5})
    mapped, trapped = m("4k randread QD32", "busy", "iops"), m("4k randread QD32", "default",
                                                              "iops")
    ratio = trapped / mapped if trapped and mapped else None
    checks.append({"target": "4k randread QD32: trapped+EventIdx >= 0.9x mapped",
                   "measured": ratio, "met": None if ratio is None else ratio >= 0.9})
    # The idle client sets up shadow doorbells, so in the default (trapped)
    # server every queue it has is armed when the reactor sleeps.
    trapped_idle = idle.get("trapped", {}).get("server_cpu_percent_median")
    for bound in [0.5, 0.1]:
        checks.append({"target": f"idle, default server (trapped, every queue armed): "
                                 f"server CPU <= {bound}% of a core",
                       "measured": trapped_idle,
                       "met": None if trapped_idle is None else trapped_idle <= bound})
    return checks


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser, ramp=1)
    parser.add_argument("--file", required=True, help="the idle rows' backing file")
    parser.add_argument("--idle-seconds", type=float, default=10)
    args = parser.parse_args()
    finish_run_arguments(args)

    started = time.time()
    machine = machine_info()
    machine["load_average_start"] = loadavg()
    machine["busy_processes_start"] = top_processes()
    runs = {row["row"]: {setup: [] for setup in row["setups"]} for row in ROWS}
    idle_runs = {"trapped": [], "mapped": []}
    floor_runs = {ms: [] for ms in THINK_MS}
    failures = []
    workdir = tempfile.mkdtemp(prefix="nvme-vfu-wake.")
    try:
        probe = build_probe(workdir)
        if probe is None:
            failures.append("wake_probe.c did not build (gcc): no floor rows")
        for repeat in range(args.repeats):
            log(f"== wake rows, repeat {repeat + 1} of {args.repeats}")
            for ms in THINK_MS if probe else []:
                if args.wait_quiet > 0:
                    wait_quiet(args.wait_quiet)
                try:
                    r = wake_floor(args, probe, ms)
                    floor_runs[ms].append(r)
                    log(f"   floor after {ms} ms: p50 {r['lat_p50_us']} us, p99 "
                        f"{r['lat_p99_us']} us")
                except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as error:
                    failures.append(f"floor {ms} ms {repeat + 1}: {error}")
            for row in ROWS:
                for setup in row["setups"]:
                    run_row(args, workdir, row, setup, runs[row["row"]][setup], failures)
            for mode in idle_runs:
                if args.wait_quiet > 0:
                    wait_quiet(args.wait_quiet)
                try:
                    r = idle_run(args, workdir, mode)
                    idle_runs[mode].append(r)
                    log(f"   idle {mode}: server {r['server_cpu_percent']}% of a core")
                except (RuntimeError, ValueError, OSError) as error:
                    failures.append(f"idle {mode} {repeat + 1}: {error}")
                    log(f"   idle {mode}: FAILED {error}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    keys = ["iops", "lat_p50_us", "lat_p99_us", "doorbell_rings_per_io", "server_cpu_percent",
            "server_cpu_s_per_mio", "other_cpu_cores"]
    results = {name: {setup: {"median": {k: median([r.get(k) for r in entries]) for k in keys},
                              "runs": entries}
                      for setup, entries in setups.items()}
               for name, setups in runs.items()}
    idle = {mode: {"runs": entries,
                   "server_cpu_percent_median": median([r["server_cpu_percent"]
                                                        for r in entries])}
            for mode, entries in idle_runs.items()}
    floor = {ms: {"runs": entries,
                  "lat_p50_us": median([r["lat_p50_us"] for r in entries]),
                  "lat_p99_us": median([r["lat_p99_us"] for r in entries])}
             for ms, entries in floor_runs.items() if entries}
    text = table(results, idle, floor)
    checks = targets(results, idle)
    machine["load_average_end"] = loadavg()
    machine["busy_processes_end"] = top_processes()
    day = time.strftime("%Y-%m-%d", time.localtime(started))
    document = {
        "date": day, "duration_s": round(time.time() - started, 1), "command": args.command,
        "settings": {"runtime_s": args.runtime, "ramp_s": args.ramp, "repeats": args.repeats,
                     "backing": f"mem:{args.size} (prefilled)",
                     "sparse_runtime_s": {ms: sparse_runtime(args, ms) for ms in THINK_MS},
                     "server_cpu": args.server_cpu, "client_cpu": args.client_cpu,
                     "idle_seconds": args.idle_seconds},
        "setups": {name: setup[3] for name, setup in SETUPS.items()},
        "machine": machine, "results": results, "idle": idle, "wake_floor": floor,
        "targets": checks,
        "failures": failures, "table": text,
    }
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"benchmark-wake-{day}.json")
    with open(path, "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")
    print(text)
    print()
    print_checks(checks, failures)
    print(f"\nwrote {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
