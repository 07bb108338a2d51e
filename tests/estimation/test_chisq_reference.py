"""Rao–Scott and Wald tests of independence against R svychisq."""

from __future__ import annotations

import numpy as np
import pytest
from test_replicates_reference import case, survey_design

from estimation.chisq import chisq, interaction_contrasts
from surveycore.errors import SurveyError

RTOL = 1e-8


def check(out, case_id):
    assert len(out) == 1
    row = out.iloc[0]
    ref = case(case_id)["values"][0]
    for col in ("statistic", "ndf", "ddf", "p_value"):
        if ref.get(col) is not None:
            np.testing.assert_allclose(row[col], ref[col], rtol=RTOL, err_msg=f"{case_id} {col}")


@pytest.mark.parametrize(
    "design_case, row, col, statistic, case_id",
    [
        ("strat_mean", "sch.wide", "awards", "F", "strat_chisq_F"),
        ("strat_mean", "sch.wide", "awards", "Chisq", "strat_chisq_Chisq"),
        ("strat_mean", "stype", "awards", "F", "strat_chisq_F_3x2"),
        ("strat_mean", "stype", "awards", "Chisq", "strat_chisq_Chisq_3x2"),
        ("strat_mean", "stype", "awards", "Wald", "strat_chisq_Wald_3x2"),
        ("strat_mean", "stype", "awards", "adjWald", "strat_chisq_adjWald_3x2"),
        ("clus1_mean", "stype", "sch.wide", "F", "clus1_chisq_F_3x2"),
    ],
)
def test_chisq_linearised(design_case, row, col, statistic, case_id):
    d = survey_design(design_case)
    check(d.chisq(row, col, statistic=statistic), case_id)


@pytest.mark.parametrize("statistic, case_id", [("F", "clus1_jk1_chisq_F"), ("Chisq", "clus1_jk1_chisq_Chisq")])
def test_chisq_replicate(statistic, case_id):
    r = survey_design("clus1_mean").replicate("JK1")
    check(chisq(r, "stype", "sch.wide", statistic=statistic), case_id)


def test_chisq_Chisq_reports_unadjusted_pearson_and_F_2x2_has_one_df():
    d = survey_design("strat_mean")
    f = d.chisq("sch.wide", "awards").iloc[0]
    c = d.chisq("sch.wide", "awards", statistic="Chisq").iloc[0]
    assert f["ndf"] == pytest.approx(1.0) and c["statistic"] == pytest.approx(f["pearson"])
    # for a 2x2 table tr(Δ) = mean(δ): F = X² / δ
    assert f["statistic"] == pytest.approx(c["statistic"] / c["mean_deff"], rel=1e-12)


def test_contrasts_orthogonal_to_main_effects():
    C = interaction_contrasts(3, 4)
    assert C.shape == (12, 6)
    rows = np.tile(np.arange(3), 4)
    cols = np.repeat(np.arange(4), 3)
    np.testing.assert_allclose(np.bincount(rows, weights=C[:, 0]), 0, atol=1e-12)
    np.testing.assert_allclose(np.bincount(cols, weights=C[:, 0]), 0, atol=1e-12)


def test_bad_input():
    d = survey_design("strat_mean")
    with pytest.raises(SurveyError, match="statistic"):
        d.chisq("stype", "awards", statistic="lincom")
    with pytest.raises(SurveyError, match="not found"):
        d.chisq("stype", "nope")
    with pytest.raises(SurveyError, match="two levels"):
        d.subset(d.data["stype"] == "E").chisq("stype", "awards")


def test_refuses_tables_too_large_for_dense_covariances():
    import pandas as pd

    from estimation import SurveyDesign

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.integers(0, 30, 2000).astype(str), "b": rng.integers(0, 20, 2000).astype(str), "w": 1.0})
    d = SurveyDesign(df, weights="w")
    with pytest.raises(SurveyError, match="too large"):
        d.chisq("a", "b")
