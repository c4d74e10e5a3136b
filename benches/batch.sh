#!/usr/bin/env bash
# Batch benchmark (issue #6): prints figures, asserts nothing.
#  1. `perfleak analyze --json` against the pandas + scipy script an engineer would write
#     (benches/pandas_baseline.py), in the same run on the same generated logs;
#  2. one wide log (thousands of columns, PERFLEAK_WIDE_MB, default 1024 MB): throughput and peak
#     memory of `perfleak analyze` with full reports.
# Usage: benches/batch.sh            (env: PERFLEAK_BENCH_SCALE corpus size, default 0.05;
#                                      PERFLEAK_WIDE_MB wide log size, 0 to skip; BENCH_DIR work dir)
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${PERFLEAK_BENCH_SCALE:-0.05}
wide_mb=${PERFLEAK_WIDE_MB:-1024}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
cores=$(nproc)

# perfleak itself, and the generator of labelled logs (the perfleak-synth crate in synth/).
cargo build --release --quiet --workspace
target=${CARGO_TARGET_DIR:-$PWD/target}
bin=$target/release/perfleak
synth=$target/release/perfleak-synth

if [[ ! -x $work/venv/bin/python ]]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet pandas scipy
fi

# GNU time is not always installed; measure wall time and peak RSS with python's resource module.
measure() { # label, command...
  local label=$1; shift
  "$work/venv/bin/python" - "$label" "$@" <<'PY'
import resource, subprocess, sys, time
label, cmd = sys.argv[1], sys.argv[2:]
t = time.perf_counter()
proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
if proc.returncode not in (0, 1):
    sys.stderr.write(proc.stderr.decode(errors="replace"))
    sys.exit(f"{label}: exit {proc.returncode}")
print(f"{label}\t{wall:.3f}\t{peak:.0f}")
PY
}

echo "== corpus: perfleak-synth tune at scale $scale" >&2
rm -rf "$work/logs" && mkdir -p "$work/logs"
PERFLEAK_BENCH_SCALE=$scale "$synth" --out "$work/logs" tune 2>/dev/null
logs=("$work"/logs/*.csv)
bytes=$(cat "${logs[@]}" | wc -c)
echo "logs: ${#logs[@]}, $((bytes / 1048576)) MB, $cores cores" >&2

p=$(measure "perfleak analyze --json" "$bin" analyze --json --quiet "${logs[@]}")
b=$(measure "pandas + scipy" "$work/venv/bin/python" benches/pandas_baseline.py "${logs[@]}")
echo
echo "| run | logs | MB | wall s | peak RSS MB | MB/s |"
echo "|---|---:|---:|---:|---:|---:|"
for row in "$b" "$p"; do
  IFS=$'\t' read -r label wall peak <<<"$row"
  echo "| $label | ${#logs[@]} | $((bytes / 1048576)) | $wall | $peak | $(awk -v b="$bytes" -v w="$wall" 'BEGIN{printf "%.0f", b/1048576/w}') |"
done
pw=$(cut -f2 <<<"$p"); bw=$(cut -f2 <<<"$b")
awk -v p="$pw" -v b="$bw" 'BEGIN{printf "\nperfleak is %.1fx faster than pandas + scipy end to end\n", b/p}'

if [[ $wide_mb -gt 0 ]]; then
  echo "== wide log: ${wide_mb} MB" >&2
  rm -rf "$work/wide" && mkdir -p "$work/wide"
  PERFLEAK_WIDE_MB=$wide_mb "$synth" --out "$work/wide" wide 2>/dev/null
  wide=("$work"/wide/*.csv)
  wbytes=$(cat "${wide[@]}" | wc -c)
  cols=$(head -1 "${wide[0]}" | tr ',' '\n' | wc -l)
  rm -rf "$work/wide-report"
  w=$(measure "perfleak analyze (reports)" "$bin" analyze --quiet -o "$work/wide-report" "${wide[@]}")
  j=$(measure "perfleak analyze --json" "$bin" analyze --json --quiet "${wide[@]}")
  echo
  echo "wide log: $((wbytes / 1048576)) MB, $cols columns"
  echo "| run | wall s | MB/s | peak RSS MB | peak RSS / file size |"
  echo "|---|---:|---:|---:|---:|"
  for row in "$w" "$j"; do
    IFS=$'\t' read -r label wall peak <<<"$row"
    awk -v l="$label" -v b="$wbytes" -v w="$wall" -v m="$peak" \
      'BEGIN{printf "| %s | %s | %.0f | %s | %.2f |\n", l, w, b/1048576/w, m, m*1048576/b}'
  done
fi
