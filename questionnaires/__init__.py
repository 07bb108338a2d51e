"""questionnaires: migration concepts as code, question modules, XLSForm, validation.

See :mod:`questionnaires.inputs` for the answer columns and codes that :func:`derive` reads.
"""

from questionnaires.derive import derive, derived_variables

__all__ = ["derive", "derived_variables"]
