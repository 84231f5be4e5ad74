"""What makes the runner fast keeps its guarantees: shared extractions, containers released in the background."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from bundlekit.run import bundle as bundle_module
from bundlekit.run import docker_engine, local_engine, run_submission, worker
from helpers import zip_of
from test_runner import DOUBLE, FIXTURE_BUNDLE, bundle, code_files, image, make_submission, run_docker  # noqa: F401


def test_a_resource_zip_is_extracted_once_per_content(tmp_path: Path) -> None:
    first = bundle_module.shared_extraction(zip_of(tmp_path / "a.zip", {"data/x.txt": "1\n"}))
    same_bytes = bundle_module.shared_extraction(Path(shutil.copy(tmp_path / "a.zip", tmp_path / "b.zip")))
    other = bundle_module.shared_extraction(zip_of(tmp_path / "c.zip", {"data/x.txt": "2\n"}))
    assert same_bytes == first != other
    assert (other / "data" / "x.txt").read_text() == "2\n"


@pytest.mark.parametrize("change", ["modify", "add", "remove"])
def test_a_changed_extraction_is_never_handed_out_again(tmp_path: Path, change: str) -> None:
    archive = zip_of(tmp_path / "data.zip", {"x.txt": "clean\n", "y.txt": "kept\n"})
    folder = bundle_module.shared_extraction(archive)
    if change == "modify":
        (folder / "x.txt").write_text("dirty\n")
    elif change == "add":
        (folder / "planted.txt").write_text("from an earlier run\n")
    else:
        (folder / "y.txt").unlink()
    fresh = bundle_module.shared_extraction(archive)
    assert sorted(path.name for path in fresh.iterdir()) == ["x.txt", "y.txt"]
    assert (fresh / "x.txt").read_text() == "clean\n"


def test_two_bundles_on_the_same_zip_share_its_extraction(tmp_path: Path) -> None:
    root = Path(shutil.copytree(FIXTURE_BUNDLE, tmp_path / "bundle"))
    zip_of(root / "data.zip", {"questions.txt": "1\n2\n"})
    with bundle_module.Bundle(root) as one:
        first = one.materialize(root / "data.zip")
    with bundle_module.Bundle(root) as two:
        assert two.materialize(root / "data.zip") == first
    assert (first / "questions.txt").read_text() == "1\n2\n"  # kept for the process, not per bundle


LINGERING_CHILD = (
    "import subprocess\n"
    "subprocess.Popen(['sleep', '30'], start_new_session=True)\n"
)


def test_cgroup_members_counts_the_processes_or_says_it_cannot(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "abc").mkdir()
    (tmp_path / "abc" / "cgroup.procs").write_text("1234\n5678\n")
    templates = (str(tmp_path / "missing" / "{id}"), str(tmp_path / "{id}" / "cgroup.procs"))
    monkeypatch.setattr(docker_engine, "CGROUP_PROCS", templates)
    assert docker_engine._cgroup_members("abc") == 2
    assert docker_engine._cgroup_members("other") is None


@pytest.mark.docker
@pytest.mark.parametrize("asked", ["cgroup", "engine"])
@pytest.mark.parametrize("lingers", [False, True])
def test_a_container_is_killed_at_once_only_when_a_process_is_left(
    bundle: Path, make_submission, run_docker, monkeypatch, lingers: bool, asked: str,  # noqa: F811 - fixtures
) -> None:
    if asked == "engine":  # as when the engine runs in a VM: its `top` answers
        monkeypatch.setattr(docker_engine, "CGROUP_PROCS", ())
    killed = []
    kill = docker_engine._Container.kill

    def recording_kill(container: docker_engine._Container) -> None:
        killed.append(container.container is not None)
        kill(container)

    monkeypatch.setattr(docker_engine._Container, "kill", recording_kill)
    result = run_docker(bundle, make_submission("code", code_files(LINGERING_CHILD * lingers + DOUBLE)))
    assert result.status == "finished", result.reason
    assert result.scores["accuracy"] == 1.0
    assert killed == ([True] if lingers else [])  # the prediction step's container; scoring ends clean


def test_the_timed_step_waits_for_every_program_prepared_ahead(
    bundle: Path, make_submission, tmp_path: Path, monkeypatch,  # noqa: F811 - fixtures
) -> None:
    events = []
    prepare, run = local_engine.LocalEngine.prepare, local_engine.LocalEngine.run
    scoring_may_finish = threading.Event()

    def slow_scoring_prepare(engine, mounts, work_dir, cpus):
        if work_dir.name == "scoring":
            scoring_may_finish.wait(5)  # held back until the runner is seen to wait (or a bound passes)
            events.append("scoring prepared")
        return prepare(engine, mounts, work_dir, cpus)

    def recording_run(engine, argv, mounts, work_dir, *args):
        events.append(f"{work_dir.name} runs")
        return run(engine, argv, mounts, work_dir, *args)

    def waiting(pending):
        scoring_may_finish.set()
        return futures_wait(pending)

    monkeypatch.setattr(local_engine.LocalEngine, "prepare", slow_scoring_prepare)
    monkeypatch.setattr(local_engine.LocalEngine, "run", recording_run)
    futures_wait = worker.futures.wait
    monkeypatch.setattr(worker.futures, "wait", waiting)
    submission = make_submission("code", code_files(metadata="command: python3 -c pass\n"))
    result = run_submission(bundle, submission, "Development", use_docker=False, output_dir=tmp_path / "run")
    assert result.status == "finished", result.reason
    assert events == ["scoring prepared", "submission runs", "ingestion runs", "scoring runs"]
