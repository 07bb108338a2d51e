"""Domain means and totals of a calibrated two-stage design equal R's, for domains within the
calibration cells, finer than them and across them.

R script and output: ``tests/reference/calibrated_grid.{R,json}`` (data written beside them):
persons in households in EAs, strata of EAs, fpc at both stages, weights calibrated (linear)
to the margins of sex and age group; ``svyby`` of ``svymean`` and ``svytotal`` of income by
the calibration cells (sex × age group), by the cells × migration status, by status alone
and by sex alone. The engine sums the calibration's ``U`` by (cluster, domain) cell when each
domain lies in one calibration cell, and by (cluster, calibration cell) otherwise; both are
checked here, and the cluster totals of ``U`` against pandas.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign
from surveycore.groups import Groups
from weighting import Weights
from weighting.records import DomainCells

REF = Path(__file__).parents[1] / "reference"
SPEC = json.loads((REF / "calibrated_grid.json").read_text())


@pytest.fixture(scope="module")
def design() -> SurveyDesign:
    df = pd.read_csv(REF / "calibrated_grid.csv", dtype={"REGION": str, "EA": str, "HH": str})
    w = Weights(df, "WGT").calibrate({"SEX": SPEC["pop_sex"], "AGEGRP": SPEC["pop_age"]})
    return SurveyDesign(df, ids=["EA", "HH"], strata="REGION", fpc=["N_EA", "N_HH"], weights=w)


@pytest.mark.parametrize("case", SPEC["cases"], ids=[c["id"] for c in SPEC["cases"]])
def test_calibrated_domains_equal_r(design, case):
    stat, _ = case["id"].split("_")
    by = case["by"] if isinstance(case["by"], list) else [case["by"]]
    got = getattr(design, stat)("INCOME", by=by)
    want = pd.DataFrame({b: k for b, k in zip(by, case["keys"])}).assign(estimate=case["estimate"], se=case["se"])
    got = got.merge(want, on=by, suffixes=("", "_r"), validate="one_to_one")
    assert len(got) == len(want)
    np.testing.assert_allclose(got["estimate"], got["estimate_r"], rtol=1e-8)
    np.testing.assert_allclose(got["se"], got["se_r"], rtol=1e-8)


def test_cluster_totals_of_u_by_domain_cells_equal_pandas(design):
    (projection,) = design._weights_obj.variance_records()[0].projections()
    data = design.data
    stage = design.stages[1]
    u = projection.full_u()
    want = pd.DataFrame(u).groupby(stage.cluster).sum().to_numpy()
    for by in (["SEX", "AGEGRP"], ["SEX", "AGEGRP", "STATUS"], ["STATUS"]):
        domain = data.groupby(by, sort=True).ngroup().to_numpy()
        D = int(domain.max()) + 1
        rows, cluster, dom = Groups.pairs(stage.cluster, stage.n_clusters, domain, D)
        cells = DomainCells(rows, cluster, dom, domain, D)
        within = by[:2] == ["SEX", "AGEGRP"]
        assert (projection.domain_units(domain, D) is not None) == within
        np.testing.assert_allclose(projection.group_u(stage.clusters, cells), want, rtol=1e-12, atol=1e-9)
        loads = projection.loadings(np.asarray(data[["INCOME"]], dtype=float), domain, D)
        x = np.where(domain[:, None] == np.arange(D), data[["INCOME"]].to_numpy(), 0.0)  # each domain's scores
        np.testing.assert_allclose(loads, projection.loadings(x), rtol=1e-12, atol=1e-9)


def test_rows_outside_every_domain_still_enter_the_calibration_totals():
    # income missing on some rows (na_rm): those rows are in no domain but still in U's totals,
    # so the first estimate of a design gives what it gives after an estimate over all rows
    df = pd.read_csv(REF / "calibrated_grid.csv", dtype={"REGION": str, "EA": str, "HH": str})
    df.loc[df.index % 7 == 3, "INCOME"] = np.nan

    def fresh() -> SurveyDesign:
        w = Weights(df, "WGT").calibrate({"SEX": SPEC["pop_sex"], "AGEGRP": SPEC["pop_age"]})
        return SurveyDesign(df, ids=["EA", "HH"], strata="REGION", fpc=["N_EA", "N_HH"], weights=w)

    cold = fresh()
    first = cold.mean("INCOME", by=["SEX", "AGEGRP", "STATUS"], na_rm=True)
    warm = fresh()
    warm.total("WGT", by="STATUS")  # every row in a domain
    again = warm.mean("INCOME", by=["SEX", "AGEGRP", "STATUS"], na_rm=True)
    np.testing.assert_allclose(first["se"], again["se"], rtol=1e-12)
    for got, want in zip(cold._variance()._u_totals(), warm._variance()._u_totals()):  # U's cluster totals
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
