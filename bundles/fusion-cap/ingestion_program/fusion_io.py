"""The fusion-cap data as pandas objects, for a participant's ``Fusion`` and for the kit.

A split folder holds ``images.txt`` (the split's image ids, one per line) and
``inducers/<name>.csv`` (lines ``image_id|CUI;CUI;...``), and for the dev split
``groundtruth.csv`` (header ``ID<TAB>CUIs``, lines ``image_id<TAB>CUI;CUI;...``).

- ``X = load_inducers(folder)``: a long DataFrame with columns ``inducer``,
  ``image_id``, ``concept`` (strings), one row per concept an inducer predicted for an
  image; an image an inducer predicted nothing for has no row. ``X.attrs["images"]``
  is a tuple of every image id of the split, in ``images.txt`` order, including images
  no inducer predicted anything for (``split_images(X)`` returns it).
- ``y = load_truth(folder)``: a DataFrame with columns ``image_id``, ``concept``, one
  row per ground-truth concept; ``y.attrs["images"]`` lists every image of the ground
  truth, including those with no concept.
- ``Fusion.predict(X)`` returns a Series indexed by image id (every image of the split
  exactly once, any order) whose values are lists, tuples or sets of concept ids, or a
  DataFrame with columns ``image_id``, ``concept`` like ``y`` (images without rows then
  get an empty set).

:func:`check_prediction` enforces that contract, :func:`write_run` writes the run
(``image_id|CUI;CUI``) and :func:`mean_f1` computes the task's metric for local
validation. pandas and numpy only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from scoring_common.errors import InternalError, ParticipantError, list_ids
from scoring_common.metrics.multilabel import set_f1

IMAGES_FILE = "images.txt"
INDUCERS_DIR = "inducers"
GROUNDTRUTH_FILE = "groundtruth.csv"
RUN_FILE_NAME = "run.csv"
COLUMNS = ["inducer", "image_id", "concept"]
#: Most concepts a run may give one image (the scoring program's limit).
MAX_CONCEPTS_PER_IMAGE = 100
PRIMARY_METRIC_TITLE = "F1"
#: Characters a concept id cannot hold: they separate the fields of a run line.
_FORBIDDEN_IN_CONCEPT = frozenset(" \t,|;")


class ImageIds(tuple):
    """The image ids of a split: a tuple that pandas copies for free.

    pandas deep-copies ``attrs`` on every operation that builds a new frame; returning
    the same immutable tuple keeps slicing and ``groupby`` as fast as without attrs.
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict) -> "ImageIds":
        return self


def load_inducers(split_input_dir: Path) -> pd.DataFrame:
    """Read a split's ``images.txt`` and ``inducers/*.csv``.

    Parameters
    ----------
    split_input_dir : Path
        Folder holding ``images.txt`` and ``inducers/``.

    Returns
    -------
    pandas.DataFrame
        Columns ``inducer``, ``image_id``, ``concept``; rows sorted by inducer name,
        then in file order. ``attrs["images"]`` holds the split's image ids.
    """
    folder = Path(split_input_dir)
    images = _read_image_list(folder / IMAGES_FILE)
    known = set(images)
    inducer_files = sorted((folder / INDUCERS_DIR).glob("*.csv"))
    if not inducer_files:
        raise InternalError(f"{folder / INDUCERS_DIR} holds no <inducer>.csv file")
    interned: dict[str, str] = {image: image for image in images}
    inducers: list[str] = []
    image_ids: list[str] = []
    concepts: list[str] = []
    for path in inducer_files:
        name = path.stem
        start = len(concepts)
        for number, image_id, line_concepts in _read_concept_lines(path):
            image_id = interned.get(image_id, image_id)
            if image_id not in known:
                raise InternalError(f"{path} line {number}: image {image_id!r} is not in {IMAGES_FILE}")
            for concept in line_concepts:
                image_ids.append(image_id)
                concepts.append(interned.setdefault(concept, concept))
        inducers.extend([name] * (len(concepts) - start))
    frame = pd.DataFrame({"inducer": inducers, "image_id": image_ids, "concept": concepts}, columns=COLUMNS)
    frame.attrs["images"] = ImageIds(images)
    return frame


def load_truth(split_reference_dir: Path) -> pd.DataFrame:
    """Read a split's ``groundtruth.csv``.

    Parameters
    ----------
    split_reference_dir : Path
        Folder holding ``groundtruth.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns ``image_id``, ``concept``, one row per ground-truth concept, in file
        order; ``attrs["images"]`` holds every image of the file, in file order.
    """
    path = Path(split_reference_dir) / GROUNDTRUTH_FILE
    image_ids: list[str] = []
    concepts: list[str] = []
    images: list[str] = []
    for number, image_id, line_concepts in _read_concept_lines(path, header=True):
        images.append(image_id)
        image_ids.extend([image_id] * len(line_concepts))
        concepts.extend(line_concepts)
    if len(set(images)) != len(images):
        raise InternalError(f"{path}: an image is listed more than once")
    frame = pd.DataFrame({"image_id": image_ids, "concept": concepts}, columns=["image_id", "concept"])
    frame.attrs["images"] = ImageIds(images)
    return frame


def split_images(frame: pd.DataFrame) -> ImageIds:
    """The image ids of the split ``frame`` (from :func:`load_inducers` or :func:`load_truth`) covers."""
    images = frame.attrs.get("images")
    if images is None:
        raise ParticipantError("X.attrs['images'] is missing; do not modify X in place "
                               "(work on X.copy() or on derived frames)")
    return images


def item_ids(X: pd.DataFrame) -> list[str]:
    """The image ids of the split (those a run lists); the ingestion refuses code that ships them in bulk."""
    return [str(item) for item in X.attrs["images"]]


def check_prediction(prediction: object, X: pd.DataFrame) -> pd.Series:
    """Check what ``Fusion.predict(X)`` returned and normalise it.

    Parameters
    ----------
    prediction : object
        A Series indexed by image id whose values are lists, tuples or sets of concept
        ids (every image of the split exactly once, any order), or a DataFrame with
        columns ``image_id`` and ``concept`` (images without rows get no concept).
    X : pandas.DataFrame
        The inducers the prediction was made from.

    Returns
    -------
    pandas.Series
        Named ``concepts``, indexed by the split's image ids in ``images.txt`` order;
        each value a tuple of distinct concepts (stripped, upper case), sorted.

    Raises
    ------
    ParticipantError
        One line saying what is wrong with the prediction and how to fix it.
    """
    images = split_images(X)
    if isinstance(prediction, pd.DataFrame):
        prediction = _series_from_long(prediction, images)
    elif not isinstance(prediction, pd.Series):
        raise ParticipantError(
            f"Fusion.predict returned a {type(prediction).__name__}; return a pandas Series indexed by image_id "
            "whose values are lists of concepts, or a DataFrame with columns image_id and concept")
    index = prediction.index
    if index.nlevels != 1:
        raise ParticipantError(f"Fusion.predict returned a Series whose index has {index.nlevels} levels; "
                               "index it by image_id alone")
    if index.has_duplicates:
        repeated = [str(i) for i in index[index.duplicated()].unique()]
        raise ParticipantError(f"Fusion.predict returned {len(repeated)} image(s) more than once, e.g. "
                               f"{list_ids(repeated)}; give each image one value holding all its concepts")
    expected = pd.Index(images)
    if not index.equals(expected):
        unknown = index.difference(expected, sort=False)
        if len(unknown):
            raise ParticipantError(f"Fusion.predict returned {len(unknown)} image(s) that are not in the split, "
                                   f"e.g. {list_ids([str(i) for i in unknown])}; index by the ids of X.attrs['images']")
        missing = expected.difference(index, sort=False)
        if len(missing):
            raise ParticipantError(
                f"Fusion.predict left out {len(missing)} of the {len(images)} images, e.g. "
                f"{list_ids([str(i) for i in missing])}; give every image of X.attrs['images'] a value "
                "(an empty list when you predict nothing)")
        prediction = prediction.reindex(expected)
    values = [_normalised_concepts(image, value) for image, value in zip(images, prediction.tolist())]
    return pd.Series(values, index=pd.Index(images, name="image_id"), name="concepts", dtype=object)


def write_run(prediction: object, X: pd.DataFrame, path: Path) -> None:
    """Write a prediction as a run: ``image_id|CUI;CUI`` per image, sorted by image id then concept."""
    concepts = check_prediction(prediction, X)
    lines = sorted(f"{image}|{';'.join(values)}" for image, values in concepts.items())
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def mean_f1(prediction: object, y: pd.DataFrame) -> float:
    """Mean per-image F1 over the images of ``y`` with a non-empty ground truth: the leaderboard's metric.

    .. math:: F1 = \\frac{1}{|\\{i : G_i \\ne \\emptyset\\}|} \\sum_{i : G_i \\ne \\emptyset}
              \\frac{2 |G_i \\cap P_i|}{|G_i| + |P_i|}

    Parameters
    ----------
    prediction : pandas.Series or pandas.DataFrame
        As accepted by :func:`check_prediction` for the images of ``y``.
    y : pandas.DataFrame
        Ground truth as returned by :func:`load_truth`.
    """
    images = split_images(y)
    predicted = check_prediction(prediction, y)
    truth = _series_from_long(y, images).map(lambda values: tuple({str(c).strip().upper() for c in values}))
    vocabulary: dict[str, int] = {}
    gt_image, gt_concept = _pairs(truth, vocabulary)
    pred_image, pred_concept = _pairs(predicted, vocabulary)
    scores = set_f1(gt_image, gt_concept, pred_image, pred_concept, len(images))
    return scores.mean(scores.f1)


def primary_metric(prediction: object, y: pd.DataFrame) -> float:
    """The leaderboard's primary metric, the mean per-image F1 (:func:`mean_f1`)."""
    return mean_f1(prediction, y)


def _pairs(concepts: pd.Series, vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(values) for values in concepts), dtype=np.int64, count=len(concepts))
    flat = [vocabulary.setdefault(c, len(vocabulary)) for values in concepts for c in values]
    return np.repeat(np.arange(len(concepts)), lengths), np.array(flat, dtype=np.int64)


def _series_from_long(frame: pd.DataFrame, images: tuple[str, ...]) -> pd.Series:
    """Group a long ``image_id, concept`` frame into one list per image (empty for absent images)."""
    missing_columns = [c for c in ("image_id", "concept") if c not in frame.columns]
    if missing_columns:
        raise ParticipantError(
            f"Fusion.predict returned a DataFrame without column(s) {', '.join(missing_columns)} "
            f"(it has {list_ids([str(c) for c in frame.columns])}); return columns image_id and concept, "
            "or a Series of concept lists indexed by image_id")
    grouped: dict[str, list] = {image: [] for image in images}
    unknown: list[str] = []
    for image, concept in zip(frame["image_id"].tolist(), frame["concept"].tolist()):
        bucket = grouped.get(image)
        if bucket is None:
            unknown.append(str(image))
        else:
            bucket.append(concept)
    if unknown:
        raise ParticipantError(f"Fusion.predict returned rows for {len(set(unknown))} image(s) that are not in the "
                               f"split, e.g. {list_ids(sorted(set(unknown)))}; use the ids of X.attrs['images']")
    return pd.Series(list(grouped.values()), index=pd.Index(list(grouped), name="image_id"), dtype=object)


def _normalised_concepts(image: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        shown = repr(value)[:40]
        raise ParticipantError(f"Fusion.predict gave image {image!r} the value {shown} ({type(value).__name__}); "
                               "give each image a list, tuple or set of concept ids (an empty list for none)")
    concepts = set()
    for concept in value:
        if not isinstance(concept, str):
            raise ParticipantError(f"Fusion.predict gave image {image!r} a concept that is a "
                                   f"{type(concept).__name__} ({repr(concept)[:40]}); concepts are strings like 'C0040405'")
        text = concept.strip().upper()
        if not text or _FORBIDDEN_IN_CONCEPT.intersection(text):
            raise ParticipantError(f"Fusion.predict gave image {image!r} the concept {concept[:40]!r}; a concept id "
                                   "is a non-empty string without spaces, tabs, commas, '|' or ';'")
        concepts.add(text)
    if len(concepts) > MAX_CONCEPTS_PER_IMAGE:
        raise ParticipantError(f"Fusion.predict gave image {image!r} {len(concepts)} concepts; "
                               f"give at most {MAX_CONCEPTS_PER_IMAGE} per image")
    return tuple(sorted(concepts))


def _read_image_list(path: Path) -> list[str]:
    if not path.is_file():
        raise InternalError(f"{path} not found; a split folder must hold {path.name}")
    images = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    if len(set(images)) != len(images):
        raise InternalError(f"{path}: an image id is listed more than once")
    return images


def _read_concept_lines(path: Path, header: bool = False) -> Iterable[tuple[int, str, list[str]]]:
    """Yield ``(line number, image id, concepts)`` of an organisers' ``image_id|CUI;CUI`` file.

    The separator after the id is ``|``, a TAB or a comma (the first found, in that
    order); with ``header``, a first line whose first field is ``ID`` or ``image_id`` is skipped.
    """
    if not path.is_file():
        raise InternalError(f"{path} not found")
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        for separator in ("|", "\t", ","):
            image_id, found, rest = line.partition(separator)
            if found:
                break
        image_id = image_id.strip()
        if header and not seen and image_id.lower() in ("id", "image_id"):
            header = False
            continue
        if image_id in seen:
            raise InternalError(f"{path} line {number}: image {image_id!r} appears twice")
        seen.add(image_id)
        concepts = (part.strip().upper() for part in rest.split(";"))
        yield number, image_id, list(dict.fromkeys(c for c in concepts if c))
