"""Readers of concept-detection files: one set of concept ids (e.g. UMLS CUIs) per image.

Line layout, for runs and reference alike: ``image_id|CUI;CUI;...``, where a TAB or a
comma may stand in place of ``|``. The separator of a line is the first of ``|``, TAB,
``,`` that the line contains (in that order of preference, so a comma inside an image id
is harmless when ``|`` or TAB separates), and only its first occurrence splits the line.
Concepts are compared after stripping whitespace and upper-casing (:func:`normalise_concept`).

Every reader turns strings into integer codes: images by their position in the split's
image list, concepts through one ``vocabulary`` dict (concept -> code) shared by the
ground truth, the run and the concept lists, grown as new concepts are met.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np

from scoring_common.bytekeys import distinct_spans
from scoring_common.errors import InternalError, ParticipantError, quote
from scoring_common.textio import iter_lines, read_lines
from scoring_common.validation import check_missing_count, check_run_size, check_unknown_ids

#: First fields that make the first line a header (compared in lower case).
HEADER_FIELDS = frozenset({"id", "image_id"})
#: Most concepts a run may give one image.
MAX_CONCEPTS_PER_IMAGE = 100
#: Characters a run's concept may take at least in the size limit (a UMLS CUI has 8).
CONCEPT_CHARS = 16
_LAYOUT = "image_id|CUI;CUI;..."
#: What an image id alone on a line (no separator, no concept) looks like.
_PLAIN_ID = re.compile(r"[\w.\-]*")


@dataclass(frozen=True)
class ConceptPairs:
    """Concept sets as parallel code arrays: image ``image[k]`` holds concept ``concept[k]``."""

    image: np.ndarray
    concept: np.ndarray


def normalise_concept(text: str) -> str:
    """The form concepts are compared in: surrounding whitespace stripped, upper case."""
    return text.strip().upper()


def split_line(text: str) -> tuple[str, str | None]:
    """Split a line into its image id (stripped) and concept list text (None: no separator).

    Fields quoted as in CSV (``"img1"|"C1;C2"``) are read as the :mod:`csv` module reads them.
    """
    position = text.find("|")
    if position < 0:
        position = text.find("\t")
        if position < 0:
            position = text.find(",")
            if position < 0:
                return _unquoted(text).strip(), None
    if '"' in text:
        fields = next(csv.reader([text], delimiter=text[position]), [""])
        return fields[0].strip(), text[position].join(fields[1:]) if len(fields) > 1 else None
    return text[:position].strip(), text[position + 1:]


def _unquoted(text: str) -> str:
    """A lone field, without the CSV quotes around it."""
    return next(csv.reader([text]), [""])[0] if '"' in text else text


def largest_run_bytes(image_index: dict[str, int], vocabulary: dict[str, int],
                      max_concepts: int = MAX_CONCEPTS_PER_IMAGE) -> int:
    """Bytes of the largest valid run: every image once with ``max_concepts`` concepts of the longest known length."""
    concept_chars = max(CONCEPT_CHARS, max(map(len, vocabulary), default=0))
    per_image = len("|\r\n") + max_concepts * (concept_chars + 1)
    return len("".join(image_index).encode()) + len(image_index) * per_image


def read_image_list(path: Path) -> dict[str, int]:
    """Read a reference ``images.txt`` (one image id per line) into ``{image_id: code}``."""
    index: dict[str, int] = {}
    for number, text in read_lines(path, participant=False):
        image_id = text.strip()
        if image_id in index:
            raise InternalError(f"reference file {path} line {number}: image {image_id!r} listed twice")
        index[image_id] = len(index)
    return index


def read_groundtruth(path: Path, vocabulary: dict[str, int],
                     image_index: dict[str, int] | None = None) -> tuple[dict[str, int], ConceptPairs]:
    """Read the reference ``groundtruth.csv`` (header ``ID<TAB>CUIs``).

    Parameters
    ----------
    path : Path
        The ground-truth file; a line with nothing after the image id is an empty set.
    vocabulary : dict
        Concept -> code, extended in place with the ground truth's concepts.
    image_index : dict, optional
        The split's image list (``images.txt``); every ground-truth image must be in it,
        and listed images absent from the file have an empty ground truth. Without it,
        the images of the split are those of the file, in file order.

    Returns
    -------
    image_index : dict
        Image id -> image code.
    pairs : ConceptPairs
        The ground-truth sets (concepts listed twice for an image count once).

    Raises
    ------
    InternalError
        On an image listed twice or unknown to ``image_index``.
    """
    plain = _plain_groundtruth(path, vocabulary, image_index)
    if plain is not None:
        return plain
    lines = read_lines(path, participant=False)
    index: dict[str, int] = {} if image_index is None else image_index
    line_images: list[int] = []
    line_concepts: list[list[str]] = []
    seen: set[str] = set()
    for position, (number, text) in enumerate(lines):
        image_id, concept_text = split_line(text)
        if position == 0 and image_id.lower() in HEADER_FIELDS:
            continue
        if image_id in seen or not image_id:
            raise InternalError(f"reference file {path} line {number}: image id {image_id!r} is empty or listed twice")
        seen.add(image_id)
        if image_index is None:
            index[image_id] = len(index)
        elif image_id not in index:
            raise InternalError(f"reference file {path} line {number}: image {image_id!r} is not in the split's image list")
        concepts = [] if concept_text is None else [c for c in _normalised_items(concept_text) if c]
        line_images.append(index[image_id])
        line_concepts.append(concepts)
    return index, _encode(line_images, line_concepts, vocabulary)


def _plain_groundtruth(path: Path, vocabulary: dict[str, int], image_index: dict[str, int] | None
                       ) -> tuple[dict[str, int], ConceptPairs] | None:
    """:func:`read_groundtruth` of a plain file (:func:`_plain_lines`, TAB) that passes every check; else None."""
    lines = _plain_lines(path, b"\t")
    if lines is None:
        return None
    skip = int(lines.ids[0].lower() in HEADER_FIELDS)
    ids = lines.ids[skip:]
    if "" in ids or len(set(ids)) != len(ids):
        return None
    if image_index is None:
        index = {image_id: code for code, image_id in enumerate(ids)}
    elif all(map(image_index.__contains__, ids)):
        index = image_index
    else:
        return None
    line_images = np.r_[np.full(skip, -1), np.fromiter(map(index.__getitem__, ids), dtype=np.int64, count=len(ids))]
    keep = ~lines.empty() & (lines.line >= skip)
    return index, _plain_pairs(lines, keep, line_images, vocabulary)


def read_concept_list(path: Path, vocabulary: dict[str, int]) -> np.ndarray:
    """Read a reference concept list (one concept per line) as sorted unique concept codes.

    ``vocabulary`` is extended in place with concepts it does not hold yet.
    """
    concepts = sorted({normalise_concept(text) for _, text in read_lines(path, participant=False)})
    _extend(vocabulary, concepts)
    return np.array([vocabulary[c] for c in concepts], dtype=np.int64)


def read_run(path: Path, image_index: dict[str, int], vocabulary: dict[str, int], *,
             item: str = "image", max_concepts: int = MAX_CONCEPTS_PER_IMAGE) -> ConceptPairs:
    """Read and validate a participant's run: ``image_id|CUI;CUI;...`` per line.

    A first line whose first field is ``ID`` or ``image_id`` (any case) is a header. The
    concept list may be empty (``img1|``, or the image id alone); one trailing ``;`` is
    tolerated. A line without separator that is not an image of the split and holds more
    than letters, digits, ``_``, ``.`` and ``-`` is taken for concepts joined to the id
    by a wrong separator. Fields may be quoted as in CSV. The run is refused unread when
    it is more than :data:`~scoring_common.validation.RUN_SIZE_FACTOR` times the largest
    valid run (:func:`largest_run_bytes`). A plain run that passes every check
    (:func:`_plain_run`) is split in bulk; any other is read as a stream, line by line.

    Parameters
    ----------
    path : Path
        The run file.
    image_index : dict
        The split's images, id -> code.
    vocabulary : dict
        Concept -> code, extended in place with the run's new concepts.
    item : str
        What the ids are called in messages.
    max_concepts : int
        Most concepts allowed for one image.

    Returns
    -------
    ConceptPairs
        The run's sets, coded; no pair appears twice.

    Raises
    ------
    ParticipantError
        On a malformed line (such as a wrong separator), an empty concept, a concept
        given twice for one image, too many concepts, an image listed twice or not in the
        split (a lone unknown first line is taken for a header), or missing images
        (counted, not listed).
    """
    name = path.name
    check_run_size(path, largest_run_bytes(image_index, vocabulary, max_concepts),
                   what=f"one line per {item} of the split")
    pairs = _plain_run(path, image_index, vocabulary, max_concepts)
    if pairs is not None:
        return pairs
    first_lines: dict[str, int] = {}
    unknown: list[str] = []
    line_images: list[int] = []
    line_concepts: list[list[str]] = []
    first_line_number = None
    for position, (number, text) in enumerate(iter_lines(path)):
        if position == 0:
            first_line_number = number
        image_id, concept_text = split_line(text)
        if position == 0 and image_id.lower() in HEADER_FIELDS:
            continue
        if concept_text is None and image_id not in image_index and not _PLAIN_ID.fullmatch(image_id):
            wrong = image_id[_PLAIN_ID.match(image_id).end()]
            raise ParticipantError(
                f"no separator between {item} id and concepts in {quote(image_id)} ({wrong!r} is not one): "
                f"expected {_LAYOUT} (a TAB or a comma also works)", file=name, line=number)
        if not image_id:
            raise ParticipantError(f"the {item} id is empty; write {_LAYOUT}", file=name, line=number)
        if image_id not in image_index and concept_text is not None and concept_text.strip() in image_index:
            raise ParticipantError(
                f"the columns look swapped: {quote(concept_text.strip())} is one of the split's {item}s but comes "
                f"after the separator; write {_LAYOUT}", file=name, line=number)
        previous = first_lines.get(image_id)
        if previous is not None:
            raise ParticipantError(
                f"{item} {quote(image_id)} appears twice (lines {previous} and {number}); "
                f"list every {item} exactly once, with all its concepts on one line", file=name, line=number)
        first_lines[image_id] = number
        concepts = _parse_run_concepts(concept_text, image_id, item, max_concepts, name, number)
        code = image_index.get(image_id)
        if code is None:
            unknown.append(image_id)
            continue
        line_images.append(code)
        line_concepts.append(concepts)
    if len(unknown) == 1 and first_lines[unknown[0]] == first_line_number:
        raise ParticipantError(
            f"{quote(unknown[0])} is not one of the split's {item}s; if this line is a header, its first field "
            "must be ID or image_id", file=name, line=first_line_number)
    check_unknown_ids(unknown, set(), what=item, file=name, first_lines=first_lines)
    check_missing_count(len(image_index) - len(line_images), len(image_index), what=item, file=name,
                        hint=f"list every {item} of the split once; write '{item}_id|' for one with no concept")
    return _encode(line_images, line_concepts, vocabulary)


def _plain_run(path: Path, image_index: dict[str, int], vocabulary: dict[str, int],
               max_concepts: int) -> ConceptPairs | None:
    """:func:`read_run` of a plain run (:func:`_plain_lines`, ``|``) that passes every check; else None."""
    lines = _plain_lines(path, b"|")
    if lines is None:
        return None
    skip = int(lines.ids[0].lower() in HEADER_FIELDS)
    ids = lines.ids[skip:]
    line_images = np.fromiter(map(image_index.get, ids, repeat(-1)), dtype=np.int64, count=len(ids))
    if len(ids) != len(image_index) or (line_images < 0).any() \
            or np.bincount(line_images, minlength=len(image_index)).max(initial=0) > 1:
        return None
    line_images = np.r_[np.full(skip, -1), line_images]
    empty = lines.empty()
    # An empty concept may only end its line (one trailing ';', or an empty list).
    if (empty & ~lines.last).any():
        return None
    keep = ~empty & (lines.line >= skip)
    kept = lines.line[keep]
    if np.bincount(kept, minlength=len(lines.ids)).max(initial=0) > max_concepts \
            or _repeats(kept * len(lines.distinct) + lines.concept[keep]):  # a concept twice in a line
        return None
    return _plain_pairs(lines, keep, line_images, vocabulary)


def _parse_run_concepts(concept_text: str | None, image_id: str, item: str, max_concepts: int,
                        file: str, line: int) -> list[str]:
    """Split, normalise and check one run line's concept list."""
    if concept_text is None:
        return []
    concepts = _normalised_items(concept_text)
    if not concepts[-1]:
        concepts.pop()  # an empty list, or one trailing ';'
    if "" in concepts:
        raise ParticipantError(
            f"empty concept in {quote(concept_text.strip())} (two ';' in a row, or a ';' first); "
            "separate concepts with a single ';'", file=file, line=line)
    if len(concepts) > max_concepts:
        raise ParticipantError(
            f"{item} {quote(image_id)} has {len(concepts)} concepts, at most {max_concepts} are allowed; "
            "keep your most confident ones", file=file, line=line)
    joined = ";".join(concepts)
    if " " in joined or "\t" in joined or "," in joined or "|" in joined:
        bad = next(c for c in concepts if any(character in c for character in " \t,|"))
        raise ParticipantError(
            f"concept {quote(bad)} contains a space, TAB, ',' or '|'; separate concepts with ';' only",
            file=file, line=line)
    if len(set(concepts)) != len(concepts):
        seen: set[str] = set()
        twice = next(c for c in concepts if c in seen or seen.add(c))
        raise ParticipantError(
            f"concept {quote(twice)} is given twice for {item} {quote(image_id)} (concepts are compared "
            "upper-cased, without surrounding spaces); give each concept once", file=file, line=line)
    return concepts


def _normalised_items(concept_text: str) -> list[str]:
    """Split a concept list on ';' and normalise every item (skipping the strip when there is no space)."""
    upper = concept_text.upper()
    if upper.isascii() and " " not in upper and "\t" not in upper:
        return upper.split(";")
    return [item.strip() for item in upper.split(";")]


def _extend(vocabulary: dict[str, int], concepts: "list[str] | set[str]") -> None:
    """Give codes to the concepts ``vocabulary`` does not hold yet (in sorted order)."""
    for concept in sorted(set(concepts).difference(vocabulary)):
        vocabulary[concept] = len(vocabulary)


def _encode(line_images: list[int], line_concepts: list[list[str]], vocabulary: dict[str, int]) -> ConceptPairs:
    """Turn per-line concept lists into coded (image, concept) pairs."""
    counts = np.fromiter(map(len, line_concepts), dtype=np.int64, count=len(line_concepts))
    flat = [concept for concepts in line_concepts for concept in concepts]
    _extend(vocabulary, flat)
    concept = np.fromiter(map(vocabulary.__getitem__, flat), dtype=np.int64, count=len(flat))
    image = np.repeat(np.asarray(line_images, dtype=np.int64), counts)
    return ConceptPairs(image=image, concept=concept)


# --------------------------------------------------------------------------- bulk reading of plain files


@dataclass(frozen=True)
class _PlainLines:
    """The non-blank lines ``id SEP C;C;...`` of a plain file, split with numpy.

    ``ids`` holds each line's id. The concepts of
    all lines, in file order, are ``distinct[concept[k]]`` (upper-cased; empty ones
    included), of line ``line[k]``; ``last[k]`` says whether it ends its line.
    """

    ids: list[str]
    line: np.ndarray
    last: np.ndarray
    concept: np.ndarray
    distinct: list[str]

    def empty(self) -> np.ndarray:
        """Whether each concept is empty."""
        return (np.asarray(self.distinct, dtype=object) == "")[self.concept]


#: Printable ASCII, without space, '"' and the three separators (each file allows its own back).
_PLAIN_BYTES = bytes(set(range(33, 127)) - set(b'"|\t,'))
#: Longest line of a plain file (longer ones are read line by line).
_MAX_PLAIN_LINE_BYTES = 1 << 16


def _plain_lines(path: Path, separator: bytes) -> _PlainLines | None:
    """Split a plain concept file in bulk; None for any other file (read it line by line).

    Plain: printable ASCII without spaces or quotes, LF line ends, exactly one
    ``separator`` on every non-blank line and no other separator character, lines of at
    most :data:`_MAX_PLAIN_LINE_BYTES`. There, :func:`split_line` and
    :func:`_normalised_items` reduce to splitting at the separator and at every ``;``,
    and upper-casing. Only the distinct concepts become strings.
    """
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if raw.translate(None, _PLAIN_BYTES + b"\n" + separator):
        return None
    buffer = np.frombuffer(raw if raw.endswith(b"\n") else raw + b"\n", dtype=np.uint8)
    line_ends = np.flatnonzero(buffer == ord("\n"))
    line_starts = np.r_[0, line_ends[:-1] + 1]
    if np.max(line_ends - line_starts, initial=0) > _MAX_PLAIN_LINE_BYTES:
        return None
    non_blank = np.flatnonzero(line_ends > line_starts)
    line_starts, line_ends = line_starts[non_blank], line_ends[non_blank]
    separators = np.flatnonzero(buffer == separator[0])
    if separators.size != line_starts.size or not line_starts.size \
            or ((separators < line_starts) | (separators > line_ends)).any():
        return None
    text = raw.decode("ascii")
    ids = [text[start:end] for start, end in zip(line_starts.tolist(), separators.tolist())]
    # Concepts: from the separator to the line end, split at every ';'.
    semicolons = np.flatnonzero(buffer == ord(";"))
    semicolon_line = np.searchsorted(line_ends, semicolons)
    starts = np.sort(np.concatenate([separators + 1, semicolons + 1]))
    ends = np.sort(np.concatenate([semicolons, line_ends]))
    per_line = np.bincount(semicolon_line, minlength=line_ends.size) + 1
    last = np.zeros(starts.size, dtype=bool)
    last[np.cumsum(per_line) - 1] = True
    concept, distinct = distinct_spans(np.frombuffer(raw.upper(), dtype=np.uint8), starts, ends)  # ASCII upper case
    return _PlainLines(ids, np.repeat(np.arange(line_ends.size), per_line), last, concept, distinct.tolist())


def _repeats(values: np.ndarray) -> bool:
    """Whether a value of ``values`` appears twice."""
    ordered = np.sort(values)
    return bool((ordered[1:] == ordered[:-1]).any())


def _plain_pairs(lines: _PlainLines, keep: np.ndarray, line_images: np.ndarray,
                 vocabulary: dict[str, int]) -> ConceptPairs:
    """Coded (image, concept) pairs of the concepts ``keep`` selects; ``line_images`` is each line's image code.

    ``vocabulary`` is extended with the new concepts, as :func:`_encode` extends it.
    """
    used = lines.concept[keep]
    present = np.flatnonzero(np.bincount(used, minlength=len(lines.distinct))).tolist()
    _extend(vocabulary, [lines.distinct[code] for code in present])
    codes = np.zeros(len(lines.distinct), dtype=np.int64)
    codes[present] = [vocabulary[lines.distinct[code]] for code in present]
    return ConceptPairs(image=line_images[lines.line[keep]], concept=codes[used])
