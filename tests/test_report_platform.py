"""bundlekit report on a campaign collected from the local Codabench deployment by `bundlekit results`.

Uses the platform tests' fixtures (a published fusion-int competition); skipped, as they
are, where no local platform runs.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

from bundlekit.cli import main
from bundlekit.report.per_item import PER_ITEM_FILE, read_per_item

sys.path.insert(0, str(Path(__file__).parent))
import per_item_shim  # noqa: E402
from test_platform import as_organiser, bundle, competition, open_to_the_participant, platform  # noqa: E402,F401 - fixtures

SOLUTIONS = ("best-inducer", "minmax-mean", "logistic-regression")


@pytest.mark.slow
def test_report_of_a_campaign_collected_from_the_platform(as_organiser, competition, bundle, tmp_path, monkeypatch,
                                                          capsys):
    per_item_shim.install(monkeypatch)
    open_to_the_participant(as_organiser, competition)
    submitted: dict[int, Path] = {}
    with zipfile.ZipFile(bundle) as archive:
        for name in SOLUTIONS:
            path = tmp_path / f"{name}-results-dev.zip"
            path.write_bytes(archive.read(f"solutions/{name}-results-dev.zip"))
            monkeypatch.setenv("CODABENCH_TOKEN", as_organiser["PARTICIPANT_TOKEN"])
            assert main(["submit", str(competition), str(path), "--phase", "Development", "--wait",
                         "--answer", f"method_description={name}", "--answer", "n_inducers_used=33",
                         "--answer", "external_data=No"]) == 0
            submitted[int(capsys.readouterr().out.splitlines()[0])] = path
        archive.extract("dev_reference_data.zip", tmp_path)
    with zipfile.ZipFile(tmp_path / "dev_reference_data.zip") as archive:
        archive.extractall(tmp_path / "reference")

    monkeypatch.setenv("CODABENCH_TOKEN", as_organiser["TOKEN"])
    campaign = tmp_path / "campaign"
    assert main(["results", str(competition), "--out", str(campaign)]) == 0
    for submission_id, path in submitted.items():  # the platform's scoring wrote C1: check it
        with zipfile.ZipFile(path) as archive:
            archive.extractall(tmp_path / f"run-{submission_id}")
        ids, columns = per_item_shim.per_item("fusion-int", tmp_path / "reference",
                                              tmp_path / f"run-{submission_id}" / "run.csv")
        written = read_per_item(campaign / "submissions" / str(submission_id) / "scoring_output" / PER_ITEM_FILE)
        assert list(written.item_ids) == ids and written.columns["map_at_10"] == pytest.approx(columns["map_at_10"])

    out = tmp_path / "report"
    assert main(["report", str(campaign), "--phase", "Development", "--bundle", str(bundle), "--out", str(out),
                 "--resamples", "300", "--permutations", "1000"]) == 0
    data = json.loads((out / "report.json").read_text())
    baselines = json.loads(bundle.with_name("fusion-int.baselines.json").read_text())
    assert data["phase"] == "Development" and data["primary_metric"] == "map_at_10"
    assert data["baseline"]["id"] == baselines["best_inducers"]["dev"]["best_inducer"]
    rows = {row["id"]: row for row in data["runs"]}
    assert {str(i) for i in submitted} <= set(rows)
    for submission_id in submitted:
        row = rows[str(submission_id)]
        assert row["inducers_used"] == "33" and row["team"]
        assert row["gain"]["gain_pct"] == pytest.approx(row["scores"]["gain_pct"], abs=1e-6)
    assert [team["team"] for team in data["teams"]] == [rows[str(next(iter(submitted)))]["team"]]
