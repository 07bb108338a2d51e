import json

import pandas as pd
import pytest
from wt_targets import DATA, REF


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
