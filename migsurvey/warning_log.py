"""Warnings recorded while a survey is processed, to travel with its numbers.

:func:`recording` collects every :class:`surveycore.SurveyWarning` issued inside it (the
weighting diagnostics, questions ``derive`` could not use, single-PSU strata, standard errors
that treat the weights as fixed …) and issues them again when it ends, so that they still
reach the console; :meth:`WarningLog.messages` gives them, in order and once each, for the
metadata of the exports (SDMX annotations, the Excel ``notes`` sheet, Parquet key-value
metadata, the CSV sidecar).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from surveycore import SurveyWarning


class WarningLog:
    """The warnings caught so far (see :func:`recording`)."""

    def __init__(self, caught: list) -> None:
        self._caught = caught

    def messages(self) -> list[str]:
        """The :class:`SurveyWarning` messages, in order, each once."""
        out: list[str] = []
        for w in self._caught:
            msg = str(w.message)
            if issubclass(w.category, SurveyWarning) and msg not in out:
                out.append(msg)
        return out


@contextmanager
def recording() -> Iterator[WarningLog]:
    """Record the warnings issued inside the block; issue them again when it ends, also when
    it ends with a refusal (the warnings often explain it)."""
    pending: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SurveyWarning)
            pending = caught
            yield WarningLog(caught)
    finally:
        for w in list(pending):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def merge(*groups: list[str] | tuple[str, ...] | None) -> list[str]:
    """Messages of several lists, in order, each once."""
    out: list[str] = []
    for g in groups:
        for m in g or ():
            if m not in out:
                out.append(str(m))
    return out
