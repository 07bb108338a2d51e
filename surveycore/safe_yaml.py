"""YAML read as plain data: no anchors or aliases, no tags, no duplicate keys, bounded size.

PyYAML's ``safe_load`` already refuses to build Python objects, but it still expands aliases
(a few lines can expand to billions of nodes, the "billion laughs"), silently keeps the last of
two equal keys, and reports a tag as a constructor error. :func:`load_yaml` refuses all of
these before anything is built, with the file, line and column of the offending node.

A merge key (``<<: {a: 1}``, YAML 1.1) is read as PyYAML's safe loader reads it: the keys of
the merged mapping are keys of the mapping that holds it. A key given both there and in the
mapping itself is a duplicate key, and refused as one (YAML would silently keep one of them).

Limits: :data:`MAX_BYTES` of text, :data:`MAX_NODES` nodes and :data:`MAX_DEPTH` levels of
nesting (a deeply nested ``[[[[…]]]]`` is refused as it is read, before the recursive
composition of the document could exhaust Python's stack).
"""

from __future__ import annotations

from typing import Any

import yaml

from surveycore.errors import SurveyError

MAX_BYTES = 2_000_000
"""Largest YAML text accepted (bytes of UTF-8)."""
MAX_NODES = 200_000
"""Most YAML nodes (scalars, sequences, mappings) accepted."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists accepted."""
MERGE_TAG = "tag:yaml.org,2002:merge"


def _where(origin: str, mark: Any) -> str:
    if mark is None:
        return origin
    return f"{origin}:{mark.line + 1}:{mark.column + 1}"


def too_deep(event: Any, depth: int, origin: str) -> SurveyError | None:
    """The refusal of a collection opened at nesting ``depth`` beyond :data:`MAX_DEPTH`
    (``None`` when it is within the limit); ``event`` is the YAML event that opens it."""
    if depth <= MAX_DEPTH:
        return None
    return SurveyError("the YAML document is nested too deeply",
                       argument=_where(origin, event.start_mark),
                       expected=f"at most {MAX_DEPTH} levels of mappings and lists",
                       found=f"more than {MAX_DEPTH} levels",
                       hint="a specification or module needs a few levels; check the brackets")


def flatten_merges(node: Any, origin: str) -> None:
    """Resolve the merge keys (``<<``) of every mapping of a composed ``node`` in place, as
    PyYAML's safe loader does: the merged keys come first, so that a key also given in the
    mapping itself is seen as a duplicate by the caller's check."""
    constructor = yaml.constructor.SafeConstructor()
    stack, seen = [node], set()
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            _flatten(constructor, n, origin)
            stack.extend(v for pair in n.value for v in pair)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)


def _flatten(constructor: Any, node: Any, origin: str) -> None:
    if not any(k.tag == MERGE_TAG for k, _ in node.value):
        return
    try:
        constructor.flatten_mapping(node)
    except yaml.constructor.ConstructorError as exc:
        raise SurveyError("a YAML merge key (<<) must merge a mapping",
                          argument=_where(origin, exc.problem_mark),
                          expected="<<: {key: value, ...} or a list of mappings",
                          found=str(exc.problem)[:200],
                          hint="write the keys into the mapping itself") from None


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases, explicit tags and duplicate keys."""

    origin = "<yaml>"

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nodes = 0
        self._depth = 0

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
        self._depth += 1
        try:
            deep = too_deep(event, self._depth, self.origin)
            if deep is not None:
                raise deep
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        _flatten(self, node, self.origin)
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
