"""Start a new task from a template: `bundlekit new NAME --kind KIND`.

Creates ``bundles/NAME/`` (or ``DIR/NAME/`` with ``--dest DIR``): a complete task that
builds, passes `bundlekit check` and scores its baselines, in-process and in Docker,
without any edit. It holds the declaration and stand-in data generator (``task.py``),
``competition.yaml``, the pages and a logo; the build takes the programs, baselines and
starting kit from the kind (``bundlekit/layers.py``), so the new task holds only the files
of its template that differ from its declared kind's (:func:`own_files`: none for the
standard kinds; the custom kind's scorer, metric and tests). Every place an organiser must
write something is marked ``TODO(organiser)``: ``grep -rn "TODO(organiser)" bundles/NAME``.
docs/new-task-guide.md explains how to turn the scaffold into a real task.

Kinds:
  ranking         documents ranked per query, MAP@10 (like fusion-int)
  retrieval       ranked lists per query, relevance and diversity: F1@20, CR@20, P@20 (like fusion-div)
  multilabel      a set of labels per item, mean per-item F1 (like fusion-cap)
  classification  one class per item (--classes A,B[,...]; binary or multi-class): macro F1 and accuracy
  regression      one number per item: Spearman and Pearson correlation, RMSE
  custom          one number per item, scored by your own metric (a working stub with its test)

Templates live in ``bundlekit/templates/``: ``common/`` holds what every task shares,
``<kind>/`` what a kind adds or replaces, and ``<kind>/template.yaml`` the kind's
description, its base kind (if any), the base's files it leaves out, its default
``classes`` (kinds whose task has a fixed set of classes: ``--classes``) and the values of
its ``__MARKERS__``, its ``metrics`` (written into ``TASK.metrics``) and ``item_columns``.
Marker values and file paths may hold the markers a declaration determines
(``__TASK_NAME__``, ``__TASK_ID__``, ``__CLASS_LIST__``, ``__ITEM_COLUMN__``...).

Safety: the kit's own tasks (:data:`KIT_TASKS`) are never replaced, a name that differs
from an existing task only by ``-`` vs ``_`` is refused (the build imports both under the
same module names), and ``--force`` replaces only a task folder (one with a task.py).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from bundlekit import layers
from bundlekit.declaration import KINDS
from bundlekit.project import BUNDLES_DIR_ENV, find_bundles_dir

TEMPLATES_DIR = Path(__file__).resolve().with_name("templates")
COMMON = "common"
MANIFEST = "template.yaml"
#: Scaffold-time markers: ``__UPPER_CASE__``. The build's own placeholders are ``{{ name }}``
#: and stay untouched; Python dunders (``__init__``) are lower case and never match.
MARKER = re.compile(r"__([A-Z][A-Z0-9_]*)__")
#: A marker alone on its line: replaced by a (possibly multi-line) block, each line indented like it.
BLOCK_MARKER = re.compile(r"^(?P<indent>[ \t]*)__(?P<name>[A-Z][A-Z0-9_]*)__[ \t]*$", re.MULTILINE)
TASK_NAME = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
MAX_NAME_LENGTH = 40
MAX_TITLE_LENGTH = 200
#: Characters a title may not hold: they break the yaml's quoted string or the build's ``{{ }}``.
TITLE_FORBIDDEN = '"\\{}'
#: The tasks this repository ships (bundles/): `bundlekit new` never creates or replaces them.
KIT_TASKS = ("fusion-cap", "fusion-div", "fusion-int", "fusion-mem")
CLASS_NAME = re.compile(r"[A-Za-z0-9_-]+")
#: Not a class name: a run's header line ``item_id,label`` would read as an item.
LABEL_COLUMN = "label"
#: Never copied from a template folder.
SKIPPED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".DS_Store"})


class ScaffoldError(Exception):
    """A task cannot be created; the message says why and what to do, in one line."""


@dataclass(frozen=True)
class Template:
    """A kind's template: its folders, from the most general to the most specific, and its markers."""

    kind: str
    summary: str
    layers: tuple[Path, ...]
    markers: dict[str, str]
    excluded: frozenset[str]
    classes: tuple[str, ...] = ()
    metrics: tuple[dict, ...] = ()
    item_columns: tuple[str, ...] = ()
    #: The prediction type its tasks declare (``TASK.kind``): the kind itself or its nearest base among KINDS.
    declared_kind: str = ""


def available_kinds() -> list[str]:
    """The kinds a task can be created from (folders of the templates with a template.yaml)."""
    return sorted(p.name for p in TEMPLATES_DIR.iterdir() if (p / MANIFEST).is_file())


def load_template(kind: str) -> Template:
    """Read the kind's template.yaml and those of its bases."""
    import yaml  # noqa: PLC0415

    kinds = available_kinds()
    if kind not in kinds:
        raise ScaffoldError(f"unknown kind {kind!r}; kinds: {', '.join(kinds)}")
    chain: list[tuple[str, dict]] = []
    current: str | None = kind
    while current is not None:
        if any(name == current for name, _ in chain):
            raise ScaffoldError(f"templates: the bases of {kind!r} form a loop at {current!r}")
        manifest = yaml.safe_load((TEMPLATES_DIR / current / MANIFEST).read_text(encoding="utf-8")) or {}
        chain.append((current, manifest))
        current = manifest.get("base")
    markers: dict[str, str] = {}
    excluded: set[str] = set()
    classes: tuple[str, ...] = ()
    metrics: tuple[dict, ...] = ()
    item_columns: tuple[str, ...] = ()
    for _, manifest in reversed(chain):
        markers.update({str(k): str(v) for k, v in (manifest.get("markers") or {}).items()})
        excluded.update(str(path) for path in manifest.get("exclude") or [])
        classes = tuple(str(label) for label in manifest.get("classes") or classes)
        metrics = tuple(manifest.get("metrics") or metrics)
        item_columns = tuple(str(column) for column in manifest.get("item_columns") or item_columns)
    folders = (TEMPLATES_DIR / COMMON, *(TEMPLATES_DIR / name for name, _ in reversed(chain)))
    declared_kind = next((name for name, _ in chain if name in KINDS), "")
    return Template(kind, str(chain[0][1].get("summary", "")), folders, markers, frozenset(excluded), classes,
                    metrics, item_columns, declared_kind)


def render(text: str, markers: dict[str, str], where: str) -> str:
    """Replace the ``__MARKERS__`` of one template file.

    A marker alone on its line takes a block of lines, each indented like the marker;
    any other marker takes a one-line value. A marker without a value is a template bug.
    """
    def block(match: re.Match) -> str:
        value = _value(match["name"], markers, where).rstrip("\n")
        return "\n".join(match["indent"] + line if line else line for line in value.split("\n"))

    def inline(match: re.Match) -> str:
        value = _value(match[1], markers, where)
        if "\n" in value.rstrip("\n"):
            raise ScaffoldError(f"template {where}: the block __{match[1]}__ must stand alone on its line")
        return value.rstrip("\n")

    return MARKER.sub(inline, BLOCK_MARKER.sub(block, text))


def _value(name: str, markers: dict[str, str], where: str) -> str:
    if name not in markers:
        raise ScaffoldError(f"template {where}: no value for the marker __{name}__")
    return markers[name]


def template_files(template: Template) -> dict[str, Path]:
    """Relative path -> source file; a more specific layer replaces a file of the same path.

    Files a kind's ``exclude`` list names (paths from the task root) are left out.
    """
    files: dict[str, Path] = {}
    for layer in template.layers:
        for path in sorted(layer.rglob("*")):
            relative = path.relative_to(layer)
            if path.is_file() and not SKIPPED_PARTS.intersection(relative.parts) and relative.as_posix() != MANIFEST:
                files[relative.as_posix()] = path
    return {relative: path for relative, path in sorted(files.items()) if relative not in template.excluded}


def default_title(name: str) -> str:
    """A readable title from the task name: ``fusion-mem`` -> ``Fusion mem``."""
    words = re.split(r"[-_]", name)
    return " ".join([words[0].capitalize(), *words[1:]])


def create_task(name: str, kind: str, dest: Path | None = None, title: str | None = None,
                force: bool = False, classes: Sequence[str] | None = None) -> Path:
    """Create the task ``dest/name`` from the ``kind`` template; return its folder.

    Parameters
    ----------
    name : str
        Folder and bundle name: lower case letters and digits, words joined by ``-`` or ``_``;
        not one of :data:`KIT_TASKS`, nor an existing task's name with ``-`` and ``_`` swapped.
    kind : str
        One of :func:`available_kinds`.
    dest : Path, optional
        Where task sources live (default: the project's ``bundles/``, created in the working
        folder when no project is found; ``bundlekit build`` reads there).
    title : str, optional
        The competition's title (default: made from the name).
    force : bool
        Replace an existing ``dest/name`` task folder (one with a task.py) entirely.
    classes : sequence of str, optional
        The task's classes, for a kind that has classes (default: the template's).

    Raises
    ------
    ScaffoldError
        On an invalid name, title, kind or classes, or an existing folder that may not be replaced.
    """
    dest = Path(dest) if dest is not None else find_bundles_dir()
    check_name(name, dest)
    title = checked_title(name, title)
    template = load_template(kind)
    chosen = checked_classes(template, classes)
    target = Path(dest) / name
    clear_target(target, force)
    own = layers.declaration_markers(name, title, kind, chosen or None, template.item_columns)
    markers = {**layers.render_markers(template.markers, own, f"{kind}:{MANIFEST}"),
               "DECLARED_METRICS": declared_metrics(template.metrics)}
    for relative, text in own_files(template, markers, name, title, chosen).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (target / "logo.png").write_bytes(logo_png(name))
    return target


def own_files(template: Template, markers: dict[str, str], name: str, title: str,
              classes: tuple[str, ...]) -> dict[str, str]:
    """The files a new task of ``template`` holds: relative path -> text.

    Every file of the template, rendered, except those the build derives identically from
    the declared kind (``bundlekit.layers``): a kind's programs, starting kit and baselines
    stay in the kit, and a task holds only what is its own. ``solutions/`` is kept whole
    when the template's baselines differ from the declared kind's in any way.
    """
    files = layers.kind_files(template.kind, markers)
    derived = layers.derived_files(template.declared_kind, layers.declaration_markers(
        name, title, template.declared_kind, classes or None, template.item_columns))
    kept = {}
    for relative, text in files.items():
        part = layers.part_of(relative)
        if part not in layers.DERIVED_PARTS:
            kept[relative] = text
        elif part in layers.WHOLE_PARTS:
            wanted = {r: t for r, t in files.items() if layers.part_of(r) == part}
            if wanted != {r: t for r, t in derived.items() if layers.part_of(r) == part}:
                kept[relative] = text
        elif derived.get(relative) != text:
            kept[relative] = text
    return kept


def declared_metrics(metrics: Sequence[dict]) -> str:
    """The ``Metric(...)`` lines of task.py's declaration, one per metric of the kind's template.yaml."""
    lines = []
    for metric in metrics:
        options = "".join(f", {name}={json.dumps(metric[name])}" for name, default in (("sorting", "desc"), ("precision", 4))
                          if metric.get(name, default) != default)
        lines.append(f"Metric({json.dumps(metric['key'])}, {json.dumps(metric['title'])}{options}),")
    return "\n".join(lines)


def check_name(name: str, dest: Path) -> None:
    """Refuse an invalid name, a kit task's name, and a name an existing task has with ``-``/``_`` swapped."""
    if len(name) > MAX_NAME_LENGTH or not TASK_NAME.fullmatch(name):
        raise ScaffoldError(f"task name {name!r} is not allowed; use lower case letters and digits, words joined by "
                            f"'-' or '_', at most {MAX_NAME_LENGTH} characters (e.g. fusion-mem)")
    key = _name_key(name)
    if name in KIT_TASKS:
        raise ScaffoldError(f"{name!r} is one of the kit's own tasks ({', '.join(KIT_TASKS)}), which bundlekit new "
                            "never creates or replaces, even with --force; choose another name")
    for kit_task in KIT_TASKS:
        if _name_key(kit_task) == key:
            raise ScaffoldError(f"{name!r} differs only by '-' vs '_' from the kit's own task {kit_task!r}; "
                                "choose another name")
    if dest.is_dir():
        for other in sorted(p.name for p in dest.iterdir() if (p / "task.py").is_file()):
            if other != name and _name_key(other) == key:
                raise ScaffoldError(f"{name!r} differs only by '-' vs '_' from the existing task {dest / other}; "
                                    "choose another name")


def _name_key(name: str) -> str:
    return name.replace("_", "-")


def checked_title(name: str, title: str | None) -> str:
    """The title with its white space collapsed (default: made from the name); refuse a title the build breaks on."""
    title = default_title(name) if title is None else " ".join(title.split())
    if not title or len(title) > MAX_TITLE_LENGTH or any(c in title for c in TITLE_FORBIDDEN):
        raise ScaffoldError(f"title {title!r} is not allowed; give 1 to {MAX_TITLE_LENGTH} characters without "
                            "double quotes, backslashes or braces")
    return title


def checked_classes(template: Template, classes: Sequence[str] | None) -> tuple[str, ...]:
    """The task's classes: the template's default, or ``classes`` if valid for the kind."""
    if classes is None:
        return template.classes
    if not template.classes:
        with_classes = [kind for kind in available_kinds() if load_template(kind).classes]
        raise ScaffoldError(f"--classes is only for --kind {' or '.join(with_classes)}, not {template.kind}")
    chosen = tuple(classes)
    if len(set(chosen)) != len(chosen) or len(chosen) < 2 \
            or any(not CLASS_NAME.fullmatch(label) or label == LABEL_COLUMN for label in chosen):
        raise ScaffoldError(f"classes {','.join(chosen)!r} are not allowed; give at least 2 distinct names of "
                            f"letters, digits, '-' and '_' (not {LABEL_COLUMN!r}), e.g. --classes negative,positive")
    return chosen


def class_markers(classes: Sequence[str]) -> dict[str, str]:
    """The markers of a kind with classes: Python literal items, a sentence's list, two example labels."""
    quoted = [f"`{label}`" for label in classes]
    return {"CLASSES": ", ".join(f'"{label}"' for label in classes),
            "CLASS_LIST": f"{', '.join(quoted[:-1])} and {quoted[-1]}",
            "FIRST_CLASS": classes[0], "SECOND_CLASS": classes[1]}


def clear_target(target: Path, force: bool) -> None:
    """Make way for the task at ``target``: refuse an existing folder unless ``force`` and it is a task."""
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise ScaffoldError(f"{target} exists and is not a folder; choose another name")
    if not force:
        raise ScaffoldError(f"{target} already exists; choose another name, or pass --force to replace it")
    if not (target / "task.py").is_file():
        raise ScaffoldError(f"{target} is not a task folder (no task.py) and --force only replaces a task; "
                            "choose another name")
    shutil.rmtree(target)


def logo_png(name: str, size: int = 96) -> bytes:
    """A small valid PNG logo: a diagonal gradient whose colours come from the task name.

    Deterministic (a CRC of the name picks the colours); organisers replace it with their own.
    """
    seed = zlib.crc32(name.encode("utf-8"))
    start = ((seed >> 16) & 0xFF, (seed >> 8) & 0xFF, seed & 0xFF)
    end = tuple(255 - c // 2 for c in reversed(start))
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type: none
        for x in range(size):
            t = (x + y) / (2 * (size - 1))
            rows.extend(round(a + (b - a) * t) for a, b in zip(start, end))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) \
        + chunk(b"IEND", b"")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="task name, e.g. fusion-mem (the folder and bundle name)")
    parser.add_argument("--kind", required=True, choices=available_kinds(), help="template to start from")
    parser.add_argument("--dest", "--bundles-dir", type=Path, metavar="DIR",
                        help="folder of task sources (default: the first bundles/ found from the working folder "
                             f"upwards, else ./bundles, a new project; also ${BUNDLES_DIR_ENV})")
    parser.add_argument("--title", help="competition title (default: made from NAME)")
    parser.add_argument("--force", action="store_true",
                        help="replace the task DEST/NAME if it exists (its files are lost; only a folder with a "
                             "task.py, never the kit's own tasks)")
    parser.add_argument("--classes", type=class_names, metavar="A,B[,C...]",
                        help="the task's classes, for --kind classification (default: class_a,class_b,class_c)")


def class_names(text: str) -> list[str]:
    """``--classes a, b,c`` -> ``["a", "b", "c"]`` (create_task validates them)."""
    return [label.strip() for label in text.split(",")]


def run_command(args: argparse.Namespace) -> int:
    try:
        target = create_task(args.name, args.kind, dest=args.dest, title=args.title, force=args.force,
                             classes=args.classes)
    except ScaffoldError as exc:
        print(f"bundlekit new: {exc}", file=sys.stderr)
        return 1
    n_files = sum(1 for p in target.rglob("*") if p.is_file())
    print(f"created {target} ({args.kind}, {n_files} files)")
    found = find_bundles_dir()
    build = f"bundlekit build {args.name}" if target.parent.resolve() == found else \
        f"bundlekit build {args.name} --bundles-dir {target.parent}"
    print("next:")
    print(f"  {build}")
    print(f"  bundlekit run dist/{args.name}.zip dist/{args.name}/solutions/best-inducer-code.zip --phase Test")
    print(f"  grep -rn 'TODO(organiser)' {target}    # what to write; see docs/new-task-guide.md")
    return 0
