"""Build hooks of fusion-div (search result diversification): stand-in data and inducer runs.

The stand-in data imitates the ImageCLEFfusion diversification task (MediaEval Retrieving
Diverse Social Images): per query (a place or landmark), a pool of about 300 Flickr
photos, about two thirds relevant and a few "don't know", the relevant ones grouped in
10 to 25 visual clusters of skewed sizes. Each inducer ranks 50 photos per query.

Every photo has an apparent relevance ``L`` (its true relevance plus an error that all
systems share), a typicality (relevant photos of big clusters look most typical) and a
visual cluster; each inducer scores

    a * L + b * typicality + cluster bias + group noise + own noise

where the cluster bias is a per-inducer liking of some visual clusters (so photos of one
cluster rise and fall together across inducers), and the group noise, like most of the
cluster bias, is shared by the members of a correlated group (near-copies of one
system). Relevance-oriented inducers keep their 50 best photos, which favours the big
clusters (good precision, poor cluster recall); diversity-oriented ones re-rank
round-robin over the clusters as they perceive them (sometimes wrongly); weak and random
ones barely see relevance; negative ones prefer non-relevant photos. Inducers report on
their own scales. Calibrated so that the best inducer's F1@20 is about 0.57 (P@20 0.85,
CR@20 0.44) and a fusion that learns weights and diversifies gains 10 to 15 %.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from bundlekit import data_checks, standin
from bundlekit.declaration import Metric, TaskDeclaration

SPLITS = ("dev", "test")
EDITIONS: dict[str, dict] = {
    "2023": {"inducers": 117, "dev_queries": 104, "test_queries": 35,
             "roles": {"relevance": 10, "relevance_group_a": 16, "relevance_group_b": 10, "diversity": 8,
                       "diversity_group_c": 12, "moderate": 22, "weak": 18, "random": 14, "negative": 7}},
    "2022": {"inducers": 56, "dev_queries": 60, "test_queries": 63,
             "roles": {"relevance": 5, "relevance_group_a": 8, "relevance_group_b": 5, "diversity": 4,
                       "diversity_group_c": 6, "moderate": 10, "weak": 8, "random": 6, "negative": 4}},
}
DEFAULT_EDITION = "2023"
#: The input files of a split (globs under input_data/): the only ones the build publishes.
INPUT_FILES = ("topics.csv", "pool.csv", "inducers/*.txt")
#: Checker warnings this task raises by design (rule id: why), accepted by the build.
ACCEPTED_WARNINGS = {"leak.public-reference": "the dev ground truth is public by design: participants train on it",
                     "data.subfolders": "the ingestion program finds train/ and predict/ on both platforms"}

#: Photos per query pool, share of relevant and of "don't know" photos, clusters per query.
POOL_SIZE = (250, 350)
RELEVANT_SHARE = (0.55, 0.78)
DONT_KNOW_SHARE = (0.0, 0.03)
CLUSTERS = (10, 25)
#: Dirichlet concentration of the cluster sizes (small = skewed).
CLUSTER_CONCENTRATION = 0.8
#: Visual groups the non-relevant photos of a query fall into (for the inducers' biases).
NOISE_CLUSTERS = (4, 8)
#: Apparent relevance: relevant photos are shifted by this many standard deviations.
RELEVANCE_SHIFT = 1.0
#: The public list of each query's pool, in every split's input data.
POOL_FILE = "pool.csv"
#: Photos every inducer ranks per query.
RUN_LENGTH = 50
#: A group member's cluster bias: weights of the bias shared by its group and of its own.
GROUP_BIAS_WEIGHTS = (0.9, 0.45)
#: Per role: weight of the apparent relevance, of typicality, standard deviations of the
#: cluster bias, group noise and own noise; diversity-oriented roles add the probability
#: of perceiving a photo's cluster correctly and the penalty per photo already taken from it.
ROLE_PARAMETERS: dict[str, dict] = {
    "relevance": {"relevance": (0.9, 1.1), "typicality": 0.7, "cluster_bias": 0.95, "group_noise": 0.0,
                  "own_noise": 0.7},
    "relevance_group_a": {"relevance": (0.8, 1.0), "typicality": 0.8, "cluster_bias": 0.8, "group_noise": 0.7,
                          "own_noise": 0.25},
    "relevance_group_b": {"relevance": (0.6, 0.8), "typicality": 0.5, "cluster_bias": 0.8, "group_noise": 0.8,
                          "own_noise": 0.3},
    "diversity": {"relevance": (0.7, 0.9), "typicality": 0.2, "cluster_bias": 0.95, "group_noise": 0.0,
                  "own_noise": 0.8, "perception": (0.45, 0.65), "penalty": (0.5, 1.0)},
    "diversity_group_c": {"relevance": (0.6, 0.8), "typicality": 0.2, "cluster_bias": 0.8, "group_noise": 0.8,
                          "own_noise": 0.3, "perception": (0.4, 0.55), "penalty": (0.5, 0.9)},
    "moderate": {"relevance": (0.35, 0.6), "typicality": 0.4, "cluster_bias": 1.1, "group_noise": 0.0,
                 "own_noise": 1.0},
    "weak": {"relevance": (0.1, 0.3), "typicality": 0.2, "cluster_bias": 1.1, "group_noise": 0.0,
             "own_noise": 1.0},
    "random": {"relevance": (0.0, 0.0), "typicality": 0.0, "cluster_bias": 0.55, "group_noise": 0.0,
               "own_noise": 1.0},
    "negative": {"relevance": (-0.8, -0.4), "typicality": 0.0, "cluster_bias": 1.1, "group_noise": 0.0,
                 "own_noise": 1.0},
}
SCALES = ("similarity", "distance", "logit", "reciprocal_rank", "count")
#: Words the query titles and cluster tags are made of.
LANDMARKS = (
    "Eiffel Tower", "Colosseum", "Acropolis", "Sagrada Familia", "Big Ben", "Tower Bridge", "Brandenburg Gate",
    "Charles Bridge", "Notre Dame", "Mont Saint Michel", "Neuschwanstein Castle", "Cologne Cathedral",
    "Leaning Tower of Pisa", "Trevi Fountain", "Pantheon", "St Peter's Basilica", "Alhambra", "Giant's Causeway",
    "Stonehenge", "Edinburgh Castle", "Arc de Triomphe", "Louvre Pyramid", "Atomium", "Little Mermaid",
    "Hagia Sophia", "Blue Mosque", "Parthenon", "Matterhorn", "Golden Gate Bridge", "Statue of Liberty",
    "Brooklyn Bridge", "Times Square", "Grand Canyon", "Niagara Falls", "Machu Picchu", "Christ the Redeemer",
    "Sydney Opera House", "Taj Mahal", "Angkor Wat", "Forbidden City", "Great Wall", "Mount Fuji",
    "Petronas Towers", "Burj Khalifa", "Pyramids of Giza", "Table Mountain", "Chichen Itza", "Uluru",
    "Abbey of Saint Gall", "Palace of Versailles", "Westminster Abbey", "Rialto Bridge", "Doge's Palace",
    "Sistine Chapel", "Prague Castle", "Schonbrunn Palace", "Hallgrimskirkja", "Oresund Bridge", "Kremlin",
    "Saint Basil's Cathedral", "Hofburg", "Bran Castle", "Meteora", "Plitvice Lakes", "Cliffs of Moher",
)
CITIES = ("Lisbon", "Porto", "Seville", "Granada", "Florence", "Venice", "Naples", "Vienna", "Budapest",
          "Krakow", "Dubrovnik", "Bruges", "Amsterdam", "Copenhagen", "Stockholm", "Oslo", "Bergen", "Helsinki",
          "Tallinn", "Riga", "Munich", "Dresden", "Lyon", "Marseille", "Bordeaux", "Geneva", "Lucerne", "Salzburg",
          "Istanbul", "Athens", "Valletta", "Kyoto", "Hanoi", "Havana", "Quebec", "Cusco")
PLACE_KINDS = ("cathedral", "old town", "harbour", "market hall", "castle", "main square", "botanical garden",
               "opera house", "city hall", "fortress", "lighthouse", "river promenade", "old bridge", "royal palace")
CLUSTER_TAGS = (
    "close-up", "night view", "panorama", "interior", "from the river", "aerial view", "detail of facade",
    "entrance", "at sunset", "in winter", "with crowd", "reflection", "side view", "from below", "tower",
    "dome", "garden", "stained glass", "statue", "street level", "from a distance", "rooftop view", "fog",
    "illuminated", "black and white", "arches", "courtyard", "stairs", "ceiling", "gate", "wall", "boats",
    "fireworks", "rainy day", "souvenir stand", "tourists posing", "with trees", "skyline", "spring flowers",
    "old photograph",
)


def generate_data(dest: Path, edition: str = DEFAULT_EDITION, seed: int = 2023,
                  progress: Callable[[str], None] = print, *, size: float = 1.0,
                  n_inducers: int | None = None) -> None:
    """Write stand-in data in the layout of the real data::

        dest/{dev,test}/input_data/topics.csv, inducers/<inducer>.txt
        dest/{dev,test}/reference_data/rGT.csv, dGT.csv, dclusterGT.csv

    Deterministic: the same edition and seed give byte-identical files.

    ``size`` multiplies the number of queries of each split and ``n_inducers`` keeps only
    the first inducers (the benchmark's scaled data); the defaults give the edition's data.

    Raises
    ------
    ValueError
        On an unknown edition.
    """
    preset = standin.edition_preset("fusion-div", EDITIONS, edition)
    rng = np.random.default_rng([seed, int(edition)])
    inducers = _draw_inducers(preset["roles"], rng)[:n_inducers]
    n_queries = {split: data_checks.scaled(preset[f"{split}_queries"], size) for split in SPLITS}
    titles = _titles(sum(n_queries.values()), rng)
    pools = {split: _draw_pools(n_queries[split], rng) for split in SPLITS}
    photo_ids = _photo_ids(sum(len(pool["query"]) for pool in pools.values()), rng)
    first_query, first_photo = 1, 0
    for split in SPLITS:
        pool = pools[split]
        pool["query_ids"] = [str(first_query + q) for q in range(n_queries[split])]
        pool["titles"] = titles[first_query - 1:first_query - 1 + n_queries[split]]
        pool["photo_ids"] = photo_ids[first_photo:first_photo + len(pool["query"])]
        first_query += n_queries[split]
        first_photo += len(pool["query"])
        input_dir, reference_dir = dest / split / "input_data", dest / split / "reference_data"
        _write_topics(input_dir / "topics.csv", pool)
        _write_pool(input_dir / POOL_FILE, pool)
        runs = _inducer_runs(inducers, pool, rng)
        for inducer, run in zip(inducers, runs):
            _write_run(input_dir / "inducers" / f"{inducer['name']}.txt", inducer, pool, run)
        _write_truth(reference_dir, pool, rng)
        progress(f"fusion-div {edition} {split}: {n_queries[split]} queries, {len(pool['query'])} photos "
                 f"({int(pool['relevant'].sum())} relevant), {len(inducers)} inducers")


def inducer_predictions(X) -> Iterator[tuple[str, "object"]]:
    """Each inducer's run as a prediction (``query_id, photo_id, score``), by inducer name.

    The score is ``1 / (rank + 1)``, so the prediction keeps the inducer's order exactly,
    whatever ties its own scores have.
    """
    for name, rows in X.groupby("inducer", sort=True):
        yield str(name), rows.assign(score=1.0 / (rows["rank"] + 1.0))[["query_id", "photo_id", "score"]]


def realism_figures(data_dir: Path, X: dict, y: dict, fusion_io, edition: str, seed: int) -> dict[str, str]:
    """Sizes, label rates, chance and bound of the stand-in data, for ``bundlekit realism``.

    The chance is the mean F1@20 of random rankings of each query's pool; the bound, the
    F1@20 of an oracle that ranks, among the photos some inducer ranked, one relevant photo
    of every cluster first, then the other relevant ones.
    """
    rng = np.random.default_rng(seed)
    test = y["test"]
    chance = np.mean([fusion_io.primary_metric(test.assign(score=rng.random(len(test)))[
        ["query_id", "photo_id", "score"]], test) for _ in range(20)])
    ranked = X["test"][["query_id", "photo_id"]].drop_duplicates().merge(test, on=["query_id", "photo_id"])
    relevant = ranked[ranked["rel"] == 1].copy()
    relevant["first_of_cluster"] = ~relevant.duplicated(["query_id", "cluster_id"])
    oracle = relevant.assign(score=relevant["first_of_cluster"].astype(float) + 0.5)[["query_id", "photo_id", "score"]]
    bound = fusion_io.diversity_scores(oracle, test)
    sizes, rates = [], []
    for split in SPLITS:
        per_query = y[split].groupby("query_id")
        sizes.append(f"{per_query.ngroups} queries, {per_query.size().mean():.0f} photos per pool")
        clusters = y[split][y[split]["rel"] == 1].groupby("query_id")["cluster_id"].nunique().mean()
        rates.append(f"{(y[split]['rel'] == 1).mean():.2f} relevant, {clusters:.1f} clusters per query")
    return {"sizes": " / ".join(sizes) + f", {X['test']['inducer'].nunique()} inducers",
            "label rate": " / ".join(rates),
            "chance": f"{chance:.3f} F1@20 (random ranking of the pool)",
            "bound": f"{bound['f1']:.3f} F1@20 (P@20 {bound['p']:.2f}, CR@20 {bound['cr']:.2f}): oracle over the "
                     "photos the inducers ranked"}


def write_check_reference(test_input_dir: Path, dest: Path) -> None:
    """Reference for checking test runs in the participant kit: the public pools, no judgement.

    Every pool photo is judged "don't know" (-1): the run's queries and photos are checked
    as on the platform, and no row can be mistaken for the hidden rGT.csv's.
    """
    pool = test_input_dir / POOL_FILE
    rows = zip(data_checks.csv_column(pool, 0), data_checks.csv_column(pool, 1))
    (dest / "rGT.csv").write_text("query_id,photo_id,rel\n" + "".join(
        f"{query},{photo},-1\n" for query, photo in rows), encoding="utf-8")
    (dest / "dGT.csv").write_text("query_id,photo_id,cluster_id\n", encoding="utf-8")


def validate_data(data_dir: Path) -> None:
    """Dev and test have the same inducer runs and no query in common; each split's pool is public.

    ``input_data/pool.csv`` (``query_id,photo_id``) lists exactly the photos ``rGT.csv``
    judges, and every photo an inducer ranks is in its query's pool.
    """
    inputs = data_checks.split_dirs(data_dir, "input_data")
    data_checks.same_inducers({split: data_checks.file_stems(d / "inducers", ".txt") for split, d in inputs.items()})
    data_checks.disjoint({split: data_checks.csv_column(d / "topics.csv", 0) for split, d in inputs.items()}, "query")
    references = data_checks.split_dirs(data_dir, "reference_data")
    for split, folder in inputs.items():
        path = folder / POOL_FILE
        if not path.is_file():
            raise ValueError(f"{split}/input_data/{POOL_FILE} is missing; list every photo of each query's pool "
                             "(query_id,photo_id: the photos rGT.csv judges), the scorer refuses photos outside it")
        if data_checks.csv_header(path) != ["query_id", "photo_id"]:
            raise ValueError(f"{split}/input_data/{POOL_FILE}: the header must be query_id,photo_id")
        pool = set(zip(data_checks.csv_column(path, 0), data_checks.csv_column(path, 1)))
        relevance = references[split] / "rGT.csv"
        judged = set(zip(data_checks.csv_column(relevance, 0), data_checks.csv_column(relevance, 1)))
        if pool != judged:
            raise ValueError(f"{split}/input_data/{POOL_FILE} and {split}/reference_data/rGT.csv disagree on "
                             f"{len(pool ^ judged)} (query, photo) pair(s); the pool is the photos rGT.csv judges")
        for run in sorted((folder / "inducers").glob("*.txt")):
            ranked = {(fields[0], fields[2]) for fields in
                      (line.split() for line in run.read_text(encoding="utf-8-sig").splitlines()) if len(fields) > 2}
            if not ranked <= pool:
                raise ValueError(f"{split}/input_data/inducers/{run.name} ranks {len(ranked - pool)} photo(s) outside "
                                 f"their query's pool ({POOL_FILE})")


# --------------------------------------------------------------------------- drawing


def _draw_inducers(roles: dict[str, int], rng: np.random.Generator) -> list[dict]:
    """Parameters of every inducer, in a shuffled order named inducer_001, inducer_002..."""
    drawn = []
    for role, count in roles.items():
        parameters = ROLE_PARAMETERS[role]
        for _ in range(count):
            inducer = {
                "role": role,
                "relevance": float(rng.uniform(*parameters["relevance"])),
                "typicality": parameters["typicality"] * float(rng.uniform(0.8, 1.2)),
                "cluster_bias": parameters["cluster_bias"],
                "group_noise": parameters["group_noise"],
                "own_noise": parameters["own_noise"] * float(rng.uniform(0.9, 1.1)),
                "scale": SCALES[int(rng.integers(len(SCALES)))],
                "slope": float(rng.uniform(0.5, 2.0)),
                "shift": float(rng.normal(0.0, 1.0)),
            }
            if "perception" in parameters:
                inducer["perception"] = float(rng.uniform(*parameters["perception"]))
                inducer["penalty"] = float(rng.uniform(*parameters["penalty"]))
            drawn.append(inducer)
    order = rng.permutation(len(drawn))
    inducers = [drawn[i] for i in order]
    width = max(3, len(str(len(inducers))))
    for number, inducer in enumerate(inducers, start=1):
        inducer["name"] = f"inducer_{number:0{width}d}"
    return inducers


def _draw_pools(n_queries: int, rng: np.random.Generator) -> dict:
    """Photos of every query's pool, concatenated: query, relevance, cluster, latent features.

    ``cluster`` numbers the relevant photos' clusters 0..k-1 within each query;
    ``visual`` is a split-wide code of the visual group of every photo (its cluster for
    the relevant ones, a noise group for the others).
    """
    sizes = rng.integers(POOL_SIZE[0], POOL_SIZE[1] + 1, size=n_queries)
    query = np.repeat(np.arange(n_queries), sizes)
    rel = np.zeros(query.size, dtype=np.int64)
    cluster = np.full(query.size, -1, dtype=np.int64)
    visual = np.empty(query.size, dtype=np.int64)
    typicality = rng.standard_normal(query.size)
    n_clusters = np.empty(n_queries, dtype=np.int64)
    next_visual = 0
    start = 0
    for q, size in enumerate(sizes.tolist()):
        n_relevant = int(round(size * rng.uniform(*RELEVANT_SHARE)))
        n_dont_know = int(round(size * rng.uniform(*DONT_KNOW_SHARE)))
        k = int(rng.integers(CLUSTERS[0], CLUSTERS[1] + 1))
        n_clusters[q] = k
        # Skewed cluster sizes, each cluster at least one photo.
        counts = 1 + rng.multinomial(n_relevant - k, rng.dirichlet(np.full(k, CLUSTER_CONCENTRATION)))
        rows = start + rng.permutation(size)
        relevant_rows, dont_know_rows = rows[:n_relevant], rows[n_relevant:n_relevant + n_dont_know]
        rel[relevant_rows] = 1
        rel[dont_know_rows] = -1
        cluster[relevant_rows] = np.repeat(np.arange(k), counts)
        visual[relevant_rows] = next_visual + cluster[relevant_rows]
        # Photos of big clusters look most typical of the query.
        size_effect = np.log(counts) - np.log(counts).mean()
        typicality[relevant_rows] = 0.6 * typicality[relevant_rows] + size_effect[cluster[relevant_rows]]
        other_rows = rows[n_relevant:]
        n_noise = int(rng.integers(NOISE_CLUSTERS[0], NOISE_CLUSTERS[1] + 1))
        visual[other_rows] = next_visual + k + rng.integers(n_noise, size=other_rows.size)
        next_visual += k + n_noise
        start += size
    relevance = np.where(rel == 1, 1.0, np.where(rel == -1, 0.5, 0.0))
    apparent = RELEVANCE_SHIFT * relevance + rng.standard_normal(query.size)
    return {"query": query, "rel": rel, "relevant": rel == 1, "cluster": cluster, "visual": visual,
            "n_visual": next_visual, "typicality": typicality, "apparent": apparent, "n_clusters": n_clusters}


def _inducer_runs(inducers: list[dict], pool: dict, rng: np.random.Generator) -> list[dict]:
    """Every inducer's top RUN_LENGTH photos per query: photo rows, ranks and the ranking keys."""
    query, visual = pool["query"], pool["visual"]
    n_photos = query.size
    groups = {role: {"noise": rng.standard_normal(n_photos), "bias": rng.standard_normal(pool["n_visual"])}
              for role in ROLE_PARAMETERS}
    runs = []
    for inducer in inducers:
        group = groups[inducer["role"]]
        own_bias = rng.standard_normal(pool["n_visual"])
        if inducer["group_noise"]:
            shared_weight, own_weight = GROUP_BIAS_WEIGHTS
            own_bias = shared_weight * group["bias"] + own_weight * own_bias
        key = (inducer["relevance"] * pool["apparent"]
               + inducer["typicality"] * pool["typicality"]
               + inducer["cluster_bias"] * own_bias[visual]
               + inducer["group_noise"] * group["noise"]
               + inducer["own_noise"] * rng.standard_normal(n_photos))
        if "perception" in inducer:
            key = _diversified(key, query, visual, inducer, pool["n_visual"], rng)
        order = np.lexsort((-key, query))
        position = _positions(query[order])
        kept = order[position < RUN_LENGTH]
        runs.append({"rows": kept, "rank": position[position < RUN_LENGTH], "key": key[kept]})
    return runs


def _diversified(key: np.ndarray, query: np.ndarray, visual: np.ndarray, inducer: dict, n_visual: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Round-robin-like re-ranking: lower each photo by ``penalty`` per better photo of its perceived cluster.

    A photo's cluster is perceived correctly with probability ``perception``; otherwise
    it is taken for a random visual group of the split (a different one, in practice).
    """
    wrong = rng.random(key.size) >= inducer["perception"]
    perceived = np.where(wrong, n_visual + rng.integers(4 * n_visual, size=key.size), visual)
    order = np.lexsort((-key, perceived, query))
    before = _positions(perceived[order] + (n_visual * 5) * query[order])
    within = np.empty_like(before)
    within[order] = before
    return key - inducer["penalty"] * within


def _positions(sorted_groups: np.ndarray) -> np.ndarray:
    """0-based position of every element within its run of equal values in ``sorted_groups``."""
    if sorted_groups.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    return np.arange(sorted_groups.size) - np.repeat(starts, np.diff(np.r_[starts, sorted_groups.size]))


def _photo_ids(n_photos: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct 10-digit Flickr-like photo ids, in a random order."""
    ids = 3_000_000_000 + np.cumsum(rng.integers(1, 60_000, size=n_photos))
    return rng.permutation(ids)


def _titles(n_queries: int, rng: np.random.Generator) -> list[str]:
    """Distinct place names: the landmarks, then city + place kind combinations, shuffled."""
    combinations = [f"{city} {kind}" for city in CITIES for kind in PLACE_KINDS]
    combinations = [combinations[i] for i in rng.permutation(len(combinations))]
    names = list(LANDMARKS) + combinations
    distinct = len(names)
    for repeat in range(2, 2 + (n_queries - 1) // distinct):  # more queries than names (scaled data)
        names += [f"{name} {repeat}" for name in names[:distinct]]
    chosen = names[:n_queries]
    return [chosen[i] for i in rng.permutation(len(chosen))]


# --------------------------------------------------------------------------- writing


def _on_scale(key: np.ndarray, rank: np.ndarray, inducer: dict) -> list[str]:
    """The inducer's reported scores (non-increasing with rank), formatted."""
    scale, slope, shift = inducer["scale"], inducer["slope"], inducer["shift"]
    if scale == "similarity":
        values = 1.0 / (1.0 + np.exp(-(slope * key + shift)))
    elif scale == "distance":
        values = -np.exp(-0.5 * slope * key)
    elif scale == "logit":
        values = slope * key + shift
    elif scale == "reciprocal_rank":
        values = 1.0 / (rank + 1.0)
    else:
        return [str(RUN_LENGTH - int(r)) for r in rank.tolist()]
    return [f"{value:.6f}" for value in values.tolist()]


def _write_run(path: Path, inducer: dict, pool: dict, run: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    query_ids = np.array(pool["query_ids"], dtype=object)[pool["query"][run["rows"]]]
    photo_ids = pool["photo_ids"][run["rows"]].tolist()
    scores = _on_scale(run["key"], run["rank"], inducer)
    name = inducer["name"]
    lines = [f"{q} 0 {p} {r} {s} {name}"
             for q, p, r, s in zip(query_ids.tolist(), photo_ids, run["rank"].tolist(), scores)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_topics(path: Path, pool: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["query_id,title"] + [f"{q},{t}" for q, t in zip(pool["query_ids"], pool["titles"])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_pool(path: Path, pool: dict) -> None:
    """pool.csv: every photo of every query's pool, sorted by query then photo id (the rows of rGT.csv)."""
    order = np.lexsort((pool["photo_ids"], pool["query"]))
    query_ids = [pool["query_ids"][q] for q in pool["query"][order].tolist()]
    lines = ["query_id,photo_id"] + [f"{q},{p}" for q, p in zip(query_ids, pool["photo_ids"][order].tolist())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_truth(folder: Path, pool: dict, rng: np.random.Generator) -> None:
    """rGT.csv, dGT.csv and dclusterGT.csv, sorted by query then photo id (cluster ids from 1)."""
    folder.mkdir(parents=True, exist_ok=True)
    order = np.lexsort((pool["photo_ids"], pool["query"]))
    query_ids = [pool["query_ids"][q] for q in pool["query"][order].tolist()]
    photo_ids = pool["photo_ids"][order].tolist()
    rel, cluster = pool["rel"][order].tolist(), pool["cluster"][order].tolist()
    judged = ["query_id,photo_id,rel"] + [f"{q},{p},{r}" for q, p, r in zip(query_ids, photo_ids, rel)]
    clustered = ["query_id,photo_id,cluster_id"] + [f"{q},{p},{c + 1}" for q, p, r, c in
                                                     zip(query_ids, photo_ids, rel, cluster) if r == 1]
    tags = ["query_id,cluster_id,tag"]
    for query_id, k in zip(pool["query_ids"], pool["n_clusters"].tolist()):
        chosen = rng.choice(len(CLUSTER_TAGS), size=k, replace=False)
        tags.extend(f"{query_id},{c + 1},{CLUSTER_TAGS[t]}" for c, t in enumerate(chosen.tolist()))
    for name, lines in (("rGT.csv", judged), ("dGT.csv", clustered), ("dclusterGT.csv", tags)):
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


TASK = TaskDeclaration(
    name="fusion-div", title="ImageCLEFfusion: search result diversification", kind="retrieval", item_columns=("query_id", "photo_id"),
    metrics=(Metric("f1_at_20", "F1@20"), Metric("cr_at_20", "CR@20"), Metric("p_at_20", "P@20")),
    editions=EDITIONS, default_edition=DEFAULT_EDITION, generate_data=generate_data,
    inducer_predictions=inducer_predictions, validate_data=validate_data, input_files=INPUT_FILES,
    accepted_warnings=ACCEPTED_WARNINGS,
    write_check_reference=write_check_reference,
)
