#!/usr/bin/env python3
"""Baseline for the batch benchmark: what a support engineer would script with pandas + scipy.

For every log given: read the whole CSV with pandas, then run scipy.stats.linregress on every
Process Private Bytes and Handle Count column against time in hours. Prints one summary line.
Requires pandas and scipy (benches/batch.sh installs them into a throwaway venv).
"""
import sys
import time

import pandas as pd
from scipy import stats


def analyse(path):
    sep = "\t" if path.lower().endswith(".tsv") else ","
    frame = pd.read_csv(path, sep=sep, na_values=[" "], low_memory=False)
    times = pd.to_datetime(frame.iloc[:, 0], format="%m/%d/%Y %H:%M:%S.%f", errors="coerce")
    hours = (times - times.iloc[0]).dt.total_seconds() / 3600.0
    fits = 0
    flagged = 0
    for name in frame.columns[1:]:
        lower = name.lower()
        if "\\process(" not in lower:
            continue
        if not (lower.endswith("\\private bytes") or lower.endswith("\\handle count")):
            continue
        values = pd.to_numeric(frame[name], errors="coerce")
        mask = values.notna() & hours.notna()
        if mask.sum() < 3:
            continue
        fit = stats.linregress(hours[mask], values[mask])
        fits += 1
        if fit.slope > 0 and fit.pvalue < 0.05 and fit.rvalue ** 2 >= 0.5:
            flagged += 1
    return fits, flagged


def main():
    start = time.perf_counter()
    fits = flagged = 0
    for path in sys.argv[1:]:
        f, g = analyse(path)
        fits += f
        flagged += g
    elapsed = time.perf_counter() - start
    print(f"pandas+scipy: {len(sys.argv) - 1} logs, {fits} series fitted, {flagged} flagged, {elapsed:.2f} s")


if __name__ == "__main__":
    main()
