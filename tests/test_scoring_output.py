"""What every scoring program writes and refuses, across the four tasks (docs/scoring-output.md).

- per_item_scores.csv (contract C1), written only for a fully validated run;
- a hidden split (contract C2) shows aggregates only: no per-item table, no best inducer;
- prediction_error.txt (contract C3) is the reason given first;
- links in the prediction output are refused, whatever names them;
- runs are read as a stream, refused unread above 8x the largest valid run, in bounded memory;
- the readers' messages name the separator found, swapped columns, and follow the header.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import test_scoring_int as scoring_int
from helpers import assert_participant_error, run_scorer, scoring_layout
from scoring_common.seal import SealError, reference_key, unseal

ROOT = Path(__file__).resolve().parents[1]
SECRET = "video_s,secret_keyframe.jpg"

# fusion-int's golden ground truth and run (test_scoring_int.py), and two more videos.
INT_GROUNDTRUTH = f"{scoring_int.GROUNDTRUTH}video_10,x1.jpg,1,0.5\n{SECRET},1,0.5\n"
INT_RUN = [*scoring_int.RUN_LINES, "video_10,x1.jpg,0.1", f"{SECRET},0.2"]
# AP per video: a 0.75, b 1/3, c 0, 10 1, s 1.
INT_AP = {"video_a": 0.75, "video_b": 1 / 3, "video_c": 0.0, "video_10": 1.0, "video_s": 1.0}
BASELINE = {"best_inducer": "inducer_secret_best", "primary_metric": "map_at_10",
            "scores": {"map_at_10": 0.123456789, "map": 0.2}}

DIV_RGT = "query_id,photo_id,rel\n" + "".join(f"{q},p{q}_{i},{int(i % 3 == 0)}\n" for q in (1, 2, 3)
                                               for i in range(10))
DIV_DGT = "query_id,photo_id,cluster_id\n" + "".join(f"{q},p{q}_{i},c{i % 2}\n" for q in (1, 2, 3)
                                                     for i in range(10) if i % 3 == 0)
MEM_GROUNDTRUTH = "video_id,score\n" + "".join(f"video_{i},{0.1 * i:.1f}\n" for i in range(1, 8))
CAP_GROUNDTRUTH = "ID\tCUIs\nimg1\tC1;C2\nimg2\tC3\nimg3\t\nimg4\tC4\n"


def score_py(task: str) -> Path:
    return ROOT / "bundles" / task / "scoring_program" / "score.py"


def layout(tmp_path: Path, ref: dict[str, str], res: dict[str, str | bytes], *,
           public: bool | None = True) -> tuple[Path, Path]:
    return scoring_layout(tmp_path, ref, extra={f"res/{name}": content for name, content in res.items()},
                          public=public)


def run(task: str, input_dir: Path, output_dir: Path) -> subprocess.CompletedProcess:
    return run_scorer(score_py(task), input_dir, output_dir, timeout=120)


def int_layout(tmp_path: Path, run_lines: list[str] | str | bytes = INT_RUN, *, public: bool | None = True,
               extra: dict[str, str | bytes] | None = None) -> tuple[Path, Path]:
    run_text = run_lines if isinstance(run_lines, (str, bytes)) else "\n".join(run_lines) + "\n"
    ref = {"groundtruth.csv": INT_GROUNDTRUTH, "baseline.json": json.dumps(BASELINE)}
    return layout(tmp_path, ref, {"run.csv": run_text, **(extra or {})}, public=public)


def assert_refused(result: subprocess.CompletedProcess, output_dir: Path, *fragments: str) -> str:
    message = assert_participant_error(result, output_dir, *fragments)
    assert SECRET not in message and "secret" not in message
    assert not (output_dir / "per_item_scores.csv").exists()
    assert not (output_dir / "per_item_scores.sealed").exists()
    return message


def per_item(output_dir: Path) -> list[list[str]]:
    with open(output_dir / "per_item_scores.csv", encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


# --- C1: per-item scores --------------------------------------------------------------------

def test_fusion_int_per_item_scores_are_the_ap_per_video_in_natural_order(tmp_path: Path):
    input_dir, output_dir = int_layout(tmp_path)
    assert run("fusion-int", input_dir, output_dir).returncode == 0
    rows = per_item(output_dir)
    assert rows[0] == ["item_id", "map_at_10", "map"]
    assert [row[0] for row in rows[1:]] == ["video_10", "video_a", "video_b", "video_c", "video_s"]
    assert {row[0]: float(row[1]) for row in rows[1:]} == pytest.approx(INT_AP, abs=1e-15)
    assert all(row[1] == repr(float(row[1])) for row in rows[1:])
    scores = json.loads((output_dir / "scores.json").read_text())
    assert scores["map_at_10"] == pytest.approx(sum(INT_AP.values()) / 5, abs=1e-10)


def test_fusion_div_per_item_scores_are_the_per_query_values(tmp_path: Path):
    run_lines = "".join(f"{q} 0 p{q}_{i} {i} {10 - i} r\n" for q in (1, 2, 3) for i in range(10))
    input_dir, output_dir = layout(tmp_path, {"rGT.csv": DIV_RGT, "dGT.csv": DIV_DGT}, {"run.txt": run_lines})
    assert run("fusion-div", input_dir, output_dir).returncode == 0
    rows = per_item(output_dir)
    assert rows[0] == ["item_id", "f1_at_20", "cr_at_20", "p_at_20"]
    # 4 relevant photos (i = 0, 3, 6, 9) in 2 clusters per query, all in the top 20: P = 4/20, CR = 1.
    assert rows[1:] == [[q, repr(2 * 0.2 / 1.2), "1.0", "0.2"] for q in ("1", "2", "3")]


def test_fusion_cap_per_item_scores_leave_images_with_an_empty_truth_empty(tmp_path: Path):
    ref = {"groundtruth.csv": CAP_GROUNDTRUTH, "secondary_concepts.txt": "C1\nC3\n"}
    input_dir, output_dir = layout(tmp_path, ref, {"run.csv": "img1|C1\nimg2|\nimg3|C9\nimg4|C4\n"}, public=True)
    assert run("fusion-cap", input_dir, output_dir).returncode == 0
    rows = per_item(output_dir)
    assert rows[0] == ["item_id", "f1", "f1_secondary"]
    assert rows[1:] == [["img1", repr(2 / 3), "1.0"], ["img2", "0.0", "0.0"], ["img3", "", ""], ["img4", "1.0", ""]]


def test_fusion_mem_per_item_scores_are_prediction_and_truth(tmp_path: Path):
    run_text = "".join(f"video_{i},{(i * 7) % 5}\n" for i in range(1, 8))
    input_dir, output_dir = layout(tmp_path, {"groundtruth.csv": MEM_GROUNDTRUTH}, {"run.csv": run_text})
    assert run("fusion-mem", input_dir, output_dir).returncode == 0
    rows = per_item(output_dir)
    assert rows[0] == ["item_id", "prediction", "truth"]
    assert rows[1] == ["video_1", "2.0", "0.1"] and rows[-1] == ["video_7", "4.0", "0.7"]


def test_a_failed_run_leaves_no_per_item_scores_from_an_earlier_run(tmp_path: Path):
    input_dir, output_dir = int_layout(tmp_path)
    assert run("fusion-int", input_dir, output_dir).returncode == 0
    (input_dir / "res" / "run.csv").write_text("video_a,1_0-3.jpg,high\n", encoding="utf-8")
    assert_refused(run("fusion-int", input_dir, output_dir), output_dir, "score 'high' is not a number")


# --- C2: hidden splits ------------------------------------------------------------------------

@pytest.mark.parametrize("public", [False, None], ids=["public-false", "no-split-json"])
def test_a_hidden_split_shows_aggregates_only(tmp_path: Path, public: bool | None):
    input_dir, output_dir = int_layout(tmp_path, public=public)
    assert run("fusion-int", input_dir, output_dir).returncode == 0
    details = (output_dir / "detailed_results.html").read_text(encoding="utf-8")
    assert "aggregate scores only" in details and "MAP@5" in details
    for hidden in ("video_a", "video_s", "inducer_secret_best", "0.1235", "best inducer", "per video"):
        assert hidden not in details
    assert not (output_dir / "per_item_scores.csv").exists()
    sealed = (output_dir / "per_item_scores.sealed").read_text(encoding="utf-8")
    for hidden in ("video_a", "video_s", "map_at_10"):
        assert hidden not in sealed
    # The organisers open it with the split's reference data.
    opened = unseal(sealed, reference_key(input_dir / "ref"))
    assert [row[0] for row in csv.reader(io.StringIO(opened))][1:] == ["video_10", "video_a", "video_b", "video_c",
                                                                        "video_s"]
    assert "gain_pct" in json.loads((output_dir / "scores.json").read_text())


def test_sealed_per_item_scores_are_deterministic_and_open_with_their_split_only(tmp_path: Path):
    outputs = []
    for attempt in ("a", "b"):
        input_dir, output_dir = int_layout(tmp_path / attempt, public=False)
        assert run("fusion-int", input_dir, output_dir).returncode == 0
        outputs.append((output_dir / "per_item_scores.sealed").read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]
    other = tmp_path / "other-ref"
    other.mkdir()
    (other / "groundtruth.csv").write_text(INT_GROUNDTRUTH + "video_z,z.jpg,0,0.0\n", encoding="utf-8")
    with pytest.raises(SealError, match="does not open with this reference data"):
        unseal(outputs[0], reference_key(other))
    damaged = outputs[0][:-10] + ("A" if outputs[0][-10] != "A" else "B") + outputs[0][-9:]
    with pytest.raises(SealError):
        unseal(damaged, reference_key(tmp_path / "a" / "input" / "ref"))


def test_a_public_split_shows_the_breakdown_and_the_best_inducer(tmp_path: Path):
    input_dir, output_dir = int_layout(tmp_path, public=True)
    assert run("fusion-int", input_dir, output_dir).returncode == 0
    details = (output_dir / "detailed_results.html").read_text(encoding="utf-8")
    for shown in ("video_a", "inducer_secret_best", "0.1235", "Average precision per video"):
        assert shown in details
    assert "aggregate scores only" not in details


def test_one_photo_per_query_reads_no_label_on_a_hidden_split(tmp_path: Path):
    """The oracle of issue 9: per-query P@20 of a one-photo run would give each photo's label."""
    run_lines = "".join(f"{q} 0 p{q}_1 0 1 r\n" for q in (1, 2, 3))
    input_dir, output_dir = layout(tmp_path, {"rGT.csv": DIV_RGT, "dGT.csv": DIV_DGT}, {"run.txt": run_lines},
                                   public=False)
    assert run("fusion-div", input_dir, output_dir).returncode == 0
    details = (output_dir / "detailed_results.html").read_text(encoding="utf-8")
    assert "Per query" not in details and "<td>1</td><td>1</td>" not in details
    assert "Means over the 3 queries" in details


# --- C3 and links -----------------------------------------------------------------------------

REASON = "ERROR: Fusion.predict raised KeyError: 'inducer_99' (fusion.py line 12); the full traceback is in the log"


@pytest.mark.parametrize("with_run", [False, True], ids=["no-run", "partial-run"])
def test_the_prediction_steps_reason_comes_first(tmp_path: Path, with_run: bool):
    input_dir, output_dir = int_layout(tmp_path, extra={"prediction_error.txt": REASON + "\n"})
    if not with_run:
        (input_dir / "res" / "run.csv").unlink()
    message = assert_refused(run("fusion-int", input_dir, output_dir), output_dir,
                             "the prediction step failed, so there is no run to score: Fusion.predict raised "
                             "KeyError: 'inducer_99' (fusion.py line 12)")
    details = (output_dir / "detailed_results.html").read_text(encoding="utf-8")
    body = details.split("<body>", 1)[1]
    assert body.index('class="error"') < body.index("</h1>") + 20
    assert "inducer_99" in details and message.startswith("ERROR: the prediction step failed")


@pytest.mark.parametrize("name, target", [
    ("run.csv", "../ref/groundtruth.csv"),
    ("notes.txt", "../ref/groundtruth.csv"),
    ("prediction_error.txt", "../ref/groundtruth.csv"),
    ("sub/run.csv", "../../ref/groundtruth.csv"),
    ("linked_folder", "../ref"),
], ids=["run", "extra-file", "prediction-error", "in-subfolder", "folder"])
def test_a_link_in_the_prediction_output_is_refused(tmp_path: Path, name: str, target: str):
    input_dir, output_dir = int_layout(tmp_path)
    if name == "run.csv":
        (input_dir / "res" / "run.csv").unlink()
    link = input_dir / "res" / name
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    assert_refused(run("fusion-int", input_dir, output_dir), output_dir, "which is a symbolic link",
                   "submit regular files only")


def test_a_link_is_refused_even_when_timing_json_names_it(tmp_path: Path):
    timing = {"run_file": "run.csv", "wall_s": 1.0, "cpu_s": 1.0, "peak_memory_mib": 10.0}
    input_dir, output_dir = int_layout(tmp_path, extra={"timing.json": json.dumps(timing)})
    (input_dir / "res" / "run.csv").unlink()
    (input_dir / "res" / "run.csv").symlink_to("../ref/groundtruth.csv")
    assert_refused(run("fusion-int", input_dir, output_dir), output_dir, "'run.csv', which is a symbolic link")


def test_a_fifo_in_the_prediction_output_is_refused(tmp_path: Path):
    input_dir, output_dir = int_layout(tmp_path)
    os.mkfifo(input_dir / "res" / "pipe.csv")
    assert_refused(run("fusion-int", input_dir, output_dir), output_dir, "'pipe.csv', which is not a regular file")


# --- size and memory ------------------------------------------------------------------------

def test_a_run_far_larger_than_any_valid_one_is_refused_unread(tmp_path: Path):
    input_dir, output_dir = int_layout(tmp_path, "\n".join(INT_RUN) + "\n" + "video_a,x.jpg,0.5\n" * 200_000)
    assert_refused(run("fusion-int", input_dir, output_dir), output_dir, "run.csv: is 3.4 MiB, more than 8 times "
                   "the largest valid run of this split", "a run holds one line per keyframe of the split")


def peak_rss_mib(task: str, input_dir: Path, output_dir: Path) -> tuple[float, subprocess.CompletedProcess]:
    """Peak resident memory of one scoring process, measured by a parent that starts nothing else."""
    probe = ("import resource, subprocess, sys; "
             "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(r.returncode); "
             "print(r.stderr, file=sys.stderr)")
    completed = subprocess.run([sys.executable, "-c", probe, sys.executable, str(score_py(task)), str(input_dir),
                                str(output_dir)], capture_output=True, text=True, timeout=300)
    kib, code = completed.stdout.split()
    return int(kib) / 1024, subprocess.CompletedProcess(completed.args, int(code), "", completed.stderr)


def large_int_reference(n_videos: int = 2000, per_video: int = 40) -> str:
    rows = [f"video_{v},{v}_{k}.jpg,{int(k % 9 == 0)}" for v in range(n_videos) for k in range(per_video)]
    return "video_id,image_id,label\n" + "\n".join(rows) + "\n"


@pytest.mark.slow
@pytest.mark.parametrize("case", ["junk-lines", "single-line", "junk-after-a-valid-line"])
def test_bad_runs_are_rejected_in_bounded_memory(tmp_path: Path, case: str):
    """19 MiB of junk used to take 1.1-2.7 GiB; a 200 MiB single line 1.8 GiB. Memory, not time, is asserted."""
    reference = large_int_reference()  # 80,000 keyframes: a valid run may be a few MiB, the limit is larger
    junk_line = "this is not a run line at all; " * 3
    run_bytes = {
        "junk-lines": (junk_line + "\n") * (19 * (1 << 20) // (len(junk_line) + 1)),
        "single-line": "x" * (19 << 20),
        "junk-after-a-valid-line": "video_0,0_0.jpg,0.5\n" + (junk_line + "\n") * (19 * (1 << 20) // len(junk_line)),
    }[case].encode()
    input_dir, output_dir = layout(tmp_path, {"groundtruth.csv": reference}, {"run.csv": run_bytes})
    peak, result = peak_rss_mib("fusion-int", input_dir, output_dir)
    assert result.returncode == 1, result.stderr
    assert "run.csv line" in result.stderr or "more than 8 times" in result.stderr
    reference_mib = len(reference) / (1 << 20)
    assert peak < 150 + 3 * reference_mib, f"peak memory {peak:.0f} MiB"


@pytest.mark.slow
def test_a_valid_run_is_scored_within_a_few_times_its_size(tmp_path: Path):
    reference = large_int_reference()
    run_text = "".join(f"video_{v},{v}_{k}.jpg,{(v * 31 + k * 17) % 101 / 101}\n" for v in range(2000)
                       for k in range(40))
    input_dir, output_dir = layout(tmp_path, {"groundtruth.csv": reference}, {"run.csv": run_text})
    peak, result = peak_rss_mib("fusion-int", input_dir, output_dir)
    assert result.returncode == 0, result.stderr
    sizes_mib = (len(reference) + len(run_text)) / (1 << 20)
    assert peak < 150 + 10 * sizes_mib, f"peak memory {peak:.0f} MiB for {sizes_mib:.1f} MiB of input"


# --- reader messages (issue 12) ----------------------------------------------------------------

@pytest.mark.parametrize("run_text, fragments", [
    ("video_a\t1_0-3.jpg\t0.9\n", ["run.csv line 1: found 1 fields", "separated by TAB, not ','"]),
    ("video_a;1_0-3.jpg;0.9\n", ["found 1 fields", "separated by ';', not ','"]),
    ("\n".join(f"{line.split(',')[1]},{line.split(',')[0]},{line.split(',')[2]}" for line in INT_RUN) + "\n",
     ["11 video(s) not in this split", "the columns look swapped: '1_0-3.jpg' is a keyframe id, not a video id"]),
    ("video_id,image_id,score,rank\n" + "\n".join(f"{line},1" for line in INT_RUN) + "\n",
     ["run.csv line 1: the header must be video_id,image_id,score", "unknown column 'rank'",
      "optionally decision, in any order"]),
    ("video_id,image_id,value\n" + "\n".join(INT_RUN) + "\n", ["unknown column 'value'"]),
], ids=["tabs", "semicolons", "swapped-columns", "score-and-rank", "unknown-score-column"])
def test_int_reader_messages(tmp_path: Path, run_text: str, fragments: list[str]):
    input_dir, output_dir = int_layout(tmp_path, run_text)
    assert_refused(run("fusion-int", input_dir, output_dir), output_dir, *fragments)


def _reordered(header: list[str], order: list[int], decision: bool = False) -> str:
    lines = [",".join(header[i] for i in order)]
    for line in INT_RUN:
        video, image, score = line.rsplit(",", 2) if line.count(",") == 2 else line.split(",")
        fields = [video, image, score, "1"] if decision else [video, image, score]
        lines.append(",".join(f'"{fields[i]}"' if i == 2 else fields[i] for i in order))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("run_text", [
    _reordered(["video_id", "image_id", "score"], [1, 0, 2]),
    _reordered(["video_id", "image_id", "score", "decision"], [2, 0, 3, 1], decision=True),
    "\n".join(f'"{a}","{b}","{c}"' for a, b, c in (line.split(",") for line in INT_RUN[:-1])) + f'\n{SECRET},"0.2"\n',
], ids=["header-image-first", "header-score-first-with-decision", "quoted-fields"])
def test_int_reader_follows_the_header_and_reads_quotes(tmp_path: Path, run_text: str):
    expected_dir, expected_out = int_layout(tmp_path / "expected")
    assert run("fusion-int", expected_dir, expected_out).returncode == 0
    input_dir, output_dir = int_layout(tmp_path / "actual", run_text)
    result = run("fusion-int", input_dir, output_dir)
    assert result.returncode == 0, result.stderr
    assert (output_dir / "scores.json").read_bytes() == (expected_out / "scores.json").read_bytes()


@pytest.mark.parametrize("run_text, expected", [
    ("score,video_id\n" + "".join(f"{0.1 * i},video_{i}\n" for i in range(1, 8)), None),
    ("".join(f'"video_{i}","{0.1 * i}"\n' for i in range(1, 8)), None),
    ("0.1,video_1\n", "'video_1' in the score column is a video id: the columns look swapped"),
    ("video_1;0.1\n", "separated by ';', not ','"),
], ids=["header-score-first", "quoted", "swapped", "semicolons"])
def test_mem_reader_follows_the_header_and_names_problems(tmp_path: Path, run_text: str, expected: str | None):
    input_dir, output_dir = layout(tmp_path, {"groundtruth.csv": MEM_GROUNDTRUTH}, {"run.csv": run_text})
    result = run("fusion-mem", input_dir, output_dir)
    if expected is None:
        assert result.returncode == 0, result.stderr
        assert json.loads((output_dir / "scores.json").read_text())["spearman"] == pytest.approx(1.0)
    else:
        assert_refused(result, output_dir, expected)


def test_div_reader_names_semicolons(tmp_path: Path):
    input_dir, output_dir = layout(tmp_path, {"rGT.csv": DIV_RGT, "dGT.csv": DIV_DGT}, {"run.txt": "1;0;p1_0;0;1;r\n"})
    assert_refused(run("fusion-div", input_dir, output_dir), output_dir,
                   "semicolons do not separate fields in a TREC run")


def test_cap_reader_reads_quoted_fields(tmp_path: Path):
    ref = {"groundtruth.csv": CAP_GROUNDTRUTH, "secondary_concepts.txt": "C1\nC3\n"}
    input_dir, output_dir = layout(tmp_path, ref, {"run.csv": '"img1","C1;C2"\nimg2|C3\n"img3"\nimg4|"C4"\n'})
    result = run("fusion-cap", input_dir, output_dir)
    assert result.returncode == 0, result.stderr
    assert json.loads((output_dir / "scores.json").read_text())["f1"] == pytest.approx(1.0)
