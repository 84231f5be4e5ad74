"""Reading YAML from anyone without running out of memory or stack.

:func:`measure` walks the parser's events (the parser itself is not recursive) and
refuses nesting deeper than :data:`MAX_DEPTH` and documents whose aliases would expand
to more than :data:`MAX_NODES` nodes (the "billion laughs"), before anything is built.
:func:`load` does that, then loads with the given (safe) loader. build, check and run
read competition.yaml through it.
"""

from __future__ import annotations

from typing import Any

#: Deepest nesting of lists and mappings accepted (competition.yaml needs about 6).
MAX_DEPTH = 100
#: Most nodes a document may hold once every alias is expanded.
MAX_NODES = 1_000_000


class YamlLimitError(ValueError):
    """The document is too deep or expands too much; ``line`` is 1-based."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def measure(text: str) -> None:
    """Refuse ``text`` when it nests too deep or its aliases expand too much.

    Raises
    ------
    YamlLimitError
        Naming the limit and the line where it was passed.
    yaml.YAMLError
        When the text is not YAML.
    """
    import yaml  # noqa: PLC0415

    parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present: fast, not recursive
    tally = _Tally()
    try:
        for event in yaml.parse(text, Loader=parser):
            tally.add(event)
    except yaml.YAMLError as error:  # libyaml scans ahead and stops at its own depth limit (1000)
        if "nesting depth" not in str(getattr(error, "problem", "")):
            raise
        mark = getattr(error, "problem_mark", None)
        raise YamlLimitError(f"nesting deeper than {MAX_DEPTH} levels", mark.line + 1 if mark else 0) from None


class _Tally:
    """Depth and size (aliases expanded) of a document, one parser event at a time."""

    def __init__(self) -> None:
        self.anchors: dict[str, int] = {}  # anchor -> size of its node
        self.open: list[list[Any]] = []  # per open collection: [anchor, nodes so far]
        self.closed = 0  # nodes of the finished top-level nodes

    def add(self, event: Any) -> None:
        import yaml  # noqa: PLC0415

        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.CollectionStartEvent):
            self.open.append([event.anchor, 1])
            if len(self.open) > MAX_DEPTH:
                raise YamlLimitError(f"nesting deeper than {MAX_DEPTH} levels", line)
            return
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, size = self.open.pop()
        elif isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, 1
        elif isinstance(event, yaml.AliasEvent):
            anchor, size = None, self.anchors.get(event.anchor, 1)
        else:
            return
        if anchor is not None:
            self.anchors[anchor] = size
        if self.open:
            self.open[-1][1] += size
        else:
            self.closed += size
        if self.closed + sum(frame[1] for frame in self.open) > MAX_NODES:
            raise YamlLimitError(f"aliases expand the document beyond {MAX_NODES:,} nodes (a \"billion laughs\")", line)


def load(text: str, loader: Any = None) -> Any:
    """``yaml.load(text)`` with ``loader`` (default SafeLoader), after :func:`measure`."""
    import yaml  # noqa: PLC0415

    measure(text)
    return yaml.load(text, Loader=loader or yaml.SafeLoader)  # noqa: S506 (safe loaders only)
