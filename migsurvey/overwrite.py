"""Outputs never replace inputs: a command refuses to write over the files it reads.

``migsurvey estimate --out persons.csv`` would otherwise replace the interview file it has just
read by the indicator table, and ``migsurvey select --out census.csv`` the census by the
sample. Every command of the command line collects the files it reads (:func:`input_files`:
the specification, the census and the interview files) and refuses an output that is one of
them, before anything is computed (:func:`refuse_overwrite`) and again for each file a
release folder receives (:func:`migsurvey.outputs.staged`).

An output is the same file as an input when the two names resolve to one path (symbolic links
and ``..`` followed: :func:`os.path.realpath`) or name one file on disk (a hard link:
:func:`os.path.samefile`); an output inside an input folder (a Parquet dataset) or matching an
input glob would change that input too, and is refused as well. Two outputs of one command
that are the same file are refused, since one would replace the other.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from surveycore import SurveyError

Named = tuple[str, str | Path]
"""A file with the option or specification key that names it (for messages)."""


def input_files(spec: dict | None, spec_path: str | Path | None = None) -> list[Named]:
    """The files a command reads: the specification file and the files it names
    (``frame.census``, ``interviews.households``, ``persons``, ``emigrants``, ``selection``),
    each with the option or key that names it."""
    from migsurvey.inputs import file_key

    out: list[Named] = []
    if spec_path:
        out.append(("--spec", spec_path))
    if spec is None:
        return out
    keys = [("frame", "census")] + [("interviews", k) for k in
                                    ("households", "persons", "emigrants", "selection")]
    for section, key in keys:
        value = (spec.get(section) or {}).get(key)
        if value:
            out.append((file_key(spec, f"{section}.{key}"), value))
    return out


def _real(p: str | Path) -> str:
    return os.path.realpath(os.path.expanduser(str(p)))


def _is_glob(p: str | Path) -> bool:
    return any(ch in str(p) for ch in "*?[")


def _clash(output: str | Path, source: str | Path) -> str | None:
    """How writing ``output`` would change ``source`` (``None`` when it would not)."""
    out = _real(output)
    if _is_glob(source):
        pattern = _real(Path(source).parent) + os.sep + Path(source).name
        return "matches the input pattern" if fnmatch.fnmatch(out, pattern) else None
    src = _real(source)
    if out == src:
        return "is the input folder" if os.path.isdir(src) else "is the same file as"
    try:
        if os.path.exists(output) and os.path.exists(source) and os.path.samefile(output,
                                                                                  source):
            return "is a link to"
    except OSError:
        return None
    if os.path.isdir(src) and out.startswith(src.rstrip(os.sep) + os.sep):
        return "is inside the input folder"
    return None


def refuse_overwrite(outputs: Iterable[Named], inputs: Sequence[Named]) -> None:
    """Refuse an output that would replace or change an input, or another output.

    Parameters
    ----------
    outputs : iterable of (str, path)
        The files (or folders) about to be written, each with the option that names it
        (``--out``).
    inputs : sequence of (str, path)
        The files read (:func:`input_files`).

    Raises
    ------
    SurveyError
        Naming the output, the input and its option or specification key.
    """
    written: list[Named] = []
    for name, path in outputs:
        for source_name, source in [*inputs, *written]:
            how = _clash(path, source)
            if how is None:
                continue
            is_input = (source_name, source) in inputs
            raise SurveyError(
                "an output would replace " + ("an input file" if is_input
                                              else "another output of the command"),
                argument=name,
                expected="an output file that is not read by the command" if is_input
                else "a different file for each output",
                found=f"{path} {how} {source} ({source_name})",
                hint="write the output under another name or in another folder")
        written.append((name, path))
