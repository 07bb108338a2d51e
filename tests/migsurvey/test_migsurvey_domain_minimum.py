"""``sample.min_per_domain``: parse-time checks, the allocation of an office's frame, the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from migsurvey.cli import EXIT_INPUT, main
from migsurvey.pipeline import allocate_sample, build_frame
from migsurvey.spec import parse_spec
from surveycore import SurveyError


def _office_eas(seed: int = 5) -> pd.DataFrame:
    """An office's EA frame: text EA codes with leading zeros, region names, one small region."""
    rng = np.random.default_rng(seed)
    sizes = {"Mazowieckie": 120, "Podlaskie": 18, "Opolskie": 25, "Lubuskie": 60}
    region = np.repeat(list(sizes), list(sizes.values()))
    n = len(region)
    persons = rng.integers(150, 600, n)
    share = np.where(rng.random(n) < 0.3, rng.uniform(0.15, 0.4, n), rng.uniform(0, 0.1, n))
    share[region == "Podlaskie"] /= 4  # few migrants: the power allocation gives it little
    return pd.DataFrame({"EA_CODE": [f"{i:06d}" for i in range(n)], "region": region,
                         "hh": persons // 3, "pop": persons,
                         "born_abroad": np.round(persons * share).astype(int)})


SPEC = """
frame: {psu: EA_CODE, size: hh, prevalence: born_abroad, population: pop}
strata: {by: [region]}
sample: {psus: 40, min_per_stratum: 2%s}
"""


def test_every_region_gets_its_minimum_and_the_rest_follows_the_power_allocation():
    eas = _office_eas()
    plain = parse_spec(SPEC % "")
    spec = parse_spec(SPEC % ", min_per_domain: {by: region, psus: 8}")
    assert spec["sample"]["min_per_domain"] == {"by": ["region"], "psus": 8}
    frame = build_frame(eas, spec)
    before = allocate_sample(frame, plain)
    after = allocate_sample(frame, spec)
    per_region = after.groupby("domain")["psus"].sum()
    assert set(per_region.index) == set(eas["region"])
    assert before.assign(r=frame.groupby("stratum")["region"].first().reindex(
        before["stratum"]).to_numpy()).groupby("r")["psus"].sum()["Podlaskie"] < 8
    assert (per_region >= 8).all() and after["psus"].sum() == 40
    assert (after["psus"] >= 2).all()
    # the domain column is the region of the stratum's EAs
    region_of = frame.groupby("stratum")["region"].first()
    assert (after["domain"].to_numpy() == region_of.reindex(after["stratum"]).to_numpy()).all()


def test_a_minimum_that_cannot_hold_is_refused_naming_the_key():
    frame = build_frame(_office_eas(), parse_spec(SPEC % ""))
    spec = parse_spec(SPEC % ", min_per_domain: {by: region, psus: 11}")  # 4 x 11 > 40
    with pytest.raises(SurveyError, match="add up to more than n") as info:
        allocate_sample(frame, spec)
    assert info.value.argument == "sample.min_per_domain"
    assert "--min-per-domain" in info.value.hint


@pytest.mark.parametrize("extra, where, expected", [
    (", min_per_domain: {by: district, psus: 5}", "sample.min_per_domain.by", "strata.by"),
    (", min_per_domain: {by: region, psus: 41}", "sample.min_per_domain.psus",
     "at most sample.psus = 40"),
    (", min_per_domain: {by: region, psus: 0}", "sample.min_per_domain.psus", ">= 1"),
    (", min_per_domain: {by: region, psus: '5'}", "sample.min_per_domain.psus", "integer"),
    (", min_per_domain: {by: region}", "sample.min_per_domain", "psus"),
    (", min_per_domain: {by: region, psus: 5, pssu: 2}", "sample.min_per_domain.pssu", ""),
])
def test_wrong_min_per_domain_is_refused_at_parse_time(extra, where, expected):
    with pytest.raises(SurveyError) as info:
        parse_spec(SPEC % extra)
    assert where in info.value.argument
    assert expected in str(info.value)


def test_cli_min_per_domain_option(tmp_path, capsys):
    from migsurvey.cli import _spec, build_parser

    spec = tmp_path / "s.yaml"
    spec.write_text("frame: {synthetic: {persons: 20000}}\n"
                    "sample: {psus: 40, min_per_domain: {by: region, psus: 4}}\n")
    args = build_parser().parse_args(["demo", "--spec", str(spec), "--min-per-domain", "5"])
    assert _spec(args)["sample"]["min_per_domain"] == {"by": ["region"], "psus": 5}
    args = build_parser().parse_args(["demo", "--spec", str(spec), "--min-per-domain", "0"])
    assert _spec(args)["sample"]["min_per_domain"] is None
    # the demo specification: --min-per-domain replaces the number of its regional minimum
    args = build_parser().parse_args(["demo", "--min-per-domain", "3"])
    assert _spec(args)["sample"]["min_per_domain"] == {"by": ["region"], "psus": 3}
    # the demo with too few EAs for its regions: a clear error and the input exit code
    out = tmp_path / "out"
    assert main(["demo", "--psus", "60", "--persons", "20000", "--out", str(out), "-q"]) \
        == EXIT_INPUT
    err = capsys.readouterr().err
    assert "sample.min_per_domain" in err and "--min-per-domain" in err
    assert main(["demo", "--min-per-domain", "-2", "--out", str(out), "-q"]) == EXIT_INPUT


def test_quality_caution_df_builds_the_preset_with_a_df_limit():
    from migsurvey.pipeline import quality_rule

    spec = parse_spec("quality: {preset: abs, caution_df: 8}")
    rule = quality_rule(spec)
    assert rule.name == "abs" and rule.df_bands == ((8, "*", "caution"),)
    assert quality_rule(parse_spec("quality: {preset: abs}")).df_bands == ()
    with pytest.raises(SurveyError) as info:
        parse_spec("quality: {caution_df: 0}")
    assert "quality.caution_df" in info.value.argument
