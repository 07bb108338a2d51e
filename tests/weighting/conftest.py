import json
import sys
from pathlib import Path

import pandas as pd
import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
DATA = HERE.parent / "data"
REF = HERE.parent / "reference"

POP_TYPES = {"stype": {"E": 4421, "H": 755, "M": 1018}}
POP_SW = {"sch.wide": {"No": 1072, "Yes": 5122}}
POP_CAL = {"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069}


@pytest.fixture(scope="session")
def apiclus1():
    return pd.read_csv(DATA / "apiclus1.csv")


@pytest.fixture(scope="session")
def apistrat():
    return pd.read_csv(DATA / "apistrat.csv")


@pytest.fixture(scope="session")
def eusilc():
    return pd.read_csv(DATA / "eusilc.csv")


@pytest.fixture(scope="session")
def rcases():
    cases = json.loads((REF / "r_survey_reference.json").read_text())["cases"]
    return {c["id"]: c for c in cases}
