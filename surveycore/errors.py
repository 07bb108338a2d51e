"""One error type for the whole package.

Every refusal says what is wrong, which argument, what was expected, what was found and a
hint, so a user can fix the call without reading the source.
"""

from __future__ import annotations


class SurveyError(ValueError):
    """Bad input to a survey computation.

    Parameters
    ----------
    message : str
        What is wrong, in one sentence.
    argument : str, optional
        The argument (or column, or specification key) at fault.
    expected : str, optional
        What a valid value looks like.
    found : str, optional
        What was received.
    hint : str, optional
        How to fix it.

    Examples
    --------
    >>> err = SurveyError("weights must be positive", argument="weights",
    ...                   expected="finite values > 0", found="2 negative values",
    ...                   hint="check the weight column")
    >>> print(err)
    weights must be positive
      argument: weights
      expected: finite values > 0
      found:    2 negative values
      hint:     check the weight column
    """

    def __init__(
        self,
        message: str,
        *,
        argument: str | None = None,
        expected: str | None = None,
        found: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.argument = argument
        self.expected = expected
        self.found = found
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [self.message]
        for label, value in (
            ("argument", self.argument),
            ("expected", self.expected),
            ("found", self.found),
            ("hint", self.hint),
        ):
            if value is not None:
                lines.append(f"  {label + ':':<9} {value}")
        return "\n".join(lines)


class SurveyWarning(UserWarning):
    """A tolerated degradation of a survey computation.

    Raised with :func:`warnings.warn` (never silently ignored) when a result can still be
    given but its user must know what was done: a negative variance estimate reported as NaN,
    a model or calibration that did not converge, extreme g-weights, a stratum with a single
    PSU handled by the ``lonely_psu`` rule. The same decision is recorded in the result's
    metadata so that it survives into tables and reports.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("negative variance estimate; SE reported as NaN", SurveyWarning)
    >>> caught[0].category.__name__
    'SurveyWarning'
    """
