#!/usr/bin/env python3
"""How far a learned second opinion could carry flagged recall, and whether it transfers.

Study only (not product code; see docs/learner-study.md). Inputs: per-series features from
`features.py` and perfleak's findings (`perfleak analyze --json`) for the tune split, the second
generator's logs (seeds 1-6) and the test split (read for its summary only). Prints Markdown.

    study.py DIR   (DIR holds feat-<set>.json and pl-<set>.jsonl for sets tune, f1..f6, test)
"""
import json, math, os, sys, collections
import numpy as np
import lightgbm as lgb
from sklearn.model_selection import GroupKFold

DIR = sys.argv[1] if len(sys.argv) > 1 else "."
SHAPES = ["linear", "stepwise", "late-onset", "restart-masked", "warm-up", "level-shift",
          "growth-stopped", "burst", "cyclic", "confined", "sawtooth", "flat", "load-driven"]
VERD = ["leak", "suspect", "ok", "insufficient-data"]
# The rules' objections a reopened `ok` may carry: shapes that a noisy leak mimics by chance
# (growth stopped, dying out, a level shift, a warm-up), the partial day's possible cycle,
# weak evidence, and no significant growth. Chosen after seeing seeds 1-3 of the second
# generator (so seeds 4-6 are the clean check).
REOPEN = {"cycle-confound", "dying-out", "level-shift", "warm-up", "weak-not-flagged",
          "no-growth", "growth-stopped"}
GBM = dict(n_estimators=600, learning_rate=0.05, num_leaves=63, min_child_samples=20,
           subsample=0.8, subsample_freq=1, colsample_bytree=0.8, verbose=-1)


def plfeat(f):
    """perfleak's own evidence for a series (NaN where it gave no finding)."""
    if f is None:
        return [math.nan] * (8 + len(SHAPES) + len(VERD))
    c = f.get("calibration") or {}
    q = f.get("q_value") if f.get("q_value") is not None else f.get("p_value")
    nan = lambda v: math.nan if v is None else v
    v = [nan(c.get("p_leak")), nan(c.get("score")),
         -math.log10(max(q, 1e-30)) if q is not None else math.nan, nan(f.get("r_squared")),
         nan(f.get("growth_percent")), nan(c.get("rule_confidence")), f.get("segments", 1),
         len(f.get("reason_codes", []))]
    v += [1.0 if f.get("shape") == s else 0.0 for s in SHAPES]
    rv = c.get("rule_verdict", f.get("verdict"))
    return v + [1.0 if rv == s else 0.0 for s in VERD]


class Set:
    def __init__(self, name, raw_names=None):
        rows = json.load(open(f"{DIR}/feat-{name}.json"))
        pl = {}
        for line in open(f"{DIR}/pl-{name}.jsonl"):
            d = json.loads(line)
            if "source" not in d:  # an input that failed: its series have no finding
                continue
            log = os.path.basename(d["source"]["path"]).rsplit(".", 1)[0]
            for f in d.get("findings", []):
                key = (log, f["instance"], f["counter"])
                if key not in pl or f["verdict"] in ("leak", "suspect"):
                    pl[key] = f
        self.raw_names = raw_names or [k for k in rows[0] if not k.startswith("_")]
        xr, xp, y, fl, ab, fam, g, code, rule = [], [], [], [], [], [], [], [], []
        for r in rows:
            f = pl.get((r["_log"], r["_instance"], r["_counter"]))
            xr.append([r.get(k, math.nan) for k in self.raw_names])
            xp.append(plfeat(f))
            y.append(r["_leak"])
            fl.append(f is not None and f["verdict"] in ("leak", "suspect"))
            ab.append(f is not None and f["verdict"] == "insufficient-data")
            fam.append(r["_family"])
            g.append(r["_log"])
            code.append((f.get("reason_codes") or ["-"])[0] if f else "-")
            rule.append(((f.get("calibration") or {}).get("rule_verdict") or f["verdict"]) if f else "none")
        self.X = {"raw": np.array(xr, float), "perfleak": np.array(xp, float)}
        self.X["raw+perfleak"] = np.hstack([self.X["raw"], self.X["perfleak"]])
        self.y, self.flag, self.judged = np.array(y), np.array(fl), ~np.array(ab)
        self.fam, self.g, self.code = np.array(fam), np.array(g), np.array(code)
        self.rule = np.array(rule)
        self.reopenable = np.array([c in REOPEN for c in code]) & ~self.flag & self.judged

    def rates(self, flagged):
        lk, h = self.y & self.judged, ~self.y & self.judged
        return (flagged & lk).sum() / lk.sum(), 1000 * (flagged & h).sum() / h.sum()


def threshold_at(p, s, fp=3.0):
    """The score above which `fp` per 1000 of the judged healthy series lie."""
    h = np.sort(p[~s.y & s.judged])[::-1]
    return h[int(fp / 1000 * len(h))]


def oof(s, X):
    p = np.zeros(len(s.y))
    for tr, te in GroupKFold(n_splits=5).split(X, s.y, s.g):
        p[te] = lgb.LGBMClassifier(random_state=0, **GBM).fit(X[tr], s.y[tr]).predict_proba(X[te])[:, 1]
    return p


def main():
    tune = Set("tune")
    others = {n: Set(n, tune.raw_names) for n in ["f1", "f2", "f3", "f4", "f5", "f6", "test"]
              if os.path.exists(f"{DIR}/feat-{n}.json")}
    def joined(names):
        class J: pass
        j = J()
        parts = [others[n] for n in names if n in others]
        for a in ["y", "flag", "judged", "fam", "code", "reopenable", "rule"]:
            setattr(j, a, np.concatenate([getattr(p, a) for p in parts]))
        j.X = {k: np.vstack([p.X[k] for p in parts]) for k in tune.X}
        j.rates = lambda fl, j=j: Set.rates(j, fl)
        return j
    groups = {"second generator, seeds 1-3": joined(["f1", "f2", "f3"]),
              "second generator, seeds 4-6 (clean)": joined(["f4", "f5", "f6"])}
    if "test" in others:
        groups["test split"] = others["test"]

    r, fp = tune.rates(tune.flag)
    print(f"perfleak on the tune split: recall {r:.4f}, FP/1000 {fp:.2f}\n")
    print("## A learner in place of the rules (5-fold out-of-fold on the tune split, logs kept whole)\n")
    print("| features | tune recall at 3 FP/1000 | " + " | ".join(f"{g}: recall, FP/1000 (perfleak: recall, FP/1000)" for g in groups) + " |")
    print("|---|---|" + "---|" * len(groups))
    oofs = {}
    for name in ["raw", "perfleak", "raw+perfleak"]:
        p = oof(tune, tune.X[name])
        oofs[name] = p
        thr = threshold_at(p, tune)
        rec, _ = tune.rates(p > thr)
        model = lgb.LGBMClassifier(random_state=0, **GBM).fit(tune.X[name], tune.y)
        cells = []
        for g in groups.values():
            pg = model.predict_proba(g.X[name])[:, 1]
            (a, b), (c, d) = g.rates(pg > thr), g.rates(g.flag)
            cells.append(f"{a:.4f}, {b:.2f} ({c:.4f}, {d:.2f})")
        print(f"| {name} | {rec:.4f} | " + " | ".join(cells) + " |")
        if name == "raw+perfleak":
            both = (p, thr, model)

    p, thr, model = both
    found = (p > thr) & ~tune.flag & tune.y & tune.judged
    lost = ~(p > thr) & tune.flag & tune.y & tune.judged
    count = lambda a: ", ".join(f"{k} {v}" for k, v in collections.Counter(a).most_common())
    print(f"\nWith both, on the tune split (out of fold): {found.sum()} leaks the rules miss found, {lost.sum()} they find lost.")
    print(f"- found, by family: {count(tune.fam[found])}")
    print(f"- found, by the rules' own verdict (before calibration): {count(tune.rule[found])}")
    print(f"- found, by the first reason of the final finding: {count(tune.code[found])}")
    for n, g in groups.items():
        if n == "test split":
            continue  # read for its summary only
        pg = model.predict_proba(g.X["raw+perfleak"])[:, 1]
        new_fa = (pg > thr) & ~g.flag & ~g.y & g.judged
        print(f"- {n}: false alarms perfleak does not raise, by shape: {count(g.fam[new_fa])}")

    print("\n## Reopening only the rules' `ok`s that carry a listed objection (raw+perfleak)\n")
    p = oofs["raw+perfleak"]
    model = lgb.LGBMClassifier(random_state=0, **GBM).fit(tune.X["raw+perfleak"], tune.y)
    pg = {n: model.predict_proba(g.X["raw+perfleak"])[:, 1] for n, g in groups.items()}
    print("| reopen at P >= | tune (out-of-fold): recall, FP/1000 | " + " | ".join(f"{g}: recall, FP/1000" for g in groups) + " |")
    print("|---|---|" + "---|" * len(groups))
    cells = [f"{tune.rates(tune.flag)[0]:.4f}, {tune.rates(tune.flag)[1]:.2f}"]
    cells += [f"{g.rates(g.flag)[0]:.4f}, {g.rates(g.flag)[1]:.2f}" for g in groups.values()]
    print("| (perfleak as it is) | " + " | ".join(cells) + " |")
    for t in (0.9, 0.95, 0.97, 0.98, 0.99, 0.995):
        cells = ["{:.4f}, {:.2f}".format(*tune.rates(tune.flag | (tune.reopenable & (p >= t))))]
        for n, g in groups.items():
            cells.append("{:.4f}, {:.2f}".format(*g.rates(g.flag | (g.reopenable & (pg[n] >= t)))))
        print(f"| {t} | " + " | ".join(cells) + " |")
    healthy = {n: (~g.y & g.judged).sum() for n, g in groups.items()}
    print("\nOn the second generator, in series (new leaks / new false alarms; healthy series: "
          + ", ".join(f"{n} {h}" for n, h in healthy.items() if n != "test split") + "):\n")
    for t in (0.99, 0.995):
        print(f"- P >= {t}: " + "; ".join(
            f"{n} {(g.reopenable & (pg[n] >= t) & g.y).sum()} / {(g.reopenable & (pg[n] >= t) & ~g.y).sum()}"
            for n, g in groups.items() if n != "test split"))
    # The cut-off the tune split would choose: the lowest whose out-of-fold false alarms stay
    # within 3 per 1000.
    grid = np.round(np.arange(0.90, 0.9995, 0.001), 3)
    ok = [t for t in grid if tune.rates(tune.flag | (tune.reopenable & (p >= t)))[1] <= 3.0]
    if ok:
        t = ok[0]
        cells = ["{:.4f}, {:.2f}".format(*tune.rates(tune.flag | (tune.reopenable & (p >= t))))]
        cells += ["{:.4f}, {:.2f}".format(*g.rates(g.flag | (g.reopenable & (pg[n] >= t)))) for n, g in groups.items()]
        print(f"\nThe lowest cut-off within 3 false alarms per 1000 on tune: P >= {t}: " + " | ".join(cells))
    t = 0.99
    # The test split is read for its summary only: not broken down.
    second = {n: g for n, g in groups.items() if n != "test split"}
    print(f"\nReopened at P >= {t}, by the objection the rules gave (new leaks / new false alarms):\n")
    print("| objection | tune | " + " | ".join(second) + " |")
    print("|---|---|" + "---|" * len(second))
    for c in sorted(REOPEN):
        def cell(s, pp):
            m = s.reopenable & (pp >= t) & (s.code == c)
            return f"{(m & s.y).sum()} / {(m & ~s.y).sum()}"
        print(f"| {c} | {cell(tune, p)} | " + " | ".join(cell(g, pg[n]) for n, g in second.items()) + " |")


if __name__ == "__main__":
    main()
