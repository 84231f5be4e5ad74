"""The one model of a bundle: competition.yaml read once, the same for build, check and run."""

from __future__ import annotations

from pathlib import Path

import pytest

from bundlekit.bundle_model import BundleError, Competition, load_yaml, read_document, select_task
from bundlekit.run import Bundle

FIXTURE_YAML = Path(__file__).parent / "fixtures" / "runner" / "bundle" / "competition.yaml"


def test_the_model_of_a_document_as_written() -> None:
    competition = Competition.from_document(read_document(FIXTURE_YAML.read_bytes()))
    assert competition.docker_image == "imageclef/fusion-kit:0.1.0"
    assert [(p.name, p.execution_time_limit) for p in competition.phases] == [("Development", 60.0), ("Final", 30.0)]
    task = select_task(competition.phase("final"), None)
    assert (task.index, task.scoring_program, task.reference_data) == (0, Path("scoring_program"), Path("reference_data"))
    assert [(c.key, c.computation, c.computation_indexes) for c in competition.columns] == [
        ("accuracy", None, ()), ("n_lines", None, ()), ("mean", "avg", (0, 1))]
    assert competition.check_only_phases == frozenset()


def test_the_runner_resolves_the_same_model_inside_the_bundle() -> None:
    with Bundle(FIXTURE_YAML.parent) as bundle:
        assert bundle.columns == Competition.from_document(read_document(FIXTURE_YAML.read_bytes())).columns
        assert bundle.phases[0].tasks[0].scoring_program == FIXTURE_YAML.parent.resolve() / "scoring_program"


def test_keys_given_twice_are_noted_the_last_one_wins() -> None:
    duplicates: list[tuple[str, int, int]] = []
    assert load_yaml("a: 1\nb: 2\na: 3\n", duplicates) == {"a": 3, "b": 2}
    assert duplicates == [("a", 1, 3)]


@pytest.mark.parametrize(("text", "message"), [
    (b"\xff", "competition.yaml: not UTF-8 text (byte 0): save it as UTF-8"),
    (b"a: [1\n", "competition.yaml line 2: not valid YAML: fix the syntax"),
    (b"- 1\n", "competition.yaml: not a mapping of keys"),
])
def test_an_unreadable_document_is_one_line(text: bytes, message: str) -> None:
    with pytest.raises(BundleError) as raised:
        read_document(text)
    assert str(raised.value) == message


def test_a_value_of_the_wrong_kind_names_the_checker() -> None:
    with pytest.raises(BundleError, match=r"a value of the wrong kind .*bundlekit check BUNDLE names it"):
        Competition.from_document({"tasks": [{"index": "x", "scoring_program": "s"}], "phases": []})
