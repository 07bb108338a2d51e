"""Helpers shared by the migsurvey tests (a uniquely named module: tests have no packages)."""

from __future__ import annotations

import yaml

from migsurvey.spec import default_spec_text

SMALL = {"persons": 120_000, "psus": 60, "min_per_region": 6}


def small_spec_text(**changes) -> str:
    """The demo specification on a small census (fast), as YAML text."""
    raw = yaml.safe_load(default_spec_text())
    raw["frame"]["synthetic"]["persons"] = SMALL["persons"]
    raw["sample"]["psus"] = SMALL["psus"]
    raw["sample"]["min_per_domain"] = {"by": "region", "psus": SMALL["min_per_region"]}
    for key, value in changes.items():
        raw[key] = value
    return yaml.safe_dump(raw, sort_keys=False)
