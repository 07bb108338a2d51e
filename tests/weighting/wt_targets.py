"""Population targets of the R reference cases and paths, shared by the weighting tests."""

from pathlib import Path

HERE = Path(__file__).parent
DATA = HERE.parent / "data"
REF = HERE.parent / "reference"

POP_TYPES = {"stype": {"E": 4421, "H": 755, "M": 1018}}
POP_SW = {"sch.wide": {"No": 1072, "Yes": 5122}}
POP_CAL = {"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069}
