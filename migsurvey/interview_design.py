"""The design columns of an office's interview files, checked against the selection.

An interviewed household carries the design of its selection: its EA, stratum and region, its
inclusion probabilities ``pi1`` (the EA's) and ``pi2`` (the household's within its EA) and its
base weight ``1 / (pi1 · pi2)`` (Särndal, Swensson & Wretman 1992, §4.3). These columns are
facts of the selection, not answers: a value that the selection cannot have produced would be
carried silently into every weight and variance, so it is refused with the file, the column
and the households named:

* a person line (``line``) given twice in one household (:func:`check_person_lines`);
* a base weight that is not a positive finite number, an inclusion probability outside
  (0, 1], a base weight that is not ``1 / (pi1 · pi2)`` (:func:`check_design_weights`);
* households of one EA that disagree on its stratum or region
  (:func:`check_ea_attributes`);
* an EA that is not in the census frame, or a household whose stratum-defining columns
  differ from its EA's in the frame (:func:`check_against_frame`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from surveycore import SurveyError

BASE_WEIGHT_RTOL = 1e-3
"""Relative tolerance of ``base_weight · pi1 · pi2 = 1``: probabilities written with four
significant digits still pass; a base weight that includes another factor does not."""

EA_COLUMNS = ("stratum", "region", "district", "urban")
"""Household columns that describe the EA a household was selected in (one value per EA)."""


def _where(spec: dict, key: str) -> str:
    from migsurvey.inputs import file_key

    return file_key(spec, key)


def _examples(keys: Sequence[Any], k: int = 5) -> str:
    keys = list(keys)
    return ", ".join(map(str, keys[:k])) + (f" … ({len(keys)} in all)" if len(keys) > k else "")


def _n(count: int, word: str) -> str:
    """``1 household``, ``3 households``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def _ids(mapping: Any) -> str:
    return f"{mapping.file_name('ea_id')}/{mapping.file_name('household_id')}"


def check_person_lines(persons: pd.DataFrame, spec: dict, mapping: Any) -> None:
    """Refuse a person line number given twice in one household.

    A repeated ``(EA, household, line)`` is one person entered twice (a second data-entry pass,
    a file appended to itself): every total and share would count that person twice. Only
    checked when the persons file has the ``line`` column (``columns: {line: LINE}``).
    """
    from migsurvey.inputs import HH_KEY

    if "line" not in persons.columns:
        return
    line = persons["line"].astype(object).map(
        lambda v: v if v is None or pd.isna(v) else _code(v))
    known = line.notna().to_numpy()
    keys = persons.loc[known, HH_KEY].astype(str) + "/" + line[known].astype(str)
    dup = keys.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    repeated = pd.unique(keys[dup])
    col = mapping.file_name("line")
    raise SurveyError(
        "a person is entered twice in the persons file: the same EA, household and line",
        argument=f"{_where(spec, 'interviews.persons')} (columns {_ids(mapping)}/{col})",
        expected="one row per person: each line number once in its household",
        found=f"{len(repeated)} repeated {_ids(mapping)}/{col}: {_examples(repeated)} "
              f"({_n(int(dup.sum()), 'row')})",
        hint="remove the repeated rows (a second data entry or a file appended twice); if "
             "these are different persons, correct their line numbers")


def _code(v: Any) -> str:
    """A line number or code as text: ``3``, ``3.0`` and ``"3"`` are one code."""
    from migsurvey.inputs import _norm

    return _norm(v)


def _id_form(v: Any) -> Any:
    from migsurvey.inputs import _id_form as form

    return v if v is None else form(v)


def _numeric(households: pd.DataFrame, col: str, spec: dict, mapping: Any,
             file: str = "interviews.households") -> np.ndarray:
    """The column as floats; text, missing or infinite values refused with their households."""
    from migsurvey.inputs import HH_KEY

    s = households[col]
    if pd.api.types.is_bool_dtype(s):
        values = pd.Series(np.nan, index=s.index)
    elif pd.api.types.is_numeric_dtype(s):
        values = pd.Series(s.to_numpy(dtype=float, na_value=np.nan), index=s.index)
    else:
        values = pd.to_numeric(s.astype(object), errors="coerce").astype(float)
    bad = ~np.isfinite(values.to_numpy())
    if bad.any():
        shown = [f"{k} ({v!r})" for k, v in zip(households.loc[bad, HH_KEY], s[bad], strict=True)]
        raise SurveyError(
            f"the households file's column {mapping.file_name(col)!r} ({col}) is not a number "
            f"for {_n(int(bad.sum()), 'selected household')}",
            argument=f"{_where(spec, file)} (column "
                     f"{mapping.file_name(col)!r})",
            expected="a finite number on every selected household (a decimal point, no "
                     "thousands separator)",
            found=f"households ({_ids(mapping)}) {_examples(shown)}",
            hint=f"give {col} of every household as the selection wrote it (migsurvey select)")
    return values.to_numpy()


def check_design_weights(households: pd.DataFrame, spec: dict, mapping: Any, *,
                         file: str = "interviews.households") -> None:
    """Refuse base weights and inclusion probabilities that no selection can produce.

    Every selected household has ``0 < pi1 ≤ 1`` and ``0 < pi2 ≤ 1``, so its base weight
    ``1 / (pi1 · pi2)`` is at least 1, finite and positive: a base weight of 0 would drop a
    responding household from every estimate, and its nonresponse adjustment would hand its
    share to nobody. When the file has ``pi1`` and ``pi2`` (as ``migsurvey select`` writes
    it), the base weight must equal ``1 / (pi1 · pi2)`` within :data:`BASE_WEIGHT_RTOL`: the
    variance uses the probabilities, the point estimates the weight.
    """
    from migsurvey.inputs import HH_KEY

    where = _where(spec, file)
    w = _numeric(households, "base_weight", spec, mapping, file)
    wcol = mapping.file_name("base_weight")
    bad = w <= 0
    if bad.any():
        shown = [f"{k} ({v:g})" for k, v in zip(households.loc[bad, HH_KEY], w[bad], strict=True)]
        raise SurveyError(
            "base weights of selected households that are not positive: "
            + _n(int(bad.sum()), "household"), argument=f"{where} (column {wcol!r})",
            expected="base_weight = 1 / (pi1 · pi2) > 0 for every selected household (a "
                     "selected household has a positive inclusion probability)",
            found=f"households ({_ids(mapping)}) {_examples(shown)}",
            hint="give the base weight the selection computed (migsurvey select writes it); a "
                 "household that should not count is a disposition (4.x not eligible, 2.x "
                 "nonresponse), never a weight of 0")
    probs = {c: _numeric(households, c, spec, mapping, file) for c in ("pi1", "pi2")
             if c in households.columns}
    for c, p in probs.items():
        out = (p <= 0) | (p > 1)
        if out.any():
            shown = [f"{k} ({v:g})" for k, v in zip(households.loc[out, HH_KEY], p[out],
                                                    strict=True)]
            raise SurveyError(
                f"inclusion probabilities {c} outside (0, 1]: {_n(int(out.sum()), 'household')}",
                argument=f"{where} (column {mapping.file_name(c)!r})",
                expected=f"0 < {c} ≤ 1 ({'the EA' if c == 'pi1' else 'the household within its EA'}"
                         "'s probability of selection)",
                found=f"households ({_ids(mapping)}) {_examples(shown)}",
                hint=f"give {c} as the selection wrote it (migsurvey select)")
    if len(probs) == 2:
        product = w * probs["pi1"] * probs["pi2"]
        off = np.abs(product - 1.0) > BASE_WEIGHT_RTOL
        if off.any():
            shown = [f"{k} (base_weight {b:g}, 1/(pi1·pi2) {1 / (a * c):g})" for k, b, a, c in
                     zip(households.loc[off, HH_KEY], w[off], probs["pi1"][off],
                         probs["pi2"][off], strict=True)]
            raise SurveyError(
                f"base weights that are not 1 / (pi1 · pi2): {_n(int(off.sum()), 'household')}",
                argument=f"{where} (columns {wcol!r}, "
                         f"{mapping.file_name('pi1')!r}, {mapping.file_name('pi2')!r})",
                expected=f"base_weight · pi1 · pi2 = 1 (within {BASE_WEIGHT_RTOL:g})",
                found=f"households ({_ids(mapping)}) {_examples(shown)}",
                hint="correct the base weight or the probabilities from the selection file; a "
                     "base weight with another factor (a subsample after listing) needs that "
                     "factor in pi2")


def _ea_columns(spec: dict, households: pd.DataFrame) -> list[str]:
    cols = [*EA_COLUMNS, *spec["strata"]["by"]]
    return [c for c in dict.fromkeys(cols) if c in households.columns]


def check_ea_attributes(households: pd.DataFrame, spec: dict, mapping: Any, *,
                        file: str = "interviews.households") -> None:
    """Refuse households of one EA that disagree on the EA's stratum, region (or another
    column of the stratification, ``strata.by``): a household is in the stratum and region
    its EA was selected in."""
    from migsurvey.inputs import HH_KEY

    psu = spec["frame"]["psu"]
    if psu not in households.columns:
        return
    for col in _ea_columns(spec, households):
        codes = households[col].astype(object).map(
            lambda v: None if v is None or pd.isna(v) else _code(v))
        per_ea = codes.groupby(households[psu], sort=False).nunique()
        split = per_ea.index[per_ea > 1]
        if len(split):
            ea = split[0]
            rows = households[psu] == ea
            counts = codes[rows].value_counts()
            usual = counts.index[0]
            odd = households.loc[rows & (codes != usual), HH_KEY].tolist()
            shares = ", ".join(f"{v!r} ({_n(n, 'household')})" for v, n in counts.items())
            raise SurveyError(
                f"households of one EA give different values of {col}: an EA lies in one "
                f"{col}", argument=f"{_where(spec, file)} (column "
                                   f"{mapping.file_name(col)!r})",
                expected=f"the {col} of the EA each household was selected in",
                found=f"EA {ea}: {shares}"
                      f"; households ({_ids(mapping)}) {_examples(odd)} differ"
                      + (f"; {len(split)} EAs in all" if len(split) > 1 else ""),
                hint=f"give every household its EA's {col} as the selection file has it "
                     "(migsurvey select); a household found elsewhere is still counted in the "
                     "EA it was selected in")


def check_against_frame(households: pd.DataFrame, eas: pd.DataFrame, spec: dict,
                        mapping: Any, *, file: str = "interviews.households") -> None:
    """Refuse interviewed EAs that the census frame does not have, and households whose
    region or stratification columns differ from their EA's in the frame.

    An interviewed household comes from a selected EA, and every selected EA is in the frame:
    an EA code the frame does not know is a typing error or a household from outside the
    sample, whose weight would represent nobody's selection.
    """
    from migsurvey.inputs import HH_KEY

    psu = spec["frame"]["psu"]
    if psu not in households.columns or psu not in eas.columns:
        return
    from migsurvey.twophase import check_ea_coding

    try:  # codes that lost their leading zeros are named as such first
        check_ea_coding(eas, households, psu)
    except SurveyError as exc:
        raise SurveyError(exc.message, argument=f"{_where(spec, file)} "
                          f"(column {mapping.file_name(psu)!r})", expected=exc.expected,
                          found=exc.found, hint=exc.hint) from None
    frame_ids = pd.Index(eas[psu].astype(object).map(_code))
    codes = households[psu].astype(object).map(_code)
    unknown = ~codes.isin(frame_ids).to_numpy()
    if unknown.any():
        missing = pd.unique(codes[unknown])
        census = _where(spec, "frame.census")
        raise SurveyError(
            "EAs of the households file that are not in the census frame: "
            f"{_n(len(missing), 'EA')} ({_n(int(unknown.sum()), 'household')})",
            argument=f"{_where(spec, file)} (column "
                     f"{mapping.file_name(psu)!r})",
            expected=f"the EAs selected from the census ({census})",
            found=f"EAs {_examples(missing)}; e.g. households "
                  f"{_examples(households.loc[unknown, HH_KEY].tolist(), 3)}; the frame has "
                  f"EAs {_examples(sorted(frame_ids), 4)}",
            hint="correct the EA codes (leading zeros are part of a code), or give the census "
                 "the sample was selected from; an interviewed household must come from a "
                 "selected EA")
    cols = [c for c in _ea_columns(spec, households) if c != "stratum" and c in eas.columns]
    if not cols:
        return
    frame = eas.assign(_ea=frame_ids).drop_duplicates("_ea").set_index("_ea")
    for col in cols:
        expected = codes.map(frame[col].astype(object).map(
            lambda v: None if v is None or pd.isna(v) else _code(v)))
        given = households[col].astype(object).map(
            lambda v: None if v is None or pd.isna(v) else _code(v))
        # codes written with and without leading zeros (01 and 1) are a coding mismatch of
        # the two files, named where the codes are matched (margins, strata); here only a
        # different code
        differ = (given.notna() & (given.map(_id_form) != expected.map(_id_form))).to_numpy()
        if differ.any():
            shown = [f"{k} ({g!r}, EA {e} in {x!r})" for k, g, e, x in
                     zip(households.loc[differ, HH_KEY], given[differ], codes[differ],
                         expected[differ], strict=True)]
            raise SurveyError(
                f"households whose {col} is not their EA's {col} in the census frame: "
                + _n(int(differ.sum()), "household"),
                argument=f"{_where(spec, file)} (column "
                         f"{mapping.file_name(col)!r})",
                expected=f"the {col} of the household's EA in the census "
                         f"({_where(spec, 'frame.census')})",
                found=f"households ({_ids(mapping)}) {_examples(shown)}",
                hint=f"a household is counted in the {col} its EA was selected in: give it the "
                     f"EA's {col} (as in the selection file of migsurvey select)")


def read_selection(spec: dict, source: Any) -> pd.DataFrame:
    """A selection file of ``migsurvey select`` — the selected EAs (``--psus``) or the
    selected households (``--out``) — read through ``columns:``: one row per EA with its code
    (``frame.psu``, as text) and, when the file has them, its ``stratum`` and ``pi1``."""
    from migsurvey.inputs import ColumnMapping
    from migsurvey.io import read_table

    mapping = ColumnMapping.from_spec(spec, "census")
    psu = spec["frame"]["psu"]
    if isinstance(source, pd.DataFrame):
        df = source
    else:
        df = read_table(source, text=mapping.file_names(["ea_id", "household_id", psu]))
    mapping.check_header(list(df.columns), what="selection file", required=(psu,), spec=spec)
    out = mapping.apply(df, what="selection file", spec=spec)
    out = out.loc[out[psu].notna(), [c for c in (psu, "stratum", "pi1") if c in out.columns]]
    out[psu] = out[psu].astype(object).map(_code)
    return out.drop_duplicates(psu).reset_index(drop=True)


def selected_eas(spec: dict, source: Any) -> pd.Series:
    """The EA codes (``frame.psu``) of a selection file (:func:`read_selection`)."""
    return pd.Series(read_selection(spec, source)[spec["frame"]["psu"]], dtype=object)


def check_selection(households: pd.DataFrame, spec: dict, mapping: Any, *,
                    selection: Any = None, allocation: pd.DataFrame | None = None,
                    file: str = "interviews.households", uncovered: Any = ()) -> list:
    """Refuse a households file from which selected EAs are missing.

    Every selected EA is a PSU of the design: an EA whose households were dropped from the
    households file (a deleted block of rows, an EA that was not reached and left out) would
    vanish from every estimate, biasing the totals down by its expected share and the SEs by
    the PSU lost from its stratum. With ``selection`` (the selection file of ``migsurvey
    select``, ``interviews.selection``) the EAs are compared one by one, both ways: a missing
    EA and an EA that was not selected are refused with their codes. Without it, the number of
    EAs of each stratum is compared with the allocation of the specification (``allocation``,
    ``psus`` per ``stratum``): a stratum with fewer EAs is refused, naming it; EAs without any
    household of a covered screening class (``selection.household.take`` 0) have no selected
    household and are not counted missing.

    ``uncovered`` are the EAs whose census listing has no household of a screening class with
    a take above 0: they have no selected household, so their absence is not a loss; those of
    the selection that the file does not have are returned (they are PSUs with zero totals,
    :func:`migsurvey.pipeline.weight_interviews` keeps them in the design).
    """
    psu = spec["frame"]["psu"]
    if psu not in households.columns:
        return []
    have = pd.Index(pd.unique(households[psu].astype(object).map(_code)))
    where = f"{_where(spec, file)} (column {mapping.file_name(psu)!r})"
    keep_hint = ("an EA is a PSU of the design: leaving it out biases the totals and their "
                 "SEs. Keep every selected household of the EA in the households file with its "
                 "disposition: 2.x (nonresponse) when the EA could not be interviewed (access "
                 "refused, insecurity, not reached) — this declares it a non-responding EA, and "
                 "the nonresponse step gives its weight to the respondents of its class — or "
                 "4.x (not eligible) for dwellings found vacant or out of scope")
    what = "households file" if file == "interviews.households" else "weighted file"
    if file == "interviews.persons":  # a weighted file
        keep_hint = ("an EA is a PSU of the design: leaving it out biases the totals and their "
                     "SEs. migsurvey weight keeps an EA in which nobody was interviewed as a "
                     "row of weight 0 (column empty_ea); weight the interview files again "
                     "with every selected household (2.x for an EA that could not be "
                     "interviewed: a non-responding EA), or estimate from the interview "
                     "files")
    if selection is not None:
        source = (selection if not isinstance(selection, pd.DataFrame)
                  else "the selection data frame")
        sel_key = (_where(spec, "interviews.selection") if not isinstance(selection, pd.DataFrame)
                   else "selection=")
        chosen = pd.Index(selected_eas(spec, selection))
        absent = chosen.difference(have, sort=False)
        without = {_code(e) for e in uncovered}
        missing = pd.Index([e for e in absent if e not in without])
        if len(missing):
            raise SurveyError(
                f"selected EAs missing from the {what}: {_n(len(missing), 'EA')} of "
                f"the {len(chosen)} in the selection file", argument=where,
                expected=f"every EA of the selection file {source} ({sel_key}) with its "
                         "selected households",
                found=f"EAs {_examples(list(missing), 10)} are not in the {what}",
                hint=keep_hint)
        stray = have.difference(chosen, sort=False)
        if len(stray):
            raise SurveyError(
                f"EAs of the {what} that are not in the selection file: "
                f"{_n(len(stray), 'EA')}", argument=where,
                expected=f"only EAs of the selection file {source} ({sel_key})",
                found=f"EAs {_examples(list(stray), 10)}",
                hint="correct the EA codes (leading zeros are part of a code), or give the "
                     "selection file the sample was drawn with")
        return [e for e in absent if e in without]
    if allocation is None or "stratum" not in households.columns:
        return []
    from migsurvey.spec import uncovered_classes

    if uncovered_classes(spec):
        return []  # an EA with no household of a covered class has no selected household
    planned = allocation.set_index("stratum")["psus"]
    planned.index = planned.index.astype(str)
    strata = households["stratum"].astype(object).map(str)
    if not strata.isin(planned.index).any():
        return  # strata of another scheme: the allocation does not describe this file
    counts = households.assign(_s=strata, _e=households[psu].astype(object).map(_code)) \
        .groupby("_s")["_e"].nunique().reindex(planned.index, fill_value=0)
    short = planned.index[counts.to_numpy() < planned.to_numpy()]
    if len(short):
        shown = [f"{s}: {int(counts[s])} of {int(planned[s])}" for s in short]
        raise SurveyError(
            f"strata of the {what} with fewer EAs than the design selected: "
            f"{_n(len(short), 'stratum')}", argument=where,
            expected="every selected EA with its selected households (the allocation of "
                     "sample.psus: EAs per stratum)",
            found=f"EAs per stratum {_examples(shown, 8)}",
            hint="give the selection file (interviews.selection or --selection: the --psus "
                 "or --out file of migsurvey select) to have the missing EAs named; "
                 + keep_hint)
    return []


def check_weighted(persons: pd.DataFrame, spec: dict, mapping: Any, *,
                   households: pd.DataFrame | None = None, eas: pd.DataFrame | None = None,
                   selection: Any = None, allocation: pd.DataFrame | None = None) -> None:
    """The checks of the design columns that hold for an already weighted file.

    A weighted file (``migsurvey weight``, or weights made elsewhere) may carry calibrated
    weights, so its final ``weight`` is not ``1 / (π₁ π₂)``; its design columns are still
    facts of the selection, checked as on the interview route:

    * a person line given twice in one household (:func:`check_person_lines`);
    * inclusion probabilities ``pi1``, ``pi2`` outside (0, 1] and, when the file keeps the
      ``base_weight`` it was weighted from, a base weight that is not ``1 / (pi1 · pi2)``
      (:func:`check_design_weights`; the rows of weight 0 that keep an EA without interviewed
      persons in the design, :mod:`migsurvey.empty_eas`, are left out);
    * rows of one EA that disagree on its stratum or region (:func:`check_ea_attributes`);
    * with the census EA frame ``eas``: an EA that the frame does not have, and a region that
      is not the EA's in the frame (:func:`check_against_frame`);
    * with ``selection`` or ``allocation``: a selected EA missing from the file
      (:func:`check_selection`; ``migsurvey weight`` writes an EA without respondents as a
      row of weight 0 in both weighted files).

    ``households`` (the weighted households file) gets the same checks of its design columns.
    """
    from migsurvey.empty_eas import EMPTY_EA

    for frame, key in ((persons, "interviews.persons"), (households, "interviews.households")):
        if frame is None:
            continue
        if key == "interviews.persons":
            check_person_lines(frame, spec, mapping)
        real = frame
        if EMPTY_EA in frame.columns:
            real = frame.loc[~frame[EMPTY_EA].astype(str).str.lower().isin(["true", "1"])]
        if "base_weight" in real.columns:
            check_design_weights(real, spec, mapping, file=key)
        else:
            _check_probabilities(real, spec, mapping, key)
        check_ea_attributes(frame, spec, mapping, file=key)
        if eas is not None:
            check_against_frame(frame, eas, spec, mapping, file=key)
    check_selection(persons, spec, mapping, selection=selection, allocation=allocation,
                    file="interviews.persons")
    if households is not None:
        check_selection(households, spec, mapping, selection=selection, allocation=allocation,
                        file="interviews.households")


def _check_probabilities(frame: pd.DataFrame, spec: dict, mapping: Any, file: str) -> None:
    """Inclusion probabilities outside (0, 1] in a file without its base weight."""
    from migsurvey.inputs import HH_KEY

    for c in ("pi1", "pi2"):
        if c not in frame.columns:
            continue
        p = _numeric(frame, c, spec, mapping, file)
        out = (p <= 0) | (p > 1)
        if out.any():
            shown = [f"{k} ({v:g})" for k, v in zip(frame.loc[out, HH_KEY], p[out], strict=True)]
            raise SurveyError(
                f"inclusion probabilities {c} outside (0, 1]: {_n(int(out.sum()), 'row')}",
                argument=f"{_where(spec, file)} (column {mapping.file_name(c)!r})",
                expected=f"0 < {c} ≤ 1", found=f"households ({_ids(mapping)}) {_examples(shown)}",
                hint=f"give {c} as the selection wrote it (migsurvey select)")


def check_final_weights(frame: pd.DataFrame, spec: dict, mapping: Any, file: str) -> None:
    """Refuse final weights of a weighted file that are not finite numbers ≥ 0 (text, blank,
    infinite or negative), naming the file, its column and the rows.

    A weight of 0 is kept: it is a row outside every estimate (a row that keeps an EA without
    interviewed persons in the design, :mod:`migsurvey.empty_eas`).
    """
    from migsurvey.inputs import HH_KEY
    from surveycore.checks import _shown

    s = frame["weight"]
    if pd.api.types.is_bool_dtype(s):
        values = np.full(len(s), np.nan)
    elif pd.api.types.is_numeric_dtype(s):
        values = s.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = pd.to_numeric(s.astype(object), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if not bad.any():
        return
    col = mapping.file_name("weight")
    path = spec["interviews"][file.split(".")[-1]]
    rows = np.flatnonzero(bad)
    keys = frame[HH_KEY].to_numpy()[rows] if HH_KEY in frame.columns else rows + 2
    shown = [f"{k} ({_shown(v)})" for k, v in zip(keys, s.to_numpy()[rows], strict=True)]
    raise SurveyError(
        f"weights in column {col!r} of {path} that are not finite numbers ≥ 0: "
        f"{_n(len(rows), 'row')}", argument=f"{_where(spec, file)} (column {col!r})",
        expected="a finite weight ≥ 0 on every row (a decimal point, no thousands separator)",
        found=f"row{'s' if len(rows) > 1 else ''} {', '.join(str(int(i) + 2) for i in rows[:5])}"
              f"{' …' if len(rows) > 5 else ''} of the file, households ({_ids(mapping)}) "
              f"{_examples(shown)}",
        hint="give the weights migsurvey weight wrote; a person who should not count has no "
             "row, never a negative or blank weight")
