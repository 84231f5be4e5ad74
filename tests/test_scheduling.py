"""Where `bundlekit run` puts its work: timed prediction steps one at a time, on their own CPU."""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

from bundlekit import run, scheduling
from bundlekit.run import run_many
from bundlekit.run.worker import SubmissionRun
from test_runner import DOUBLE, bundle, code_files, make_submission  # noqa: F401 - fixtures

AFFINITY = "print('cpus', *sorted(os.sched_getaffinity(0)), flush=True)\n"
TIMED_METADATA = "command: python3 -c pass\n"  # a code submission, as the starting kit writes it


def test_cpu_sets() -> None:
    usable = os.sched_getaffinity(0)
    timed, untimed = scheduling.timed_cpus(), scheduling.untimed_cpus()
    if len(usable) == 1:
        assert timed is None and untimed is None
        assert "one CPU" in scheduling.describe()
    else:
        assert len(timed) == 1 and not timed & untimed and timed | untimed == usable
        assert f"on CPU {scheduling.cpuset(timed)}" in scheduling.describe()
    assert scheduling.cpuset({3, 0, 2}) == "0,2,3" and scheduling.cpuset(None) is None


def test_timed_prediction_steps_never_overlap(bundle: Path, make_submission, tmp_path: Path, monkeypatch) -> None:
    active, most, lock = [0], [0], threading.Lock()
    original = SubmissionRun._predict_step

    def tracked(self, submission_dir, metadata_name, command, cpus):
        if command is None:
            return original(self, submission_dir, metadata_name, command, cpus)
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.2)  # long enough for the other runs to try
            return original(self, submission_dir, metadata_name, command, cpus)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(SubmissionRun, "_predict_step", tracked)
    body = "import os\n" + AFFINITY + DOUBLE
    timed = [make_submission(f"timed{n}", code_files(body, metadata=TIMED_METADATA)) for n in range(3)]
    untimed = make_submission("untimed", code_files(body))  # no metadata: not a code submission for the platform
    results = run_many(bundle, [*timed, untimed], "Development", use_docker=False, jobs=4,
                       output_dir=tmp_path / "runs")
    assert [result.status for result in results] == ["finished"] * 4, [result.reason for result in results]
    assert most[0] == 1
    cpus = [set(map(int, (Path(r.logs_dir) / "prediction.stdout.log").read_text().split("cpus", 1)[1].split()))
            for r in results]
    expected_timed = scheduling.timed_cpus() or os.sched_getaffinity(0)
    expected_untimed = scheduling.untimed_cpus() or os.sched_getaffinity(0)
    assert cpus == [expected_timed] * 3 + [expected_untimed]


def test_run_help_says_how_timed_steps_are_scheduled() -> None:
    parser = argparse.ArgumentParser()
    run.configure_parser(parser)
    assert "one at a time" in parser.format_help().replace("\n", " ").replace("  ", " ")
