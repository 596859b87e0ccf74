#!/usr/bin/env bash
# Builds the libFuzzer binary (release, -sanitize=fuzzer,address) and runs each fuzz
# target for a bounded time on a copy of its committed seed corpus plus the saved
# regressions. New crashes, leaks and timeouts are copied into
# Tests/Fuzz/Regressions/<target>/ (replayed by `swift test` from then on) and make the
# script exit 1. Prints one summary line per target: executions, exec/s, coverage
# (libFuzzer's cov: and ft:), corpus size, findings.
#
#   Tests/Fuzz/run.sh [--time SECONDS] [--jobs N] [--merge] [--no-build] [TARGET ...]
#
#   --time S     seconds per target (default 60)
#   --jobs N     targets run side by side (default 1)
#   --merge      merge inputs with new coverage back into Tests/Fuzz/Corpus/<target>/
#   --no-build   use the binary from the last build
#   TARGET       vfio-stream, nvme-commands, version-json (default: all)
#
# Environment: NVME_VFU_FUZZ_SCRATCH (build directory, default .build-fuzzer),
# NVME_VFU_FUZZ_KEEP=1 keeps the temporary directory (logs, grown corpus).
set -euo pipefail
cd "$(dirname "$0")/../.."

all_targets=(vfio-stream nvme-commands version-json)
time_per_target=60
jobs=1
merge=0
build=1
targets=()
while (($#)); do
  case "$1" in
    --time) time_per_target="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --merge) merge=1; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $target "* ]] || { echo "run.sh: unknown target $target" >&2; exit 2; }
done

scratch="${NVME_VFU_FUZZ_SCRATCH:-.build-fuzzer}"
# --sanitize fuzzer makes SwiftPM link libFuzzer's main instead of ours; the
# -sanitize=fuzzer,address that follows is what the compiler keeps (it takes the
# last -sanitize= only, so --sanitize fuzzer --sanitize address would lose coverage).
build_flags=(-c release --scratch-path "$scratch" --product nvme-vfu-fuzz --sanitize fuzzer
  -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address -Xswiftc -DFUZZING)
start=$SECONDS
if ((build)); then
  echo "[fuzz] building nvme-vfu-fuzz with libFuzzer and AddressSanitizer in $scratch"
  # gold warns once per ASan helper symbol; nothing to act on.
  swift build "${build_flags[@]}" 2>&1 | { grep -v 'Cannot export local symbol' || true; }
  echo "[fuzz] build took $((SECONDS - start)) s"
fi
binary="$(swift build "${build_flags[@]}" --show-bin-path)/nvme-vfu-fuzz"
[[ -x "$binary" ]] || { echo "run.sh: no binary at $binary" >&2; exit 1; }

work="$(mktemp -d /tmp/nvme-vfu-fuzz.XXXXXX)"
if [[ "${NVME_VFU_FUZZ_KEEP:-0}" == 1 ]]; then
  echo "[fuzz] keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi

declare -A max_len=([vfio-stream]=8192 [nvme-commands]=4096 [version-json]=4200)

# One target: corpus copy, bounded run, findings saved. Output goes to its log.
run_target() {
  local target="$1" dir="$work/$1"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp Tests/Fuzz/Corpus/"$target"/* "$dir/corpus/" 2>/dev/null || true
  # Fixed findings seed the run too: a regression shows up at once.
  cp Tests/Fuzz/Regressions/"$target"/* "$dir/corpus/" 2>/dev/null || true
  local dict=()
  [[ -f "Tests/Fuzz/$target.dict" ]] && dict=(-dict="Tests/Fuzz/$target.dict")
  # LeakSanitizer on: the Swift runtime's and Foundation's once-per-process
  # allocations stay reachable from globals and are not reported (a minute of each
  # target with it: no report), while a reference cycle or a buffer never
  # deallocated is. SWIFT_BACKTRACE off: libFuzzer reports the crash and saves the
  # input at once instead of waiting for Swift's backtracer.
  NVME_VFU_FUZZ_TARGET="$target" SWIFT_BACKTRACE=enable=no \
    ASAN_OPTIONS="detect_leaks=1:symbolize=1" \
    timeout $((time_per_target + 300)) \
    "$binary" -max_total_time="$time_per_target" -timeout=10 -rss_limit_mb=2048 \
    -max_len="${max_len[$target]}" -artifact_prefix="$dir/artifacts/" -print_final_stats=1 \
    "${dict[@]}" "$dir/corpus" >"$dir/log" 2>&1 || true
}

# Summary line from the log: the last status line has cov/ft/corp, the final stats
# have executions and rate.
summarize() {
  local target="$1" dir="$work/$1" status execs rate cov ft corp findings
  status="$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$dir/log" | tail -1 || true)"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")"
  corp="$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$status")"
  findings="$(find "$dir/artifacts" -type f | wc -l)"
  printf '[fuzz] %-14s %6ss  execs %-9s exec/s %-6s cov %-5s ft %-6s corpus %-12s findings %s\n' \
    "$target" "$time_per_target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
    "$findings"
}

echo "[fuzz] ${#targets[@]} target(s), ${time_per_target} s each, $jobs at a time"
running=0
for target in "${targets[@]}"; do
  run_target "$target" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

failed=0
for target in "${targets[@]}"; do
  dir="$work/$target"
  summarize "$target"
  found=0
  for artifact in "$dir"/artifacts/*; do
    [[ -f "$artifact" ]] || continue
    mkdir -p "Tests/Fuzz/Regressions/$target"
    cp "$artifact" "Tests/Fuzz/Regressions/$target/"
    echo "[fuzz]   saved Tests/Fuzz/Regressions/$target/$(basename "$artifact")"
    # Enough to rebuild the file from a CI log alone: base64 -d > FILE.
    (($(stat -c %s "$artifact") <= 16384)) && echo "[fuzz]   base64: $(base64 -w0 "$artifact")"
    found=1
  done
  if ((found)); then
    failed=1
    # The finding's own report: what libFuzzer, ASan or the harness said.
    grep -E -A12 'ERROR: |Fatal error|VIOLATIONS|deadly signal' "$dir/log" | head -40 | sed 's/^/[fuzz]   | /'
  fi
  if ((merge)); then
    before="$(ls "Tests/Fuzz/Corpus/$target" | wc -l)"
    NVME_VFU_FUZZ_TARGET="$target" SWIFT_BACKTRACE=enable=no \
      "$binary" -merge=1 -max_len="${max_len[$target]}" "Tests/Fuzz/Corpus/$target" "$dir/corpus" \
      >"$dir/merge.log" 2>&1 || echo "[fuzz]   merge failed, see $dir/merge.log"
    echo "[fuzz]   merged: $before -> $(ls "Tests/Fuzz/Corpus/$target" | wc -l) files in Tests/Fuzz/Corpus/$target"
  fi
done
echo "[fuzz] total $((SECONDS - start)) s"
if ((failed)); then
  echo "[fuzz] findings saved under Tests/Fuzz/Regressions/: fix them; \`swift test\` replays them from then on"
  exit 1
fi
