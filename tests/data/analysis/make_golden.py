# Golden vectors for perfleak's statistics (see README.md in this folder).
import json
import numpy as np
import pymannkendall as mk
import scipy
from scipy import stats

rng = np.random.default_rng(20261122)
cases = []

def ar1(n, phi, sigma):
    e = rng.normal(0, sigma, n)
    out = np.zeros(n)
    for i in range(n):
        out[i] = (phi * out[i - 1] if i else 0) + e[i]
    return out

series = {
    "iid_flat_60": rng.normal(100, 5, 60),
    "iid_trend_80": 50 + 0.3 * np.arange(80) + rng.normal(0, 4, 80),
    "ar1_0.8_trend_120": 1000 + 0.5 * np.arange(120) + ar1(120, 0.8, 6),
    "ar1_0.95_flat_200": 500 + ar1(200, 0.95, 3),
    "ties_integer_50": np.round(20 + 0.1 * np.arange(50) + rng.normal(0, 1.5, 50)),
    "decreasing_40": 300 - 2.0 * np.arange(40) + rng.normal(0, 10, 40),
    "ar1_0.6_240": 1e8 + 2e4 * np.arange(240) + ar1(240, 0.6, 4e5),
}
for name, x in series.items():
    x = [float(v) for v in x]
    n = len(x)
    raw = mk.original_test(x)
    hr = mk.hamed_rao_modification_test(x)
    t = np.arange(1, n + 1, dtype=float)
    ts = stats.theilslopes(x, t, alpha=0.95, method="joint")
    cases.append({
        "name": name, "x": x,
        "s": float(hr.s), "var_s": float(raw.var_s), "var_s_hamed_rao": float(hr.var_s),
        "z_hamed_rao": float(hr.z), "p_two_sided_hamed_rao": float(hr.p),
        "tau": float(hr.Tau), "sen_slope": float(hr.slope),
        "theil_slope": float(ts.slope), "theil_intercept": float(ts.intercept),
        "theil_low": float(ts.low_slope), "theil_high": float(ts.high_slope),
    })

p = [0.001, 0.04, 0.03, 0.5, 0.012, 0.9, 0.0001, 0.2]
bh = stats.false_discovery_control(p, method="bh")
sp = [0.04, 0.2, 0.01]
sw = [3.0, 1.0, 2.0]
st = stats.combine_pvalues(sp, method="stouffer", weights=sw)
binom = [[k, n, float(stats.binom.sf(k - 1, n, 0.5))] for k, n in [(7, 10), (15, 20), (3, 12), (60, 100), (120, 120)]]
out = {
    "versions": {"numpy": np.__version__, "scipy": scipy.__version__,
                 "pymannkendall": getattr(mk, "__version__", "unknown")},
    "mann_kendall": cases,
    "bh": {"p": p, "q": [float(v) for v in bh]},
    "stouffer": {"p": sp, "weights": sw, "combined": float(st.pvalue)},
    "binomial_upper_tail": binom,
}
with open("golden.json", "w") as f:
    json.dump(out, f, indent=1)
print(out["versions"])
