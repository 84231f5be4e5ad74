"""The platform commands: unit tests of the client's rules, then every command against a real platform.

The live tests run Codabench's own code on 127.0.0.1 (the scripts in KIT_PLATFORM_DIR,
which .ci/run sets; started here when not already running) and skip with one line when
that folder, Docker or the kit's image is absent. With a registry on loopback
(KIT_REGISTRY), the bundle references the kit's image by digest, as a published one should.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from bundlekit.cli import main
from bundlekit.platform.client import Platform, PlatformError, explain, find_phase, phase_closed
from bundlekit.platform.common import differs, quality_keys
from bundlekit.platform.results import originals
from bundlekit.platform.smoke import plan
from bundlekit.platform.submit import parse_answers

URL = "http://127.0.0.1:9"


def response(status: int, body: str, kind: str = "application/json") -> SimpleNamespace:
    return SimpleNamespace(status_code=status, text=body, headers={"Content-Type": kind},
                           json=lambda: json.loads(body))


# --- the client's rules, without a platform ---------------------------------------------

def test_bad_token_is_one_line_naming_the_fix() -> None:
    text = explain(response(403, '{"detail": "Invalid token."}'), URL)
    assert text.startswith("HTTP 403 (Invalid token.)") and "CODABENCH_TOKEN" in text and "\n" not in text


def test_quota_is_an_html_500_explained() -> None:
    page = "<!doctype html>\n<html><body><h1>Server Error (500)</h1></body></html>"
    text = explain(response(500, page, "text/html"), URL, hint_500="a reached quota; wait until tomorrow (UTC)")
    assert text == "HTTP 500 (an HTML error page); a reached quota; wait until tomorrow (UTC)"


def test_validation_errors_are_flattened() -> None:
    text = explain(response(400, '{"file_name": ["Ensure this field has no more than 64 characters."]}'), URL)
    assert text == "HTTP 400 (file_name: Ensure this field has no more than 64 characters.)"


def test_unknown_competition_names_the_id() -> None:
    assert explain(response(404, '{"detail": "Not found."}'), URL, hint_404="no competition 7") == "HTTP 404: no competition 7"


def test_credentials_come_from_the_environment() -> None:
    with pytest.raises(PlatformError, match="no platform address: set CODABENCH_URL"):
        Platform.from_env({})
    with pytest.raises(PlatformError, match="no credentials"):
        Platform.from_env({"CODABENCH_URL": URL})
    assert Platform.from_env({"CODABENCH_URL": URL + "/", "CODABENCH_USERNAME": "u", "CODABENCH_PASSWORD": "p"}).url == URL


def test_unreachable_platform_is_one_line() -> None:
    with pytest.raises(PlatformError) as caught:
        Platform(URL, token="t", timeout_s=3).competition(1)
    assert str(caught.value).startswith(f"GET /api/competitions/1/: cannot reach {URL}")


def test_phase_closed_and_found_by_name() -> None:
    phase = {"name": "Test", "end": "2027-05-01T00:00:00Z"}
    assert phase_closed(phase, now="2027-05-02T00:00:00+00:00") == "2027-05-01 00:00 UTC"
    assert phase_closed(phase, now="2027-04-02T00:00:00+00:00") is None
    assert phase_closed({"name": "Post", "end": None}) is None
    assert find_phase({"phases": [phase]}, "test") is phase
    with pytest.raises(PlatformError, match="no phase 'Final'; its phases: 'Test'"):
        find_phase({"id": 3, "phases": [phase]}, "Final")


def test_answers_and_score_comparison() -> None:
    assert parse_answers(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(PlatformError, match="KEY=VALUE"):
        parse_answers(["novalue"])
    assert not differs(0.12345678901, 0.1234567890) and differs(0.5, 0.5001) and differs(0.5, None)
    assert quality_keys({"map": 1, "time_s": 2}, {"cpu_s": 1, "gain_pct": 0}) == ["gain_pct", "map"]


def test_reruns_point_to_the_first_submission_of_the_same_upload() -> None:
    submissions = [{"id": 1, "phase": 5, "created_when": "a"}, {"id": 2, "phase": 5, "created_when": "b"},
                   {"id": 3, "phase": 5, "created_when": "c"}, {"id": 4, "phase": 6, "created_when": "d"}]
    uploads = {1: "/private/x.zip", 2: "/private/y.zip", 3: "/private/x.zip", 4: "/private/x.zip"}
    assert originals(submissions, uploads) == {1: None, 2: None, 3: 1, 4: None}


def test_smoke_plan_spreads_baselines_within_daily_quotas(tmp_path: Path) -> None:
    import yaml

    document = {"phases": [{"name": "Development", "tasks": [0]}, {"name": "Test", "tasks": [1]},
                           {"name": "Post-challenge", "tasks": [1]}],
                "solutions": [{"index": i, "tasks": tasks, "path": f"solutions/{name}-{kind}.zip"}
                              for i, (name, kind, tasks) in enumerate(
                                  [(n, k, t) for n in ("a", "b", "c") for k, t in
                                   (("results-dev", [0]), ("results-test", [1]), ("code", [0, 1]))])]}
    bundle = tmp_path / "task.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("competition.yaml", yaml.safe_dump(document))
    scores = {"dev": {"m": 1.0}, "test": {"m": 2.0}}
    competition = {"phases": [{"id": 1, "name": "Development", "max_submissions_per_day": 20},
                              {"id": 2, "name": "Test", "max_submissions_per_day": 5},
                              {"id": 3, "name": "Post-challenge", "max_submissions_per_day": 5}]}
    planned = plan(bundle, {"solutions": dict.fromkeys("abc", scores)}, competition)
    assert [(p.solution, p.split, p.phase["name"]) for p in planned][:3] == [
        ("a", "dev", "Development"), ("a", "test", "Test"), ("a", "dev", "Development")]
    assert sum(p.phase["name"] == "Test" for p in planned) == 5
    assert sum(p.phase["name"] == "Post-challenge" for p in planned) == 1
    assert all(p.expected == scores[p.split] for p in planned)
    assert len(plan(bundle, {"solutions": dict.fromkeys("abc", scores)}, competition, only="results")) == 6


# --- against the local platform ---------------------------------------------------------

def _env_file(home: Path) -> dict[str, str]:
    path = home / "cbsite.env"
    if not path.is_file():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(f"{url}/api/", timeout=5).status_code < 500
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def platform(kit_image: str) -> dict[str, str]:
    """The local platform's address and tokens, starting it if it does not run; a skip without its scripts."""
    folder = os.environ.get("KIT_PLATFORM_DIR")
    if not folder or not Path(folder, "start.sh").is_file():
        pytest.skip("no local platform (KIT_PLATFORM_DIR, set by .ci/run, names its scripts)")
    home = Path(os.environ.get("CBS_HOME", "/tmp/cbsite"))
    env = _env_file(home)
    started = False
    if not env or not _answers(env["BASE_URL"]):
        subprocess.run(["bash", str(Path(folder, "start.sh"))], check=True, env={**os.environ, "CBS_HOME": str(home)},
                       stdout=subprocess.DEVNULL)
        env, started = _env_file(home), True
    yield env
    if started:
        subprocess.run(["bash", str(Path(folder, "stop.sh"))], check=False, env={**os.environ, "CBS_HOME": str(home)},
                       stdout=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, kit_image: str) -> Path:
    """fusion-int built for the platform: the kit's image pushed to the loopback registry and pinned by digest."""
    from bundlekit.build import BuildOptions, build_task
    from bundlekit.registry import RegistryError, push_image

    reference = kit_image
    registry = os.environ.get("KIT_REGISTRY")
    if registry:
        try:
            reference = push_image(kit_image, f"{registry}/bundlekit-test/fusion-kit:platform")
        except RegistryError:
            pass  # the registry tests say why; the platform tests go on with the tag
    out = tmp_path_factory.mktemp("platform-dist")
    return build_task("fusion-int", BuildOptions(out=out, docker_image=reference, progress=lambda message: None)).bundle_zip


@pytest.fixture()
def as_organiser(platform: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("CODABENCH_USERNAME", "CODABENCH_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CODABENCH_URL", platform["BASE_URL"])
    monkeypatch.setenv("CODABENCH_TOKEN", platform["TOKEN"])
    return platform


@pytest.fixture(scope="module")
def competition(platform: dict[str, str], bundle: Path) -> int:
    os.environ.update(CODABENCH_URL=platform["BASE_URL"], CODABENCH_TOKEN=platform["TOKEN"])
    try:
        return Platform.from_env().publish(bundle)
    finally:
        del os.environ["CODABENCH_URL"], os.environ["CODABENCH_TOKEN"]


def test_publish_prints_id_and_url_and_keeps_the_digest(as_organiser, bundle: Path, capsys) -> None:
    assert main(["publish", str(bundle)]) == 0
    competition_id, url = capsys.readouterr().out.split()
    assert url == f"{as_organiser['BASE_URL']}/competitions/{competition_id}/"
    published = Platform.from_env().competition(competition_id)
    with zipfile.ZipFile(bundle) as archive:
        assert f"docker_image: {published['docker_image']}" in archive.read("competition.yaml").decode()
    assert [p["name"] for p in published["phases"]] == ["Development", "Test", "Post-challenge"]


def test_smoke_finds_every_baseline_score(as_organiser, competition: int, bundle: Path, capsys) -> None:
    assert main(["smoke", str(competition), str(bundle), "--only", "results"]) == 0
    out = capsys.readouterr().out
    assert "DIFFERENT" not in out and out.count(" same") == 6 * 3  # 3 baselines x 2 splits x 3 metrics


def open_to_the_participant(platform_env: dict[str, str], competition_id: int) -> None:
    """Publish the competition, register the participant and approve them (the organiser's steps)."""
    import requests

    url = platform_env["BASE_URL"]
    organiser = {"Authorization": f"Token {platform_env['TOKEN']}"}
    participant = {"Authorization": f"Token {platform_env['PARTICIPANT_TOKEN']}"}
    requests.patch(f"{url}/api/competitions/{competition_id}/", json={"published": True, "whitelist_emails": []},
                   headers=organiser, timeout=30).raise_for_status()
    requests.post(f"{url}/api/competitions/{competition_id}/register/", headers=participant,
                  timeout=30).raise_for_status()
    pending = requests.get(f"{url}/api/participants/", params={"competition": competition_id}, headers=organiser,
                           timeout=30).json()
    for entry in (e for e in pending if e["status"] != "approved"):
        requests.patch(f"{url}/api/participants/{entry['id']}/", json={"status": "approved"}, headers=organiser,
                       timeout=30).raise_for_status()


def test_a_participant_submission_reaches_results_and_reruns_alike(
        as_organiser, competition: int, bundle: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    # Opening the competition (the organiser's step after smoke), then the participant registers and is approved.
    open_to_the_participant(as_organiser, competition)
    with zipfile.ZipFile(bundle) as archive:
        code = tmp_path / "minmax-mean-code.zip"
        code.write_bytes(archive.read("solutions/minmax-mean-code.zip"))
    baselines = json.loads(bundle.with_name("fusion-int.baselines.json").read_text())["solutions"]["minmax-mean"]["dev"]

    monkeypatch.setenv("CODABENCH_TOKEN", as_organiser["PARTICIPANT_TOKEN"])
    answers = ["--answer", "method_description=CombSUM", "--answer", "n_inducers_used=all",
               "--answer", "external_data=No"]
    assert main(["submit", str(competition), str(code), "--phase", "Development", "--wait", *answers]) == 0
    out = capsys.readouterr().out.splitlines()
    submission_id = int(out[0])
    posted = dict(line.split() for line in out[3:])
    assert {key: float(posted[key]) for key in ("map_at_10", "map")} == pytest.approx(
        {key: baselines[key] for key in ("map_at_10", "map")}, abs=1e-6)

    monkeypatch.setenv("CODABENCH_TOKEN", as_organiser["TOKEN"])
    assert main(["results", str(competition), "--out", str(tmp_path / "campaign")]) == 0
    campaign = tmp_path / "campaign"
    described = json.loads((campaign / "competition.json").read_text())
    assert described["primary_metric"] == "map_at_10" and [p["name"] for p in described["phases"]][0] == "Development"
    record = json.loads((campaign / "submissions" / str(submission_id) / "submission.json").read_text())
    assert (record["owner"], record["phase"], record["status"], record["rerun_of"]) == (
        as_organiser["PARTICIPANT_USERNAME"], "Development", "Finished", None)
    assert record["fact_sheet_answers"]["method_description"] == "CombSUM"
    assert not differs(record["scores"]["map_at_10"], baselines["map_at_10"])
    scoring = campaign / "submissions" / str(submission_id) / "scoring_output"
    assert json.loads((scoring / "scores.json").read_text())["map_at_10"] == pytest.approx(baselines["map_at_10"])
    assert (scoring / "detailed_results.html").is_file() and (scoring / "per_item_scores.csv").is_file()
    header = (campaign / "submissions.csv").read_text().splitlines()[0]
    assert header.startswith("id,phase,owner,team,date,status,map_at_10,map,gain_pct")

    assert main(["rerun", str(competition), "--phase", "Development", "--expect-same"]) == 0
    table = capsys.readouterr().out
    assert "CHANGED" not in table and f"{submission_id}" in table
    assert main(["results", str(competition), "--out", str(campaign)]) == 0
    records = [json.loads(p.read_text()) for p in campaign.glob("submissions/*/submission.json")]
    assert submission_id in {r["rerun_of"] for r in records}


def test_platform_errors_are_one_line(as_organiser, competition: int, bundle: Path, monkeypatch, capsys) -> None:
    assert main(["submit", "999999", str(bundle), "--phase", "Development"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"bundlekit submit: GET /api/competitions/999999/: HTTP 404: no competition 999999 visible to this account "
        f"on {as_organiser['BASE_URL']}; check the id (publish prints it) and the account")
    assert main(["submit", str(competition), str(bundle), "--phase", "Final"]) == 1
    assert "has no phase 'Final'; its phases: 'Development', 'Test', 'Post-challenge'" in capsys.readouterr().err
    monkeypatch.setenv("CODABENCH_TOKEN", "0" * 40)
    assert main(["results", str(competition), "--out", "unused"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("bundlekit results: GET /api/competitions/") and "HTTP 403 (Invalid token.)" in error
    assert error.count("\n") == 1


def test_results_never_replace_a_folder_that_is_not_a_campaign(tmp_path: Path) -> None:
    from bundlekit.platform.results import collect

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(PlatformError, match="the folder holds other files"):
        collect(Platform(URL, token="t"), "1", tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
