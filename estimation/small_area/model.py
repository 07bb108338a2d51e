"""``fay_herriot``: area-level small area estimation (EBLUP) from direct estimates of a design."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from estimation.small_area.fit import eblup, fit_variance, loglik
from estimation.small_area.gvf import (
    loglinear_variances,
    pooled_design_effect,
    unstable_areas,
)
from estimation.small_area.inputs import input_warnings, read_inputs
from estimation.small_area.mse import analytic_mse, bootstrap_mse
from estimation.small_area.result import FayHerriotResult, FittedModel
from estimation.small_area.transform import (
    arcsin_sqrt,
    bias_corrected_back,
    delta_back,
    naive_back,
)
from surveycore import SurveyError, SurveyWarning
from surveycore.checks import check_option


def fay_herriot(
    data: Any,
    y: str | None = None,
    variance: str | None = None,
    auxiliaries: str | Sequence[str] | None = None,
    *,
    area: str | None = None,
    population: Any = None,
    n: str | None = None,
    method: Literal["REML", "ML"] = "REML",
    mse: Literal["analytic", "bootstrap"] | None = None,
    transformation: Literal["none", "arcsin"] = "none",
    backtransformation: Literal["bias-corrected", "naive"] = "bias-corrected",
    smoothing: Literal["unstable", "all", "none"] = "unstable",
    min_n: int = 2,
    replicates: int = 500,
    seed: int | np.random.Generator | None = None,
    level: float = 0.95,
    intercept: bool = True,
    min_deff: float | None = 1.0,
    df: str | None = None,
) -> FayHerriotResult:
    """Fay–Herriot EBLUPs of area means, shares or totals, with their MSE.

    Parameters
    ----------
    data : DataFrame
        One row per sampled area, or the tidy table of ``design.mean("y", by="district")``
        (``SurveyDesign`` or ``ReplicateDesign``): then ``y``, ``variance``, ``n`` and ``area``
        default to ``estimate``, ``se²``, ``n`` and the ``by`` column.
    y : str
        Column of direct estimates.
    variance : str
        Column of their sampling variances ``ψ_i`` (treated as known).
    auxiliaries : str or list of str
        Area-level covariates (census aggregates, registers), numeric, known for every area.
    area : str
        Column of area labels (matched exactly between ``data`` and ``population``).
    population : DataFrame, optional
        One row per area of the population with ``area`` and the auxiliaries; its areas without
        a direct estimate get the synthetic prediction ``x_i'β̂``.
    n : str, optional
        Column of area sample sizes (needed to smooth variances).
    method : {"REML", "ML"}
        Estimator of ``σ²_u`` (Fisher scoring; ``Â = 0`` on the boundary, with a warning).
    mse : {"analytic", "bootstrap"}, optional
        Prasad–Rao (REML) / Datta–Lahiri (ML) formulas, or parametric bootstrap. Default:
        analytic, bootstrap with ``transformation="arcsin"``. With ``"arcsin"``, ``"analytic"``
        is the arcsine-scale formula carried to the proportion scale by the delta method,
        ``mse_p = sin²(2θ̂)·mse_θ``, with intervals ``sin²(θ̂ ± z√mse_θ)``.
    transformation : {"none", "arcsin"}
        ``"arcsin"`` models ``arcsin √p̂`` of proportions with ``ψ = 1/(4 ñ)``, ``ñ`` the
        effective sample size ``p̂(1−p̂)/v̂`` (``n/deff`` for unstable areas).
    backtransformation : {"bias-corrected", "naive"}
        Back-transformation of arcsine EBLUPs (see :mod:`~estimation.small_area.transform`).
    smoothing : {"unstable", "all", "none"}
        Replace the direct variances of unstable areas (or all) by a generalised variance
        function (:mod:`~estimation.small_area.gvf`); ``"none"`` refuses unstable variances.
    min_n : int
        Areas with fewer sample rows have unstable variances.
    replicates : int
        Bootstrap replicates.
    seed : int or numpy.random.Generator, optional
        Randomness of the bootstrap (a fresh seed is drawn and recorded when None).
    level : float
        Confidence level of the intervals ``eblup ± z·√mse`` (basic bootstrap intervals with
        ``"arcsin"``).
    intercept : bool
        Add an intercept to the auxiliaries.
    min_deff : float or None
        Floor of the pooled design effect used to smooth the variances of proportions
        (default 1). A pooled design effect below 1 from a clustered sample usually means the
        direct variances rest on very few PSUs per area and are too small by chance (with two
        PSUs an area's variance has one degree of freedom); the MSEs would then be too small.
        The estimated value is kept in ``metadata["variance_function"]`` and a warning is
        given; ``None`` uses the estimate as it is.
    df : str, optional
        Column of the degrees of freedom of each direct variance (the design's estimate table
        has ``df``: PSUs minus strata in the area). When most areas have fewer than 5, a
        warning says that the variances treated as known rest on very few PSUs.

    Warnings are also given (and recorded in ``metadata["warnings"]``) when fewer than 10
    areas have a direct estimate (σ²_u and the order-``1/m`` MSE terms rest on too few areas)
    and when σ²_u is estimated on its boundary 0.

    Returns
    -------
    FayHerriotResult
        ``.table`` (per area), ``.sigma2_u``, ``.beta``, ``.metadata``; ``.benchmark(...)``
        and ``.diagnostics()``.

    Notes
    -----
    Model ``y_i = x_i'β + u_i + e_i``, ``u_i ~ N(0, σ²_u)``, ``e_i ~ N(0, ψ_i)``; EBLUP
    ``θ̂_i = γ_i y_i + (1 − γ_i) x_i'β̂`` with ``γ_i = σ̂²_u/(σ̂²_u + ψ_i)`` (Fay & Herriot
    1979; Rao & Molina 2015, ch. 6). Fitting: :mod:`~estimation.small_area.fit`; MSE:
    :mod:`~estimation.small_area.mse`.

    Examples
    --------
    >>> import pandas as pd
    >>> areas = pd.DataFrame({"area": ["01", "02", "03", "04", "05", "06", "07"],
    ...                       "y": [14.2, 9.9, 8.1, 18.8, 9.0, 12.3, 15.0],
    ...                       "v": [1.0, 2.0, 1.5, 0.8, 2.5, 1.2, 1.0],
    ...                       "x": [1.0, 2.0, 0.5, 3.0, 1.5, 2.5, 1.2]})
    >>> fh = fay_herriot(areas, "y", "v", ["x"], area="area")
    >>> round(fh.sigma2_u, 2), fh.table["eblup"].round(2).tolist()[:3]
    (11.11, [13.94, 10.43, 8.31])
    >>> list(fh.table.columns[:6])
    ['area', 'n', 'direct', 'direct_se', 'direct_cv', 'eblup']
    """
    check_option(method, ("REML", "ML"), "method")
    check_option(transformation, ("none", "arcsin"), "transformation")
    check_option(backtransformation, ("bias-corrected", "naive"), "backtransformation")
    check_option(smoothing, ("unstable", "all", "none"), "smoothing")
    if mse is None:
        mse = "bootstrap" if transformation == "arcsin" else "analytic"
    check_option(mse, ("analytic", "bootstrap"), "mse")
    if not (0 < level < 1):
        raise SurveyError("level must be in (0, 1)", argument="level", expected="e.g. 0.95",
                          found=repr(level))
    if mse == "bootstrap" and (not isinstance(replicates, int | np.integer) or replicates < 50):
        raise SurveyError("too few bootstrap replicates", argument="replicates",
                          expected="an integer ≥ 50 (500 or more for publication)",
                          found=repr(replicates))
    if isinstance(min_n, bool) or not isinstance(min_n, int | np.integer) or min_n < 0:
        raise SurveyError("min_n must be a non-negative integer", argument="min_n",
                          expected="e.g. 2", found=repr(min_n))
    if min_deff is not None and not (isinstance(min_deff, int | float) and not isinstance(min_deff, bool)
                                     and np.isfinite(min_deff) and min_deff > 0):
        raise SurveyError("min_deff must be a positive number or None", argument="min_deff",
                          expected="e.g. 1.0, or None for no floor", found=repr(min_deff))
    d = read_inputs(data, y=y, variance=variance, auxiliaries=auxiliaries, area=area,
                    population=population, n=n, intercept=intercept)
    notes: list[str] = []
    s = d.sampled
    notes += input_warnings(data, d, df)
    p_dir = d.direct[s]
    v_dir = d.variance[s]
    n_s = d.n[s] if d.n is not None else None
    proportion = transformation == "arcsin"
    if proportion and (np.any(p_dir < 0) or np.any(p_dir > 1)):
        raise SurveyError("arcsine transformation needs proportions in [0, 1]", argument="y",
                          expected="direct estimates in [0, 1]",
                          found=f"range [{p_dir.min():g}, {p_dir.max():g}]",
                          hint="divide percentages by 100")
    unstable = unstable_areas(p_dir, v_dir, n_s, min_n=min_n, proportion=proportion)
    smooth = np.ones_like(unstable) if smoothing == "all" else unstable
    gvf_record: dict[str, Any] | None = None
    if smooth.any():
        if smoothing == "none":
            raise SurveyError(
                "some areas have unusable direct variances",
                argument="variance", expected="positive finite variances (smoothing='none')",
                found=f"{int(unstable.sum())} areas: "
                + ", ".join(map(str, d.areas[s][unstable].tolist()[:6])),
                hint="use smoothing='unstable' (generalised variance function)",
            )
        if n_s is None:
            raise SurveyError("smoothing variances needs the area sample sizes", argument="n",
                              expected="a column of sample sizes", found="None",
                              hint="pass n='<column>' (the design's estimate table has 'n')")
    stable = ~unstable
    if proportion:
        n_eff = np.full(len(p_dir), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff[~smooth] = p_dir[~smooth] * (1 - p_dir[~smooth]) / v_dir[~smooth]
        if smooth.any():
            deff = pooled_design_effect(p_dir, v_dir, n_s, stable)
            gvf_record = {"form": "psi = deff/(4 n) on the arcsine scale", "deff": deff,
                          "deff_estimated": deff, "min_deff": min_deff}
            if deff < 1:
                floored = min_deff is not None and deff < min_deff
                msg = (f"the pooled design effect of the direct variances is {deff:.3g} (< 1): "
                       "the direct variances are likely too small (few PSUs per area)"
                       + (f"; the design effect is floored at {min_deff:g}" if floored
                          else "; it is used as it is (min_deff=None), so MSEs may be too small"))
                warnings.warn(msg, SurveyWarning, stacklevel=2)
                notes.append(msg)
                if floored:
                    deff = float(min_deff)
                    gvf_record["deff"] = deff
            n_eff[smooth] = n_s[smooth] / deff
        y_m = arcsin_sqrt(p_dir)
        psi_m = 1.0 / (4.0 * n_eff)
    else:
        psi_m = v_dir.copy()
        if smooth.any():
            fitted, gvf_record = loglinear_variances(v_dir, n_s, stable)
            psi_m[smooth] = fitted[smooth]
        y_m = p_dir
    if smooth.any():
        msg = (f"sampling variances of {int(smooth.sum())} of {len(smooth)} areas replaced by a "
               f"generalised variance function ({gvf_record['form']})")
        warnings.warn(msg, SurveyWarning, stacklevel=2)
        notes.append(msg)
    if not np.all(np.isfinite(psi_m) & (psi_m > 0)):
        raise SurveyError("sampling variances must be positive", argument="variance",
                          expected="finite values > 0 after smoothing",
                          found="zero, negative or missing values")

    X_s = d.X[s]
    fit = fit_variance(y_m, X_s, psi_m, method)
    A = float(fit.A[0])
    boundary = bool(fit.boundary[0])
    if boundary:
        msg = (f"the {method} estimate of the area variance σ²_u is on the boundary: set to 0; "
               "every EBLUP equals its synthetic (regression) estimate and the direct estimates "
               "get no weight")
        warnings.warn(msg, SurveyWarning, stacklevel=2)
        notes.append(msg)
    theta, beta, gamma, Q, r = eblup(y_m[:, None], X_s, d.X, s, psi_m, fit.A)
    theta, beta, gamma, Q, r = theta[:, 0], beta[0], gamma[:, 0], Q[0], r[:, 0]
    M = len(theta)
    g_full = np.zeros(M)
    g_full[s] = gamma
    z = float(stats.norm.ppf((1 + level) / 2))
    record: dict[str, Any] = {}
    if mse == "analytic":
        parts = analytic_mse(d.X, s, psi_m, A, Q, method)
        mse_v = parts["mse"]
        mse_method = "Prasad-Rao (REML)" if method == "REML" else "Datta-Lahiri (ML)"
        if proportion:
            est = (naive_back(theta) if backtransformation == "naive"
                   else bias_corrected_back(theta, A * (1 - g_full)))
            mse_v, lo, hi = delta_back(theta, mse_v, z)
            record["mse_model_scale"] = parts["mse"].tolist()
            mse_method += " on the arcsine scale, delta method"
            synthetic = naive_back(d.X @ beta)
        else:
            est = theta
            lo, hi = est - z * np.sqrt(mse_v), est + z * np.sqrt(mse_v)
            synthetic = d.X @ beta
    else:
        rng, seed_record = _generator(seed)
        record["seed"] = seed_record
        record["replicates"] = replicates
        if proportion:
            def back(t, a, g):
                if backtransformation == "naive":
                    return naive_back(t)
                return bias_corrected_back(t, a[None, :] * (1 - g))
            truth = naive_back
        else:
            back = truth = None
        boot = bootstrap_mse(d.X, s, psi_m, A, beta, method, replicates=replicates, rng=rng,
                             back=back, truth=truth, level=level, y_s=y_m, theta=theta, Q=Q)
        mse_v = boot["mse"]
        record["bootstrap_boundary_share"] = boot["boundary_share"]
        record["mse_bootstrap_plain"] = boot["mse_plain"].tolist()
        if boot["uncorrected"].any():
            msg = (f"the bias-corrected bootstrap MSE was not positive in "
                   f"{int(boot['uncorrected'].sum())} area(s): the plain bootstrap MSE is kept there")
            warnings.warn(msg, SurveyWarning, stacklevel=2)
            notes.append(msg)
        if proportion:
            est = (naive_back(theta) if backtransformation == "naive"
                   else bias_corrected_back(theta, A * (1 - g_full)))
            q = boot["errors_q"]
            lo, hi = np.clip(est - q[1], 0, 1), np.clip(est + -q[0], 0, 1)
            synthetic = naive_back(d.X @ beta)
        else:
            est = theta
            lo, hi = est - z * np.sqrt(mse_v), est + z * np.sqrt(mse_v)
            synthetic = d.X @ beta
        mse_method = ("parametric bootstrap (González-Manteiga et al. 2008), bias-corrected "
                      "(Butar & Lahiri 2003)")
    direct = d.direct.copy()
    dvar = np.full(M, np.nan)
    dvar[s] = np.where(v_dir >= 0, v_dir, np.nan)  # the design's own variance, as given
    smoothed = np.zeros(M, dtype=bool)
    smoothed[s] = smooth
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame({
            "area": d.areas.to_numpy(dtype=object),
            "n": d.n if d.n is not None else np.where(s, np.nan, 0.0),
            "direct": direct,
            "direct_se": np.sqrt(dvar),
            "direct_cv": np.sqrt(dvar) / direct,
            "eblup": est,
            "mse": mse_v,
            "se": np.sqrt(mse_v),
            "cv": np.sqrt(mse_v) / est,
            "ci_low": lo,
            "ci_high": hi,
            "gamma": g_full,
            "synthetic": synthetic,
            "in_sample": s,
            "variance_smoothed": smoothed,
            "model_based": np.ones(M, dtype=bool),
        })
    m, p = X_s.shape
    ll = float(loglik(y_m[:, None], X_s, psi_m, fit.A, method)[0])
    metadata = {
        "model": "Fay-Herriot area-level model",
        "method": method,
        "mse_method": mse_method,
        "level": level,
        "converged": bool(fit.converged[0]),
        "iterations": int(fit.iterations[0]),
        "boundary": boundary,
        "boundary_rule": "sigma2_u constrained to >= 0; on the boundary it is set to 0 and the "
                         "EBLUPs are synthetic estimates",
        "loglik": ll,
        "n_areas": M,
        "n_sampled": m,
        "auxiliaries": d.names,
        "transformation": transformation,
        "backtransformation": backtransformation if proportion else None,
        "variance_function": gvf_record,
        "smoothed_areas": d.areas[smoothed].tolist(),
        "warnings": notes,
        **record,
    }
    model = FittedModel(X=d.X, sampled=s, y=y_m, psi=psi_m, theta=theta, residuals=r, Q=Q,
                        frame=d.frame, transformation=transformation)
    return FayHerriotResult(table=table, sigma2_u=A, beta=pd.Series(beta, index=d.names),
                            beta_se=pd.Series(np.sqrt(np.diag(Q)), index=d.names),
                            metadata=metadata, model=model)


def _generator(seed) -> tuple[np.random.Generator, Any]:
    if isinstance(seed, np.random.Generator):
        return seed, "numpy.random.Generator supplied by the caller"
    if seed is None:
        entropy = np.random.SeedSequence().entropy
        return np.random.default_rng(entropy), int(entropy)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SurveyError("seed must be a non-negative integer or a numpy Generator",
                          argument="seed", expected="e.g. seed=1", found=repr(seed))
    return np.random.default_rng(int(seed)), int(seed)
