#!/usr/bin/env bash
# The learner study of docs/learner-study.md: prints its tables, asserts nothing, is not run by
# CI. Writes the tune and test splits and six seeds of the second generator with perfleak-synth,
# runs `perfleak analyze --json` over each, computes the series' features in Python, and fits
# gradient-boosted trees (LightGBM) on the tune split. About 45 minutes on 2 cores after the
# release build, and about 6.5 GB of logs in WORK_DIR.
# Usage: benches/study/run.sh [WORK_DIR]   (default: a temporary directory, removed at the end)
# A second run with the same WORK_DIR reuses each set's logs, features and findings already
# written (delete pl-<set>.jsonl to redo a set, e.g. after perfleak changed) and refits.
# Needs Python 3 with venv; the packages of benches/study/requirements.txt go in WORK_DIR/venv.
set -euo pipefail
work=${1:-}
if [[ -n $work ]]; then
  mkdir -p "$work"
  work=$(cd "$work" && pwd)
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
cd "$(dirname "$0")/../.."
# The bench's variables change what perfleak-synth writes: the study's sets are the defaults.
for v in $(env | grep -o '^PERFLEAK_BENCH_[A-Z_]*' || true); do unset "$v"; done
cargo build --release --locked -p perfleak -p perfleak-synth >&2
bin=${CARGO_TARGET_DIR:-$PWD/target}/release
[[ -x $work/venv/bin/pip ]] || python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q -r benches/study/requirements.txt >&2
py=$work/venv/bin/python
for set in tune test f1 f2 f3 f4 f5 f6; do
  logs=$work/logs-$set
  [[ -s $work/pl-$set.jsonl ]] && continue
  rm -rf "$logs" && mkdir -p "$logs"
  case $set in
    f*) "$bin/perfleak-synth" --out "$logs" foreign --seed "${set#f}" >&2 ;;
    *) "$bin/perfleak-synth" --out "$logs" "$set" >&2 ;;
  esac
  "$py" benches/study/features.py "$logs/*.csv" "$work/feat-$set.json" >&2
  ls "$logs"/*.csv > "$work/files-$set.txt"
  "$bin/perfleak" analyze --files-from "$work/files-$set.txt" --json \
    > "$work/pl-$set.jsonl.part" 2> "$work/pl-$set.err" ||
    { echo "perfleak failed on $set: see $work/pl-$set.err" >&2; exit 1; }
  mv "$work/pl-$set.jsonl.part" "$work/pl-$set.jsonl"
done
"$py" benches/study/study.py "$work"
