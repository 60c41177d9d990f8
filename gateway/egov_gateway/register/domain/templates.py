"""Path templates compiled into a segment trie: matching a concrete path costs microseconds.

A template segment is either a literal (``persons``) or a whole-segment parameter (``{iin}``).
When several templates match, the most specific wins: at the first segment where they
differ, a literal beats a parameter (``/acts/public`` beats ``/acts/{id}``). Matching
backtracks, so a literal branch without the requested method falls back to a parameter one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import unquote

T = TypeVar("T")

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class InvalidTemplate(ValueError):
    pass


def split_path(path: str) -> list[str]:
    """``/a/b/`` → ``["a", "b"]``; the root is ``[]``. A query string is ignored."""
    if "?" in path:
        path = path.split("?", 1)[0]
    parts = path.split("/")
    if parts[0] == "":
        del parts[0]
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def param_name(segment: str) -> str | None:
    if len(segment) > 2 and segment[0] == "{" and segment[-1] == "}":
        return segment[1:-1]
    return None


def template_params(template: str) -> list[str]:
    return [p for p in (param_name(s) for s in split_path(template)) if p is not None]


def validate_template(template: str) -> str:
    """A template must start with ``/`` and name each parameter once; returns it normalised."""
    if not template.startswith("/"):
        raise InvalidTemplate(f"a path template must start with '/': {template!r}")
    segments = split_path(template)
    names: list[str] = []
    for seg in segments:
        if seg == "":
            raise InvalidTemplate(f"empty segment in {template!r}")
        name = param_name(seg)
        if name is not None:
            if not name.isidentifier():
                raise InvalidTemplate(f"bad parameter name {name!r} in {template!r}")
            names.append(name)
        elif "{" in seg or "}" in seg:
            raise InvalidTemplate(f"a parameter must be a whole segment in {template!r}")
    if len(names) != len(set(names)):
        raise InvalidTemplate(f"a parameter is named twice in {template!r}")
    return "/" + "/".join(segments)


@dataclass
class _Node(Generic[T]):
    literals: dict[str, _Node[T]] = field(default_factory=dict)
    param: _Node[T] | None = None
    param_name: str = ""
    # method -> (template, its parameter names, payload)
    ends: dict[str, tuple[str, tuple[str, ...], T]] = field(default_factory=dict)


class TemplateIndex(Generic[T]):
    """(method, template) → payload; :meth:`match` finds the most specific one for a path."""

    def __init__(self, entries: Iterable[tuple[str, str, T]] = ()) -> None:
        self._root: _Node[T] = _Node()
        self._size = 0
        for method, template, payload in entries:
            self.add(method, template, payload)

    def __len__(self) -> int:
        return self._size

    def add(self, method: str, template: str, payload: T) -> None:
        node = self._root
        for seg in split_path(template):
            name = param_name(seg)
            if name is None:
                node = node.literals.setdefault(seg, _Node())
            else:
                if node.param is None:
                    node.param = _Node(param_name=name)
                # {iin} and {id} at the same place are one branch; each template keeps its name
                node = node.param
        method = method.upper()
        if method not in node.ends:
            self._size += 1
        node.ends[method] = (template, tuple(template_params(template)), payload)

    def match(self, method: str, path: str) -> tuple[str, T, dict[str, str]] | None:
        """(template, payload, path parameters) of the best match, or None."""
        segments = split_path(path)
        values: list[str] = []
        found = self._walk(self._root, segments, 0, method.upper(), values)
        if found is None:
            return None
        template, names, payload = found
        return template, payload, dict(zip(names, values, strict=True))

    def _walk(
        self, node: _Node[T], segments: list[str], i: int, method: str, values: list[str]
    ) -> tuple[str, tuple[str, ...], T] | None:
        if i == len(segments):
            return node.ends.get(method)
        seg = segments[i]
        child = node.literals.get(seg)
        if child is not None:
            hit = self._walk(child, segments, i + 1, method, values)
            if hit is not None:
                return hit
        if node.param is not None and seg:
            values.append(unquote(seg) if "%" in seg else seg)
            hit = self._walk(node.param, segments, i + 1, method, values)
            if hit is not None:
                return hit
            values.pop()
        return None
