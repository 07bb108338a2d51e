"""Design-based simulation: calibration-credited SEs match the spread of calibrated estimates.

A synthetic population of 5,000 units; 300 simple random samples of 250; each sample is
calibrated (GREG, and logit with bounds) to the population counts of a 3-level variable and
the total of a numeric one. The mean estimated variance must be close to the empirical
variance of the estimates, the GREG variance well below the Horvitz–Thompson one, and 95%
intervals must cover the population mean about 95% of the time.
"""

import numpy as np
import pandas as pd
import pytest
from wt_variance import mean_and_se

from weighting import Weights


@pytest.mark.parametrize("method, bounds", [("linear", None), ("logit", (0.4, 2.5))])
def test_calibrated_se_matches_simulation(method, bounds):
    rng = np.random.default_rng(2024)
    big_n, n, reps = 5000, 250, 300
    grp = rng.choice(["a", "b", "c"], big_n, p=[0.5, 0.3, 0.2])
    x = rng.gamma(3.0, 10.0, big_n)
    y = 20 + 1.5 * x + np.select([grp == "a", grp == "b"], [0.0, 15.0], 30.0) + rng.normal(0, 8, big_n)
    pop = pd.DataFrame({"grp": grp, "x": x, "y": y})
    targets = {"grp": pop.grp.value_counts().to_dict(), "x": float(x.sum())}
    truth = y.mean()
    est, se, ht = [], [], []
    for _ in range(reps):
        s = pop.iloc[rng.choice(big_n, n, replace=False)].assign(pw=big_n / n)
        w = Weights(s, "pw").calibrate(targets, method=method, bounds=bounds)
        fpc = np.full(n, float(big_n))
        e, v = mean_and_se(s, w.values, "y", None, None, fpc, w.variance_records())
        est.append(e)
        se.append(v)
        ht.append(s.y.mean())
    est, se = np.array(est), np.array(se)
    emp_var = est.var(ddof=1)
    assert 0.8 < np.mean(se**2) / emp_var < 1.25
    assert emp_var < 0.5 * np.var(ht, ddof=1)
    coverage = np.mean(np.abs(est - truth) <= 1.96 * se)
    assert 0.91 <= coverage <= 0.99
    assert abs(est.mean() - truth) < 3 * np.sqrt(emp_var / reps) + 0.05
