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
