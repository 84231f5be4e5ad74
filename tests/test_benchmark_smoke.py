"""Smoke test of benchmarks/bench_scoring.py: a tiny size, one repetition, a table comes out (no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_scoring.py"


def run_benchmark(*options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--repeat", "1", "--scales", "0.05", *options],
                          capture_output=True, text=True, timeout=120, check=False)


def test_prints_a_table_row_per_task_with_matching_scores() -> None:
    completed = run_benchmark("--tasks", "int,div,cap")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("Machine: ") and "numpy" in lines[0]
    header = next(line for line in lines if line.startswith("task"))
    for column in ("our process (s)", "reference (s)", "speed-up (process)", "process us/item"):
        assert column in header
    for bundle in ("fusion-int", "fusion-div", "fusion-cap"):
        assert any(line.startswith(bundle) and "0.05x" in line for line in lines), bundle
    assert "MISMATCH" not in completed.stdout


def test_markdown_table() -> None:
    completed = run_benchmark("--tasks", "div", "--markdown")
    assert completed.returncode == 0, completed.stderr
    table = [line for line in completed.stdout.splitlines() if line.startswith("|")]
    assert table[0].startswith("| task | size | items |")
    assert set(table[1]) <= set("|-:")
    assert len(table) == 3 and table[2].startswith("| fusion-div | 0.05x |")


@pytest.mark.parametrize("option", [["--tasks", "foo"], ["--scales", "0"], ["--scales", "x"], ["--repeat", "0"]])
def test_rejects_bad_options(option: list[str]) -> None:
    completed = run_benchmark(*option)
    assert completed.returncode == 2
    assert "error:" in completed.stderr


BENCH = SCRIPT.parent / "bench.py"


def run_bench(*options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH), *options], capture_output=True, text=True, timeout=120,
                          check=False)


def test_bench_scoring_part_covers_fusion_mem_with_memory_and_load() -> None:
    completed = run_bench("--parts", "scoring", "--scales", "0.05", "--repeat", "1", "--tasks", "mem", "--markdown")
    assert completed.returncode == 0, completed.stderr
    assert "## Scoring (load before: " in completed.stdout and "Load after: " in completed.stdout
    header = next(line for line in completed.stdout.splitlines() if line.startswith("| task |"))
    assert "peak memory (MiB)" in header and "input (MiB)" in header
    assert "| fusion-mem | 0.05x | 25 videos |" in completed.stdout


@pytest.mark.parametrize("option", [["--parts", "foo"], ["--reruns", "1"]])
def test_bench_rejects_bad_options(option: list[str]) -> None:
    completed = run_bench(*option)
    assert completed.returncode == 2 and "error:" in completed.stderr


@pytest.fixture
def bench_module(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(BENCH.parent))
    import bench  # noqa: PLC0415

    return bench


def _fake_balloon(tmp_path: Path, features: str, order: str) -> tuple[Path, Path]:
    device = tmp_path / "virtio_balloon" / "virtio0"
    device.mkdir(parents=True)
    (device / "features").write_text(features + "\n")
    order_file = tmp_path / "page_reporting_order"
    order_file.write_text(order + "\n")
    return device.parent, order_file


@pytest.mark.parametrize("tune", [True, False])
def test_tune_turns_free_page_reporting_off_and_restores_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            bench_module, tune: bool) -> None:
    balloon, order_file = _fake_balloon(tmp_path, "0110010" + "0" * 57, "9")
    monkeypatch.setattr(bench_module, "BALLOON_FEATURES", balloon)
    monkeypatch.setattr(bench_module, "PAGE_REPORTING_ORDER", order_file)
    logged: list[str] = []
    with bench_module.tuned_memory(tune, logged.append) as state:
        assert order_file.read_text().strip() == ("11" if tune else "9")
        assert state.startswith("free page reporting off" if tune else "free page reporting on (order 9")
    assert order_file.read_text().strip() == "9"
    assert len(logged) == (2 if tune else 0)


@pytest.mark.parametrize("features, order", [("0110000" + "0" * 57, "9"), ("0110010" + "0" * 57, "11")])
def test_no_tuning_without_reporting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bench_module,
                                     features: str, order: str) -> None:
    balloon, order_file = _fake_balloon(tmp_path, features, order)
    monkeypatch.setattr(bench_module, "BALLOON_FEATURES", balloon)
    monkeypatch.setattr(bench_module, "PAGE_REPORTING_ORDER", order_file)
    with bench_module.tuned_memory(True, print) as state:
        assert state == "no free page reporting"
    assert order_file.read_text().strip() == order
