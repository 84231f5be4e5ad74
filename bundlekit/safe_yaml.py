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

    anchors: dict[str, int] = {}
    stack: list[list[Any]] = []  # per open collection: [anchor, nodes so far]
    total = 0
    parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present: fast, not recursive
    for event in yaml.parse(text, Loader=parser):
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 1])
            if len(stack) > MAX_DEPTH:
                raise YamlLimitError(f"nesting deeper than {MAX_DEPTH} levels", line)
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, size = stack.pop()
        elif isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, 1
        elif isinstance(event, yaml.AliasEvent):
            anchor, size = None, anchors.get(event.anchor, 1)
        else:
            continue
        if anchor is not None:
            anchors[anchor] = size
        if stack:
            stack[-1][1] += size
        else:
            total += size
        if total + sum(frame[1] for frame in stack) > MAX_NODES:
            raise YamlLimitError(f"aliases expand the document beyond {MAX_NODES:,} nodes (a \"billion laughs\")", line)


def load(text: str, loader: Any = None) -> Any:
    """``yaml.load(text)`` with ``loader`` (default SafeLoader), after :func:`measure`."""
    import yaml  # noqa: PLC0415

    measure(text)
    return yaml.load(text, Loader=loader or yaml.SafeLoader)  # noqa: S506 (safe loaders only)
