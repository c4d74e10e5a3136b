#!/usr/bin/env bash
# Analysis speed against a baseline (issue #18's "no slower" target): prints figures, asserts
# nothing. Builds the detection bench of each git revision (a worktree per revision, one target
# directory for all, so only perfleak itself is rebuilt), then times `analyze` on the bench's
# throughput log (2,000 series x 10,000 samples) in alternating runs (the order flipped every
# round), so that a machine's slow spells fall on every revision alike. Each run reports the fastest of REPEAT analyses; the
# figure is the median over ROUNDS runs, once with every core and once on one thread, as a
# ratio to the first revision.
# Usage: benches/analysis_speed.sh BASE [REV...]   (default REV: the working tree, "."; env:
#        ROUNDS, default 8; REPEAT, default 5; SPEED_DIR keeps the worktrees and binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 1 ]] || { echo "usage: $0 BASE [REV...]" >&2; exit 2; }
revs=("$@")
[[ $# -ge 2 ]] || revs+=(".")
rounds=${ROUNDS:-8}
repeat=${REPEAT:-5}
work=${SPEED_DIR:-$(mktemp -d)}
target=${CARGO_TARGET_DIR:-$PWD/target}
mkdir -p "$work"
# Worktrees made here, and the work directory, are removed at the end unless SPEED_DIR asked
# to keep them.
made=()
cleanup() {
  [[ -z ${SPEED_DIR:-} ]] || return 0
  for w in "${made[@]}"; do git worktree remove --force "$w"; done
  rm -rf "$work"
}
trap cleanup EXIT

# The bench binary cargo just built for the crate at $1 (its path is printed as JSON). The
# worktrees share one target directory, where every revision's perfleak lands at the same path
# and cargo judges it fresh by the times of the sources it was last built from: without the
# clean, a revision can be handed another's binary. So perfleak and the synth crate are built
# again each time (a minute or two; the dependencies are kept).
build() {
  (cd "$1" && CARGO_TARGET_DIR=$target cargo clean --release --quiet -p perfleak -p perfleak-synth)
  (cd "$1" && CARGO_TARGET_DIR=$target cargo build --release --locked --quiet --bench detection \
    --message-format=json) |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "detection" and m.get("executable"):
        print(m["executable"])'
}

bins=()
for rev in "${revs[@]}"; do
  name=$(printf '%s' "$rev" | sed 's/[^A-Za-z0-9._-]/_/g')
  if [[ $rev == "." ]]; then
    name=worktree
    src=$PWD
  else
    src=$work/tree-$name
    if [[ ! -d $src ]]; then
      git worktree add --detach --quiet "$src" "$rev"
      made+=("$src")
    fi
  fi
  echo "building $rev ..." >&2
  bin=$(build "$src" | tail -n 1)
  [[ -x $bin ]] || { echo "$0: no detection bench was built for $rev" >&2; exit 1; }
  cp "$bin" "$work/detection-$name"
  bins+=("$work/detection-$name")
done

# Seconds of the fastest of $repeat analyses in one run of binary $1 (env $2: threads).
run() {
  env $2 PERFLEAK_BENCH_REPEAT="$repeat" PERFLEAK_BENCH_SPLIT=tune PERFLEAK_BENCH_SCALE=0.001 \
    PERFLEAK_BENCH_FOREIGN=0 PERFLEAK_BENCH_DELAY_LOGS=0 "$1" --bench 2>/dev/null |
    sed -n 's/.*not timed): \([0-9.]*\) s,.*/\1/p' | grep . ||
    { echo "$0: $1 printed no analysis time (has the bench's throughput line changed?)" >&2; exit 1; }
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

for threads in "" "RAYON_NUM_THREADS=1"; do
  # Times by position in the list: a revision named twice is timed twice.
  times=()
  for ((r = 1; r <= rounds; r++)); do
    # The order flips every round, so that no revision always runs first (or after another).
    order=("${!bins[@]}")
    ((r % 2)) || order=($(printf '%s\n' "${order[@]}" | sort -rn))
    for i in "${order[@]}"; do
      times[i]+="$(run "${bins[$i]}" "$threads") "
    done
  done
  echo
  echo "${threads:-every core}: median of $rounds runs, each the fastest of $repeat analyses"
  base=""
  for i in "${!bins[@]}"; do
    m=$(echo "${times[i]}" | tr ' ' '\n' | grep . | median)
    [[ -n $base ]] || base=$m
    printf '  %-24s %8.4f s  %6.3fx   (%s)\n' "${revs[$i]}" "$m" "$(echo "$m $base" | awk '{print $1 / $2}')" \
      "${times[i]% }"
  done
done
