"""Bad input is refused with a message that names the problem, the argument and a hint."""

import numpy as np
import pandas as pd
import pytest
from wt_targets import POP_CAL, POP_SW, POP_TYPES

from surveycore import SurveyError
from weighting import Weights


def test_target_level_absent_from_sample(apiclus1):
    with pytest.raises(SurveyError) as err:
        Weights(apiclus1, "pw").rake({"stype": {"E": 4000, "H": 755, "M": 1018, "X": 421}})
    e = err.value
    assert e.argument == "targets" and "'X'" in e.found and "collapse" in e.hint


def test_target_level_with_zero_count_absent_from_sample_is_fine(apiclus1):
    w = Weights(apiclus1, "pw").rake({"stype": {**POP_TYPES["stype"], "X": 0}})
    np.testing.assert_allclose(w.values.sum(), 6194)


def test_sample_level_missing_from_targets(apiclus1):
    with pytest.raises(SurveyError) as err:
        Weights(apiclus1, "pw").calibrate({"stype": {"E": 4421, "H": 755}})
    assert "'M'" in err.value.found and "missing from the targets" in str(err.value)


def test_margins_disagree_show_totals(apiclus1):
    with pytest.raises(SurveyError) as err:
        Weights(apiclus1, "pw").rake({**POP_TYPES, "sch.wide": {"No": 1179.2, "Yes": 5634.2}})
    assert "stype=6,194" in err.value.found and "sch.wide=6,813.4" in err.value.found


def test_infeasible_bounds_name_constraint_and_range(apiclus1):
    with pytest.raises(SurveyError) as err:
        Weights(apiclus1, "pw").calibrate(POP_CAL, method="logit", bounds=(0.9, 1.1))
    e = err.value
    assert e.argument == "bounds" and "achievable range" in e.expected
    assert "stype=" in e.message or "api99" in e.message


def test_jointly_infeasible_bounds_say_how_far(apiclus1):
    with pytest.raises(SurveyError) as err:
        Weights(apiclus1, "pw").calibrate(POP_CAL, method="linear", bounds=(0.75, 1.3),
                                          max_iter=30)
    assert "did not converge" in str(err.value) or "infeasible" in str(err.value)


def test_raking_non_convergence_names_margin(apiclus1):
    with pytest.raises(SurveyError) as err:
        Weights(apiclus1, "pw").rake({**POP_TYPES, **POP_SW}, tol=1e-15, max_iter=1)
    assert "margin" in err.value.found and err.value.argument == "max_iter"


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_bad_weights_refused(apiclus1, bad):
    w = apiclus1.pw.to_numpy().copy()
    w[3] = bad
    with pytest.raises(SurveyError):
        Weights(apiclus1, w)


def test_bad_options(apiclus1):
    w = Weights(apiclus1, "pw")
    with pytest.raises(SurveyError, match="method"):
        w.calibrate(POP_CAL, method="ridge")
    with pytest.raises(SurveyError, match="finite bounds"):
        w.calibrate(POP_CAL, method="logit")
    with pytest.raises(SurveyError, match="lower < 1 < upper"):
        w.calibrate(POP_CAL, method="logit", bounds=(1.1, 2))
    with pytest.raises(SurveyError):
        w.rake(POP_TYPES, tol_units="percent")
    with pytest.raises(SurveyError, match="one margin"):
        w.poststratify({**POP_TYPES, **POP_SW})
    with pytest.raises(SurveyError, match="categorical"):
        w.rake(POP_CAL)
    with pytest.raises(SurveyError, match="not found"):
        w.rake({"nope": {"a": 1}})
    with pytest.raises(SurveyError, match="base weights or selection probabilities"):
        Weights(apiclus1)


def test_nan_in_auxiliary_refused(apiclus1):
    df = apiclus1.assign(api99=apiclus1.api99.astype(float))
    df.loc[2, "api99"] = np.nan
    with pytest.raises(SurveyError, match="missing"):
        Weights(df, "pw").calibrate(POP_CAL)


def test_integrated_needs_constant_weights_within_cluster(eusilc):
    w = eusilc.rb050.to_numpy().copy()
    w[0] *= 1.5
    with pytest.raises(SurveyError, match="vary within clusters"):
        Weights(eusilc, w).calibrate({"rb090": {"female": 4e6, "male": 4e6}}, cluster="db030")


def test_negative_calibrated_weights_refused(apiclus1):
    pop = {"stype": POP_TYPES["stype"], "api99": 3914069 * 1.4}
    with pytest.raises(SurveyError, match="negative weights") as err:
        Weights(apiclus1, "pw").calibrate(pop)
    assert "bounds" in err.value.hint


@pytest.mark.parametrize("method", ["linear", "raking", "logit"])
def test_calibration_names_a_level_without_weight(method):
    df = pd.DataFrame({"w": [10.0, 20, 0, 0, 30, 15], "age": ["a", "a", "b", "b", "a", "a"]})
    kw = {"bounds": (0.5, 3.0)} if method == "logit" else {}
    with pytest.raises(SurveyError, match="age=b has a non-zero target but no positive weight") \
            as info:
        Weights(df, "w").calibrate({"age": {"a": 100.0, "b": 50.0}}, method=method, **kw)
    assert info.value.argument == "targets"
