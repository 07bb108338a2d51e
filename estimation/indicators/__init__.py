"""Migration indicator tables: registry, estimation over a grid, quality flags, disclosure
control and exports.

>>> from estimation.indicators import indicator_table, REGISTRY
>>> sorted(REGISTRY)[:4]
['MI1.1', 'MI1.1F', 'MI1.2', 'MI1.3']
"""

from estimation.indicators.export import (
    published_table,
    to_csv,
    to_excel,
    to_parquet,
    to_sdmx_csv,
)
from estimation.indicators.intruder import CellFacts, Release, intruder_intervals
from estimation.indicators.quality import PRESETS, QualityRule, flag_quality
from estimation.indicators.registry import REGISTRY, Indicator, Measure, resolve_indicators
from estimation.indicators.suppression import (
    SuppressionResult,
    SuppressionRule,
    audit_suppression,
    secondary_suppression,
    suppress_table,
    table_lines,
)
from estimation.indicators.table import IndicatorTable, indicator_table
from estimation.indicators.variables import age_groups, emigrant_records, indicator_variables

__all__ = [
    "CellFacts",
    "PRESETS",
    "REGISTRY",
    "Indicator",
    "IndicatorTable",
    "Measure",
    "QualityRule",
    "Release",
    "SuppressionResult",
    "SuppressionRule",
    "age_groups",
    "audit_suppression",
    "emigrant_records",
    "flag_quality",
    "indicator_table",
    "indicator_variables",
    "intruder_intervals",
    "published_table",
    "resolve_indicators",
    "secondary_suppression",
    "suppress_table",
    "table_lines",
    "to_csv",
    "to_excel",
    "to_parquet",
    "to_sdmx_csv",
]
