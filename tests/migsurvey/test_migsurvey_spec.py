"""Specification: defaults, validation messages that point at the line."""

import pytest
import yaml

from migsurvey.io import InputFileError
from migsurvey.spec import SECTIONS, default_spec_text, describe_schema, load_spec, parse_spec
from surveycore import SurveyError


def test_demo_spec_is_valid_and_complete():
    spec = parse_spec(default_spec_text(), source="demo.yaml")
    assert spec["sample"]["psus"] == 180
    assert spec["estimation"]["indicators"] == ["MI1.1", "MI1.2", "MI1.3", "MI1.4"]
    assert [next(iter(s)) for s in spec["weighting"]] == ["nonresponse", "calibrate"]


def test_defaults_fill_missing_keys():
    spec = parse_spec("name: x\n")
    assert spec["frame"]["psu"] == "ea_id"
    assert spec["strata"]["labels"] == ["low", "medium", "high"]
    assert spec["estimation"]["by"][0] == []


@pytest.mark.parametrize(
    "text, where, expected",
    [
        ("sample:\n  psus: 1\n", "<spec>:2:9: sample.psus", "an integer from 2 to"),
        ("sample:\n  allocation: magic\n", "<spec>:2:15: sample.allocation", "one of"),
        ("strata:\n  labels: [a, b]\n", "strata.labels", "3 labels for 2 cuts"),
        ("weighting:\n  - rak: {}\n", "<spec>:2:5: weighting[0].rak", "one of eligibility"),
        ("frame:\n  synthetic:\n    persns: 3\n", "<spec>:3:5: frame.synthetic.persns",
         "one of persons"),
        ("estimation:\n  level: 2\n", "<spec>:2:10: estimation.level", "from 0.5 to 0.999"),
        ("quality:\n  suppress: maybe\n", "<spec>:2:13: quality.suppress", "true or false"),
        ("selection:\n  household:\n    take: {migrant: -1}\n",
         "selection.household.take.migrant", "an integer >= 0"),
    ],
)
def test_errors_point_at_the_line(text, where, expected):
    with pytest.raises(SurveyError) as info:
        parse_spec(text)
    assert where in info.value.argument
    assert expected in info.value.expected


def test_yaml_syntax_error_has_position():
    with pytest.raises(SurveyError, match="not valid YAML") as info:
        parse_spec("a: [1\n")
    assert info.value.argument.startswith("<spec>:")


def test_load_spec_file_and_missing_file(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(default_spec_text())
    assert load_spec(p)["_source"] == str(p)
    with pytest.raises(InputFileError, match="not found"):
        load_spec(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsample:\n  psus: zero\n")
    with pytest.raises(SurveyError) as info:
        load_spec(bad)
    assert info.value.argument == f"{bad}:3:9: sample.psus"


def test_schema_is_documented():
    lines = describe_schema()
    assert any(line.startswith("sample.psus") for line in lines)
    assert len(lines) >= 40
    assert set(SECTIONS) >= {"frame", "strata", "sample", "selection", "weighting",
                                  "estimation", "quality"}


def test_spec_round_trips_through_yaml():
    raw = yaml.safe_load(default_spec_text())
    again = parse_spec(yaml.safe_dump(raw))
    first = parse_spec(default_spec_text())
    for key in ("frame", "strata", "sample", "selection", "weighting", "estimation"):
        assert again[key] == first[key]


def test_documented_keys_are_the_keys():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "specification.md").read_text()
    assert "\n".join(describe_schema()) in page
