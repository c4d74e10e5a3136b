#!/usr/bin/env python3
"""Runs perfleak over an archive of perfmon logs on a Dask cluster, then merges the results.

Each of N tasks runs one shard of the same input list:

    perfleak analyze --shard I/N --summary-parquet -o OUT/shards/shard-I  INPUTS | --files-from LIST

perfleak itself assigns the logs to shards (disjoint, together complete, segments of one
collector run together), so the tasks need no coordination and the driver sends no file
names. With --jsonl each task runs `perfleak analyze --json --shard I/N` instead and the driver
writes the reports it gets back, one JSON object a line, to OUT/reports.jsonl as well.
Then the driver runs

    perfleak merge OUT/shards/shard-* -o OUT

for one OUT/index.html (worst first across all), OUT/summary.csv and OUT/summary.parquet.

Here the cluster is a LocalCluster (2 worker processes by default); on a real cluster pass
--scheduler tcp://host:8786 instead. Workers must see the inputs and OUT at the same paths
(a shared file system) and have perfleak on their PATH (or pass --perfleak).

    python3 examples/dask_archive.py --perfleak target/release/perfleak archive/ -o merged
"""

import argparse
import os
import subprocess
import sys


def run_shard(perfleak, index, count, inputs, files_from, out, jsonl, jobs):
    """One task: perfleak on shard index/count; returns (index, status, JSON Lines, stderr)."""
    command = [perfleak, "analyze", "--quiet", "--shard", f"{index}/{count}"]
    if jobs:
        command += ["--jobs", str(jobs)]
    if files_from:
        command += ["--files-from", files_from]
    if jsonl:
        command += ["--json"]
    else:
        command += ["--summary-parquet", "-o", os.path.join(out, "shards", f"shard-{index}")]
    done = subprocess.run(command + list(inputs), capture_output=True, text=True)
    return index, done.returncode, done.stdout if jsonl else "", done.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", help="log files or folders (as perfleak analyze takes them)")
    parser.add_argument("--files-from", help="a file of input paths, one per line")
    parser.add_argument("-o", "--out", required=True, help="output folder")
    parser.add_argument("--shards", type=int, default=0, help="number of tasks (default: 2 per worker)")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler instead")
    parser.add_argument("--perfleak", default="perfleak", help="the perfleak binary")
    parser.add_argument("--jobs", type=int, default=1, help="perfleak threads per task (default 1)")
    parser.add_argument("--jsonl", action="store_true", help="collect JSON Lines reports instead of report folders")
    args = parser.parse_args()
    if not args.inputs and not args.files_from:
        parser.error("give inputs or --files-from")

    from dask.distributed import Client, LocalCluster

    perfleak = os.path.abspath(args.perfleak) if os.sep in args.perfleak else args.perfleak
    out = os.path.abspath(args.out)
    inputs = [os.path.abspath(p) for p in args.inputs]
    files_from = os.path.abspath(args.files_from) if args.files_from else None
    os.makedirs(out, exist_ok=True)

    if args.scheduler:
        cluster, client = None, Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, scheduler_port=0)
        client = Client(cluster)
    try:
        workers = len(client.scheduler_info()["workers"]) or 1
        count = args.shards or 2 * workers
        futures = [client.submit(run_shard, perfleak, i, count, inputs, files_from, out,
                                 args.jsonl, args.jobs, pure=False)
                   for i in range(1, count + 1)]
        results = client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    failed = False
    for index, status, _, stderr in sorted(results):
        # Status 1 is --fail-on, 2 a shard none of whose inputs could be read: its folder
        # still lists the failures, so it is merged like the others.
        for line in stderr.splitlines():
            print(f"shard {index}/{count}: {line}", file=sys.stderr)
        shard_dir = os.path.join(out, "shards", f"shard-{index}")
        if not args.jsonl and not os.path.isfile(os.path.join(shard_dir, "summary.csv")):
            print(f"shard {index}/{count}: no output (status {status})", file=sys.stderr)
            failed = True
    if failed:
        return 2

    if args.jsonl:
        with open(os.path.join(out, "reports.jsonl"), "w", encoding="utf-8") as sink:
            for _, _, lines, _ in sorted(results):
                sink.write(lines)
        return 0
    shards = [os.path.join(out, "shards", f"shard-{i}") for i in range(1, count + 1)]
    return subprocess.run([perfleak, "merge", *shards, "-o", out]).returncode


if __name__ == "__main__":
    sys.exit(main())
