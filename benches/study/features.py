#!/usr/bin/env python3
"""Study only (not product code; see docs/learner-study.md): per-series features of labelled
synthetic logs, from the logged values alone (no generator parameter is read but the truth, the
family and the log's length), for a flexible learner's recall at 3 false alarms per 1000.

    features.py 'DIR/*.csv' OUT.json   (each log beside its .labels.json from perfleak-synth)
"""
import calendar, csv, glob, json, sys, math, os
from datetime import datetime
import numpy as np
from multiprocessing import Pool

def parse_time(s):
    for fmt in ("%m/%d/%Y %H:%M:%S.%f", "%m/%d/%Y %H:%M:%S"):
        try:
            d = datetime.strptime(s, fmt)
        except ValueError:
            continue
        # Read as UTC: the machine's own zone (and its clock changes) must not move the hours.
        return calendar.timegm(d.timetuple()) / 3600.0 + d.microsecond / 3.6e9
    return math.nan

def num(s):
    s = s.strip()
    if not s:
        return math.nan
    try:
        return float(s)
    except ValueError:
        return math.nan

def ols(t, y):
    X = np.column_stack([np.ones_like(t), t])
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ b
    return b, r

def tstat_adj(X, y):
    """OLS coefficient t-stats with an AR(1) correction from the residuals' lag-1 correlation."""
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ b
    n, k = X.shape
    s2 = (r @ r) / max(n - k, 1)
    try:
        cov = s2 * np.linalg.inv(X.T @ X)
    except np.linalg.LinAlgError:
        return b, np.zeros(k), r, 0.0
    se = np.sqrt(np.maximum(np.diag(cov), 1e-300))
    r1 = 0.0
    if n > 3 and r.std() > 0:
        r1 = float(np.corrcoef(r[:-1], r[1:])[0, 1])
        if not np.isfinite(r1):
            r1 = 0.0
    r1c = min(max(r1, -0.5), 0.99)
    f = math.sqrt((1 - r1c) / (1 + r1c))
    return b, b / se * f, r, r1

def mk_z(x):
    n = len(x)
    if n < 4:
        return 0.0
    s = 0.0
    for i in range(n - 1):
        s += np.sign(x[i + 1:] - x[i]).sum()
    var = n * (n - 1) * (2 * n + 5) / 18.0
    return s / math.sqrt(var)

def blocks(t, y, k):
    idx = np.array_split(np.arange(len(y)), k)
    return (np.array([t[i].mean() for i in idx if len(i)]),
            np.array([np.median(y[i]) for i in idx if len(i)]))

def series_features(t, y, pid, cpu, handle):
    ok = np.isfinite(y) & np.isfinite(t)
    t, y = t[ok], y[ok]
    pid = pid[ok] if pid is not None else None
    cpu = cpu[ok] if cpu is not None else None
    n = len(y)
    if n < 8:
        return None
    t = t - t[0]
    D = max(t[-1], 1e-6)
    level = max(np.abs(y).mean(), 1e-9)
    tn = t / D
    f = {}
    f["logD"] = math.log10(D)
    f["logn"] = math.log10(n)
    f["handle"] = float(handle)
    q = max(n // 10, 1)
    f["rel_growth"] = (y[-q:].mean() - y[:q].mean()) / level
    f["cv"] = y.std() / level
    X = np.column_stack([np.ones(n), tn])
    b, tt, r, r1 = tstat_adj(X, y)
    f["ols_rise"] = b[1] / level
    f["ols_t"] = tt[1]
    f["ols_r2"] = 1 - (r @ r) / max(((y - y.mean()) ** 2).sum(), 1e-300)
    f["resid_r1"] = r1
    bt, by = blocks(t, y, min(32, n))
    f["mk_blocks"] = mk_z(by)
    # thirds
    for i, (a, c) in enumerate([(0, 1 / 3), (1 / 3, 2 / 3), (2 / 3, 1.0001)]):
        m = (tn >= a) & (tn < c)
        if m.sum() >= 3:
            bb, _ = ols(tn[m], y[m])
            f[f"third{i}"] = bb[1] / (abs(b[1]) + 1e-9 * level)
        else:
            f[f"third{i}"] = 0.0
    # quadratic
    Xq = np.column_stack([np.ones(n), tn, tn ** 2])
    _, tq, rq, _ = tstat_adj(Xq, y)
    f["quad_t"] = tq[2]
    # daily harmonics
    w = 2 * math.pi * t / 24.0
    Xh = np.column_stack([np.ones(n), tn, np.cos(w), np.sin(w), np.cos(2 * w), np.sin(2 * w)])
    bh, th, rh, r1h = tstat_adj(Xh, y)
    f["harm_slope_rise"] = bh[1] / level
    f["harm_slope_t"] = th[1]
    f["harm_amp"] = math.hypot(bh[2], bh[3]) / level
    f["harm_gain"] = 1 - (rh @ rh) / max(r @ r, 1e-300)
    Xc = np.column_stack([np.ones(n), np.cos(w), np.sin(w), np.cos(2 * w), np.sin(2 * w)])
    bc, *_ = np.linalg.lstsq(Xc, y, rcond=None)
    rc = y - Xc @ bc
    f["cycle_vs_line"] = math.log((rc @ rc + 1e-300) / (r @ r + 1e-300))
    f["harm_r1"] = r1h
    # drops and restarts
    d = np.diff(y)
    mad = np.median(np.abs(d - np.median(d))) * 1.4826 + 1e-12 * level
    big = d < -np.maximum(6 * mad, 0.05 * level)
    f["n_drops"] = float(big.sum())
    f["drop_mag"] = float(-d[big].sum() / level) if big.any() else 0.0
    f["n_jumps"] = float((d > np.maximum(6 * mad, 0.05 * level)).sum())
    rng = y.max() - y.min() + 1e-12 * level
    f["max_jump_frac"] = d.max() / rng
    f["max_drop_frac"] = -d.min() / rng
    f["pos_frac"] = float((d > 0).mean())
    f["pid_changes"] = float((np.diff(pid[np.isfinite(pid)]) != 0).sum()) if pid is not None else -1.0
    # lifetimes: split at pid changes, else at big drops
    cuts = []
    if pid is not None and np.isfinite(pid).all():
        cuts = list(np.nonzero(np.diff(pid) != 0)[0] + 1)
    if not cuts:
        cuts = list(np.nonzero(big)[0] + 1)
    segs = np.split(np.arange(n), cuts) if cuts else [np.arange(n)]
    slopes, ts = [], []
    for s in segs:
        if len(s) >= 6:
            Xs = np.column_stack([np.ones(len(s)), t[s] / D])
            bs, tss, _, _ = tstat_adj(Xs, y[s])
            slopes.append(bs[1] / level)
            ts.append(tss[1])
    f["seg_count"] = float(len(segs))
    f["seg_slope_med"] = float(np.median(slopes)) if slopes else 0.0
    f["seg_t_min"] = float(np.min(ts)) if ts else 0.0
    f["seg_t_med"] = float(np.median(ts)) if ts else 0.0
    f["seg_pos_share"] = float(np.mean([s > 0 for s in slopes])) if slopes else 0.0
    # floors and ceilings in 12 windows
    idx = np.array_split(np.arange(n), 12)
    mins = np.array([y[i].min() for i in idx if len(i)])
    maxs = np.array([y[i].max() for i in idx if len(i)])
    xi = np.linspace(0, 1, len(mins))
    f["floor_rise"] = np.polyfit(xi, mins, 1)[0] / level
    f["ceil_rise"] = np.polyfit(xi, maxs, 1)[0] / level
    f["floor_mk"] = mk_z(mins)
    # end behaviour: last quarter slope vs overall, relative to noise
    m = tn >= 0.75
    if m.sum() >= 4:
        Xl = np.column_stack([np.ones(m.sum()), tn[m]])
        bl, tl, _, _ = tstat_adj(Xl, y[m])
        f["last_q_t"] = tl[1]
        f["last_q_ratio"] = bl[1] / (abs(b[1]) + 1e-9 * level)
    else:
        f["last_q_t"] = 0.0
        f["last_q_ratio"] = 0.0
    # noise scale vs rise
    f["rise_over_noise"] = b[1] / (np.std(np.diff(y)) / math.sqrt(2) + 1e-12 * level)
    # machine cpu
    if cpu is not None and np.isfinite(cpu).sum() > 8:
        mm = np.isfinite(cpu)
        c = cpu[mm]
        f["cpu_rise"] = np.polyfit(tn[mm], c, 1)[0] / (abs(c.mean()) + 1e-9)
        cc = np.corrcoef(c, y[mm])[0, 1]
        f["cpu_corr"] = cc if np.isfinite(cc) else 0.0
    else:
        f["cpu_rise"] = 0.0
        f["cpu_corr"] = 0.0
    return f

def one(path):
    lab = json.load(open(path[: -len(".csv")] + ".labels.json"))
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    head = rows[0]
    body = rows[1:]
    t = np.array([parse_time(r[0]) for r in body])
    if not np.isfinite(t).all():
        t = np.arange(len(body)) * lab["interval_seconds"] / 3600.0
    col = {h: i for i, h in enumerate(head)}
    cpu = None
    out = []
    for h, i in col.items():
        if h.endswith("\\Processor(_Total)\\% Processor Time"):
            cpu = np.array([num(r[i]) if i < len(r) else math.nan for r in body])
    for s in lab["series"]:
        if s["truth"] == "ambiguous":
            continue
        base = f"\\\\{s['machine']}\\Process({s['instance']})\\"
        i = col.get(base + s["counter"])
        if i is None:
            continue
        y = np.array([num(r[i]) if i < len(r) else math.nan for r in body])
        j = col.get(base + "ID Process")
        pid = np.array([num(r[j]) if j < len(r) else math.nan for r in body]) if j is not None else None
        try:
            f = series_features(t.copy(), y, pid, cpu, s["counter"] == "Handle Count")
        except Exception as e:  # study only
            print(path, s["instance"], e, file=sys.stderr)
            f = None
        if f is None:
            continue
        f["_log"] = lab["log"]
        f["_instance"] = s["instance"]
        f["_counter"] = s["counter"]
        f["_family"] = s["family"]
        f["_leak"] = s["truth"] == "leak"
        out.append(f)
    return out

if __name__ == "__main__":
    files = sorted(glob.glob(sys.argv[1]))
    with Pool(os.cpu_count()) as p:
        res = p.map(one, files, chunksize=8)
    rows = [r for rr in res for r in rr]
    json.dump(rows, open(sys.argv[2], "w"))
    print(len(rows))
