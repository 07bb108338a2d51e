"""Indicator registry: contents, lookup, renaming, validation."""

from __future__ import annotations

import pytest

from estimation.indicators import REGISTRY, Indicator, Measure, resolve_indicators
from surveycore import SurveyError


def test_core_indicators_present_and_documented():
    for code in ("MI1.1", "MI1.2", "MI1.3", "MI1.4", "RECENT_IMM", "TEMP_MOB"):
        ind = REGISTRY[code]
        assert ind.definition and ind.source and ind.measures
        assert any(m.kind == "total" for m in ind.measures)
    assert REGISTRY["MI1.1"].measures[0].numerator == "foreign_born"
    assert REGISTRY["MI1.2"].measures[1].denominator == "foreign_citizen_start"
    assert REGISTRY["MI1.3"].measures[1].multiplier == 1000
    assert REGISTRY["MI1.4"].unit == "emigrant"
    assert REGISTRY["MI1.1"].measures[0].universe == "usual_resident"
    assert REGISTRY["TEMP_MOB"].experimental and not REGISTRY["MI1.1"].experimental
    assert REGISTRY["MI1.1"].sdmx_code == "MI_1_1"
    with pytest.raises(TypeError):
        REGISTRY["X"] = REGISTRY["MI1.1"]  # read-only


def test_resolve_codes_objects_and_variables():
    own = Indicator("OWN", "own", measures=(Measure("c", "total", "y"),))
    got = resolve_indicators(["mi 1.1", own, "temp-mob"], variables={"foreign_born": "fb"})
    assert [i.code for i in got] == ["MI1.1", "OWN", "TEMP_MOB"]
    assert got[0].measures[0].numerator == "fb" and got[0].measures[1].numerator == "fb"
    assert resolve_indicators("MI1.3")[0].code == "MI1.3"
    with pytest.raises(SurveyError, match="unknown indicator"):
        resolve_indicators(["MI1.5"])
    with pytest.raises(SurveyError, match="twice"):
        resolve_indicators(["MI1.1", "mi1.1"])
    with pytest.raises(SurveyError, match="unknown"):
        resolve_indicators(["OWN"], registry={})


def test_with_variables_renames_universe_and_by():
    ind = Indicator("A", "a", default_by=("sex",), measures=(
        Measure("s", "proportion", "y", denominator="x", universe="u", multiplier=100.0),))
    r = ind.with_variables({"y": "Y", "u": "U", "sex": "gender"}, x="X")
    m = r.measures[0]
    assert (m.numerator, m.denominator, m.universe) == ("Y", "X", "U")
    assert r.default_by == ("gender",) and ind.measures[0].numerator == "y"
    assert r.variables == ("Y", "X", "U")


def test_invalid_definitions():
    with pytest.raises(SurveyError, match="kind"):
        Measure("c", "mean", "y")
    with pytest.raises(SurveyError, match="denominator"):
        Measure("c", "total", "y", denominator="x")
    with pytest.raises(SurveyError, match="positive"):
        Measure("c", "rate", "y", multiplier=0)
    with pytest.raises(SurveyError, match="at least one"):
        Indicator("A", "a", measures=())
    with pytest.raises(SurveyError, match="unique"):
        Indicator("A", "a", measures=(Measure("c", "total", "y"), Measure("c", "total", "z")))
    with pytest.raises(SurveyError):
        Indicator("A", "a", unit="family", measures=(Measure("c", "total", "y"),))
