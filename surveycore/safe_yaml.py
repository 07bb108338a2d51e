"""YAML read as plain data: no anchors or aliases, no tags, no duplicate keys, bounded size.

PyYAML's ``safe_load`` already refuses to build Python objects, but it still expands aliases
(a few lines can expand to billions of nodes, the "billion laughs"), silently keeps the last of
two equal keys, and reports a tag as a constructor error. :func:`load_yaml` refuses all of
these before anything is built, with the file, line and column of the offending node.

Limits: :data:`MAX_BYTES` of text and :data:`MAX_NODES` nodes.
"""

from __future__ import annotations

from typing import Any

import yaml

from surveycore.errors import SurveyError

MAX_BYTES = 2_000_000
"""Largest YAML text accepted (bytes of UTF-8)."""
MAX_NODES = 200_000
"""Most YAML nodes (scalars, sequences, mappings) accepted."""


def _where(origin: str, mark: Any) -> str:
    if mark is None:
        return origin
    return f"{origin}:{mark.line + 1}:{mark.column + 1}"


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases, explicit tags and duplicate keys."""

    origin = "<yaml>"

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nodes = 0

    def _refuse(self, message: str, mark: Any, found: str, hint: str) -> SurveyError:
        return SurveyError(message, argument=_where(self.origin, mark),
                           expected="plain YAML data (mappings, lists, text, numbers)",
                           found=found, hint=hint)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise self._refuse("YAML aliases are not allowed", event.start_mark,
                               f"*{event.anchor}", "write the value out in full")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise self._refuse("YAML anchors are not allowed", event.start_mark, f"&{anchor}",
                               "remove the anchor and write each value out in full")
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!":
            raise self._refuse("YAML tags are not allowed", event.start_mark, tag,
                               "remove the tag (values are read as text, numbers, lists or mappings)")
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise self._refuse("the YAML document is too large", event.start_mark,
                               f"more than {MAX_NODES} nodes", "split the document")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise self._refuse("a YAML key must be text or a number", key_node.start_mark,
                                   repr(key)[:60], "use a plain key") from None
            if key in seen:
                first = seen[key]
                raise self._refuse(
                    "duplicate key in a YAML mapping", key_node.start_mark,
                    f"{key!r} (first at line {first.line + 1})",
                    "keep one of the two entries; YAML would silently keep the last",
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str | bytes, origin: str = "<yaml>") -> Any:
    """Parse one YAML document as plain data, refusing aliases, tags and duplicate keys.

    Parameters
    ----------
    text : str or bytes
        The document (at most :data:`MAX_BYTES` bytes).
    origin : str
        File name shown in errors (``origin:line:column``).

    Raises
    ------
    SurveyError
        For a document that is too large, not valid YAML, or uses an anchor, alias, tag or a
        duplicate key.
    """
    size = len(text.encode("utf-8") if isinstance(text, str) else text)
    if size > MAX_BYTES:
        raise SurveyError("the YAML file is too large", argument=origin,
                          expected=f"at most {MAX_BYTES} bytes", found=f"{size} bytes")
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    loader = _PlainLoader(text)
    loader.origin = origin
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SurveyError("not valid YAML", argument=_where(origin, mark),
                          expected="a YAML document", found=str(problem)[:200],
                          hint="check indentation and quoting at that line") from None
    finally:
        loader.dispose()
