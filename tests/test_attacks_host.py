"""Attacks on the host side (issue 9, sections 2, 3, 6 and 7): build, check and run.

Each case asserts the one-line message, the exit code, that nothing outside the run's
own output changed, and that no hidden value was printed.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import shutil
import struct
import zipfile
from pathlib import Path

import pytest
import yaml

from bundlekit import BUNDLES_DIR, build, check, cli, run, safe_yaml
from bundlekit.run import scores, session
from bundlekit.check import check_bundle
from bundlekit.platform_rules import parse_utc_date
from bundlekit.unpack import UnsafeArchiveError, safe_extract
from test_check import make_bundle, minimal_document, write_zip, zip_bundle
from test_runner import FIXTURE_BUNDLE, RESULT_FILES, code_files

TEST_ROWS = "".join(f"item_{i},{i % 7}\n" for i in range(40))  # the hidden answers of the test split


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (links as their target text), to prove nothing changed."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            found[path.relative_to(folder).as_posix()] = os.readlink(path).encode()
        elif path.is_file():
            found[path.relative_to(folder).as_posix()] = path.read_bytes()
    return found


def rules(problems: list[check.Problem], severity: str = "error") -> list[tuple[str, str]]:
    return [(p.rule, p.path) for p in problems if p.severity == severity]


def bundle_with_answers(root: Path) -> Path:
    """The minimal bundle whose test reference holds TEST_ROWS."""
    make_bundle(root)
    (root / "test_reference" / "labels.csv").write_text("id,y\n" + TEST_ROWS)
    return root


# --------------------------------------------------------------------------- reference rows by content

def _crlf_bom(text: str) -> bytes:
    return b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()


def _zipped(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("rows.csv", _crlf_bom(text))
    return buffer.getvalue()


COPIES = {
    "gzip": ("notes.csv.gz", lambda text: gzip.compress(_crlf_bom(text), mtime=0)),
    "bz2": ("notes.bz2", lambda text: bz2.compress(text.encode())),
    "xz": ("notes.xz", lambda text: lzma.compress(text.encode())),
    "zip": ("notes.zip", _zipped),
    "crlf-bom": ("notes.csv", _crlf_bom),
    "utf16-tabs": ("notes.tsv", lambda text: text.replace(",", "\t").encode("utf-16")),
    "shuffled-part": ("notes.txt", lambda text: "".join(reversed(text.splitlines(keepends=True)[:30])).encode()),
}


@pytest.mark.parametrize("form", sorted(COPIES))
def test_check_finds_a_transformed_copy_of_the_test_answers(tmp_path: Path, form: str, capsys) -> None:
    root = bundle_with_answers(tmp_path / "bundle")
    name, encode = COPIES[form]
    (root / "public_data" / name).write_bytes(encode("id,y\n" + TEST_ROWS))
    before = snapshot(root)
    problems = check_bundle(root)
    assert rules(problems) == [("leak.reference", "tasks[1].reference_data")]
    message = problems[0].message
    assert "rows of labels.csv of 'test_reference' are in phases[0].public_data" in message
    assert "item_3" not in message and "\n" not in message
    assert snapshot(root) == before
    assert check.run_command(check_argv(root)) == 1
    assert "item_3" not in capsys.readouterr().out


def check_argv(root: Path):
    import argparse

    return argparse.Namespace(bundle=root, json=False, strict=False, accept=[])


def test_inducer_like_rows_are_no_leak(tmp_path: Path) -> None:
    root = bundle_with_answers(tmp_path / "bundle")
    wrong = "".join(f"item_{i},{(i + 1) % 7}\n" for i in range(40))  # the same ids, other labels
    (root / "public_data" / "inducer.csv").write_text("id,y\n" + wrong)
    assert rules(check_bundle(root)) == []


@pytest.fixture(scope="module")
def mem_data(tmp_path_factory) -> Path:
    """fusion-mem's stand-in data, with a gzipped CRLF copy of the test answers in the test input data."""
    hooks = build.load_module(BUNDLES_DIR / "fusion-mem" / "task.py", build.module_name("fusion-mem", "task"))
    data = tmp_path_factory.mktemp("mem-data")
    hooks.generate_data(data, edition=hooks.DEFAULT_EDITION, seed=2023, progress=lambda message: None)
    truth = (data / "test" / "reference_data" / "groundtruth.csv").read_text()
    (data / "test" / "input_data" / "groundtruth.csv.gz").write_bytes(gzip.compress(_crlf_bom(truth), mtime=0))
    (data / "dev" / "input_data" / "notes.txt").write_text("organiser's notes\n")
    return data


@pytest.mark.slow
def test_build_publishes_only_the_declared_input_files(mem_data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "dist"
    code = cli.main(["build", "fusion-mem", "--data", str(mem_data), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert ("[fusion-mem] not published (not an input file of the task: inducers.csv): dev/input_data/notes.txt, "
            "test/input_data/groundtruth.csv.gz") in err
    with zipfile.ZipFile(out / "fusion-mem" / "public_data.zip") as archive:
        assert sorted(archive.namelist()) == ["dev/groundtruth.csv", "dev/inducers.csv", "test/inducers.csv"]
    assert [p for p in check_bundle(out / "fusion-mem.zip") if p.severity == "error"] == []


@pytest.mark.slow
def test_build_refuses_a_declared_file_that_holds_the_answers(mem_data: Path, tmp_path: Path, capsys) -> None:
    bundles = tmp_path / "bundles"
    shutil.copytree(BUNDLES_DIR / "fusion-mem", bundles / "fusion-mem")
    with open(bundles / "fusion-mem" / "task.py", "a", encoding="utf-8") as task:
        # a careless organiser's declaration
        task.write('\nimport dataclasses\nTASK = dataclasses.replace(TASK, input_files=("inducers.csv", "*.gz"))\n')
    out = tmp_path / "dist"
    code = cli.main(["build", "fusion-mem", "--data", str(mem_data), "--out", str(out), "--bundles-dir", str(bundles)])
    err = capsys.readouterr().err
    assert code == 1
    assert "ERROR  [leak.reference] tasks[1].reference_data: " in err
    assert "groundtruth.csv of 'test_reference_data.zip' are in " in err and "(gzip-compressed)" in err
    assert err.strip().splitlines()[-1] == ("bundlekit build: [fusion-mem] the checker found errors in fusion-mem.zip "
                                            "(listed above); correct the task's sources, the bundle was not written")
    assert not out.exists() or not any(out.iterdir())


# --------------------------------------------------------------------------- bundlekit run never touches the host

@pytest.fixture
def fixture_bundle(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE_BUNDLE, tmp_path / "bundle"))


def write_submission(path: Path, files: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in files.items():
            archive.writestr(member, content)
    return path


@pytest.mark.parametrize("file_name, folder", [
    ("...zip", "submission"), ("..zip", "submission"), ("a b.zip", "a_b"), (".hidden.zip", "hidden"),
    ("x" * 250 + ".zip", "x" * session.RUN_NAME_MAX_CHARS),
])
def test_run_folder_names_stay_inside_the_output(file_name: str, folder: str) -> None:
    assert run.run_folder_name(Path("/subs") / file_name) == folder


def test_a_batch_with_a_dot_dot_stem_writes_only_inside_the_output(fixture_bundle: Path, tmp_path: Path,
                                                                    capsys) -> None:
    batch = tmp_path / "batch"
    write_submission(batch / "...zip", RESULT_FILES)
    write_submission(batch / "good.zip", RESULT_FILES)
    (tmp_path / "beside.txt").write_text("an organiser's file\n")
    out = tmp_path / "out"
    outside = {name: data for name, data in snapshot(tmp_path).items() if not name.startswith("out/")}
    code = cli.main(["run", str(fixture_bundle), str(batch), "--no-docker", "--phase", "Development",
                     "--output", str(out)])
    assert code == 0, capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["good", "submission"]
    assert {name: data for name, data in snapshot(tmp_path).items() if not name.startswith("out/")} == outside


@pytest.mark.parametrize("leftover", ["result.json", "work", "prediction.stdout.log"])
def test_a_used_output_folder_is_refused_and_left_as_it_is(fixture_bundle: Path, tmp_path: Path, leftover: str,
                                                            capsys) -> None:
    out = tmp_path / "out"
    if leftover == "work":
        (out / "work").mkdir(parents=True)
        (out / "work" / "notes.txt").write_text("mine\n")
    else:
        out.mkdir()
        (out / leftover).write_text("mine\n")
    (out / "other.txt").write_text("also mine\n")
    before = snapshot(out)
    submission = write_submission(tmp_path / "subs" / "result.zip", RESULT_FILES)
    code = cli.main(["run", str(fixture_bundle), str(submission), "--no-docker", "--phase", "Development",
                     "--output", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1] == (f"bundlekit run: {out} already holds {leftover}{'/' * (leftover == 'work')} (an earlier run?): "
                       "give --output a fresh folder, or add --force to replace them")
    assert snapshot(out) == before
    assert cli.main(["run", str(fixture_bundle), str(submission), "--no-docker", "--phase", "Development",
                     "--output", str(out), "--force"]) == 0
    assert (out / "other.txt").read_text() == "also mine\n"


@pytest.mark.parametrize("member, words", [
    ("a" * 256 + ".txt", "has a file or folder name longer than 255 bytes"),
    ("/".join(["d" * 200] * 21) + "/x.txt", "has a path too long to extract"),
])
def test_an_over_long_member_name_is_the_participants_problem(fixture_bundle: Path, tmp_path: Path, member: str,
                                                              words: str) -> None:
    submission = write_submission(tmp_path / "subs" / "long.zip", {"answers.txt": "2\n", member: "x"})
    result = run.run_submission(fixture_bundle, submission, "Development", use_docker=False,
                                   output_dir=tmp_path / "run")
    assert result.status == "failed"
    assert result.reason.startswith("long.zip: member '") and words in result.reason
    assert str(tmp_path) not in result.reason and "\n" not in result.reason
    assert not (tmp_path / "run" / "submission").exists() or not any((tmp_path / "run" / "submission").iterdir())


def test_safe_extract_checks_the_name_length_before_writing(tmp_path: Path) -> None:
    archive = write_submission(tmp_path / "long.zip", {"first.txt": "1", "b" * 300: "2"})
    with pytest.raises(UnsafeArchiveError, match="longer than 255 bytes"):
        safe_extract(archive, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


KILL_PARENT = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"


def test_a_submission_that_kills_its_parent_is_not_out_of_memory(fixture_bundle: Path, tmp_path: Path) -> None:
    submission = write_submission(tmp_path / "subs" / "killer.zip", code_files(KILL_PARENT))
    result = run.run_submission(fixture_bundle, submission, "Development", use_docker=False,
                                   output_dir=tmp_path / "run")
    assert result.status == "failed"
    assert result.reason.startswith("the prediction step was killed by signal 9 (SIGKILL), not by a limit of bundlekit")
    assert "memory" not in result.reason.split("(no time")[0]


@pytest.mark.docker
def test_docker_a_submission_that_kills_its_parent_is_not_out_of_memory(fixture_bundle: Path, tmp_path: Path,
                                                                         kit_image: str) -> None:
    submission = write_submission(tmp_path / "subs" / "killer.zip", code_files(KILL_PARENT))
    result = run.run_submission(fixture_bundle, submission, "Development", use_docker=True, image=kit_image,
                                   output_dir=tmp_path / "run")
    assert result.status == "failed"
    assert result.reason.startswith("the prediction step was killed by signal 9 (SIGKILL), not by a limit of bundlekit")


# --------------------------------------------------------------------------- check and run survive any bundle

BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(9))


def yaml_bundle(root: Path, text: str) -> Path:
    make_bundle(root)
    (root / "competition.yaml").write_text(text)
    return root


@pytest.mark.parametrize("text, words", [
    (BILLION_LAUGHS, "line 6: aliases expand the document beyond 1,000,000 nodes"),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", "line 1: nesting deeper than 100 levels"),
    ("a: " + "{b: " * 150 + "1" + "}" * 150 + "\n", "line 1: nesting deeper than 100 levels"),
    ("".join(" " * depth + "-\n" for depth in range(150)), "line 101: nesting deeper than 100 levels"),
])
def test_check_and_run_bound_yaml(tmp_path: Path, text: str, words: str, capsys) -> None:
    root = yaml_bundle(tmp_path / "bundle", text)
    problems = check_bundle(root)
    assert rules(problems) == [("yaml.too-complex", "competition.yaml")]
    assert problems[0].message.startswith(words)
    submission = write_submission(tmp_path / "subs" / "r.zip", RESULT_FILES)
    assert cli.main(["run", str(root), str(submission), "--no-docker", "--output", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"bundlekit run: competition.yaml {words}") and "Traceback" not in "".join(err)


def test_yaml_measure_allows_ordinary_aliases() -> None:
    safe_yaml.measure("base: &base {a: 1, b: [1, 2]}\nuse: [*base, *base]\n")


def test_a_time_limit_in_words(fixture_bundle: Path, tmp_path: Path, capsys) -> None:
    root = make_bundle(tmp_path / "bundle")
    document = minimal_document()
    document["phases"][0]["execution_time_limit"] = "ten"
    (root / "competition.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    assert ("yaml.type", "phases[0].execution_time_limit") in rules(check_bundle(root))
    text = (fixture_bundle / "competition.yaml").read_text().replace("execution_time_limit: 60",
                                                                     "execution_time_limit: ten")
    (fixture_bundle / "competition.yaml").write_text(text)
    submission = write_submission(tmp_path / "subs" / "r.zip", RESULT_FILES)
    assert cli.main(["run", str(fixture_bundle), str(submission), "--no-docker", "--phase", "Development",
                     "--output", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "bundlekit run: competition.yaml: phases[0].execution_time_limit is 'ten', not a number of seconds: write "
        "e.g. execution_time_limit: 600")


def overlapping_zip(path: Path, copies: int, size: int, stored: bool = False) -> Path:
    """A zip whose central directory lists ``copies`` members over one stream of ``size`` bytes.

    Stored random bytes (no ratio to notice) or deflated zeros.
    """
    import zlib

    if stored:
        content = os.urandom(size)
        data, method = content, 0
    else:
        content = b"\0" * size
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        data, method = compressor.compress(content) + compressor.flush(), 8
    crc = zlib.crc32(content)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(data), size, 5, 0) + b"a.bin" + data
    central = b""
    for number in range(copies):
        name = f"f{number:05d}.bin".encode()
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(data), size,
                               len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, copies, copies, len(central), len(local), 0)
    path.write_bytes(local + central + end)
    return path


def test_an_overlapping_zip_bomb_is_reported_without_inflating(tmp_path: Path) -> None:
    root = make_bundle(tmp_path / "bundle")
    shutil.rmtree(root / "test_input")
    overlapping_zip(root / "test_input.zip", copies=20, size=1024**2, stored=True)
    document = minimal_document()
    document["tasks"][1]["input_data"] = "test_input.zip"
    (root / "competition.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    problems = check_bundle(root)
    assert rules(problems) == [("archive.unsafe", "tasks[1].input_data")]
    assert "overlaps the data of another member (a zip bomb by overlap)" in problems[0].message
    with pytest.raises(UnsafeArchiveError, match="overlaps"):
        safe_extract(root / "test_input.zip", tmp_path / "dest")


def test_a_200_gib_overlap_bomb_is_refused_from_its_directory(tmp_path: Path) -> None:
    bomb = overlapping_zip(tmp_path / "bomb.zip", copies=2000, size=100 * 1024**2)
    with pytest.raises(UnsafeArchiveError, match="a zip bomb"):
        safe_extract(bomb, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_a_page_that_links_to_a_host_file(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret.txt"
    secret.write_text("organiser's password\n")
    root = make_bundle(tmp_path / "bundle")
    (root / "pages" / "overview.md").unlink()
    (root / "pages" / "overview.md").symlink_to(secret)
    problems = check_bundle(root)
    assert ("path.symlink", "<bundle>") in rules(problems)
    assert all("password" not in str(p) for p in problems)


def test_a_bundle_zip_with_a_dot_dot_member_fails_check_as_run_refuses_it(tmp_path: Path) -> None:
    root = make_bundle(tmp_path / "bundle")
    bundle = zip_bundle(root, tmp_path / "bundle.zip")
    with zipfile.ZipFile(bundle, "a") as archive:
        archive.writestr("../../x", "escaped\n")
    problems = check_bundle(bundle)
    assert rules(problems) == [("archive.unsafe", "<bundle>")]
    assert problems[0].message.startswith("bundle.zip: member '../../x' has a '..' component")
    with pytest.raises(run.BundleError, match=r"member '\.\./\.\./x' has a '\.\.' component"):
        run.Bundle(bundle)
    assert not (tmp_path.parent / "x").exists()


# --------------------------------------------------------------------------- refused at upload

@pytest.mark.parametrize("email", ["imageclef fusion team", "a@b", "@example.org", "x@@example.org"])
def test_check_refuses_a_contact_email_that_is_no_address(tmp_path: Path, email: str) -> None:
    document = minimal_document()
    document["contact_email"] = email
    problems = check_bundle(make_bundle(tmp_path / "bundle", document))
    assert rules(problems) == [("yaml.email", "contact_email")]


def test_build_refuses_a_contact_email_that_is_no_address(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["build", "fusion-int", "--contact-email", "imageclef fusion team"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "argument --contact-email: 'imageclef fusion team' is not an e-mail address (the platform refuses the "
        "upload: \"Enter a valid email address\")")


def test_check_refuses_a_bundle_zip_name_over_64_characters(tmp_path: Path) -> None:
    root = make_bundle(tmp_path / "bundle")
    name = "c" * 61 + ".zip"  # 65 characters
    problems = check_bundle(zip_bundle(root, tmp_path / name))
    assert rules(problems) == [("bundle.name-too-long", "<bundle>")]
    assert problems[0].message == (f"the file name '{name}' is 65 characters long; the platform refuses uploads "
                                   "whose name is longer than 64")
    assert rules(check_bundle(zip_bundle(root, tmp_path / ("c" * 60 + ".zip")))) == []


@pytest.mark.parametrize("text", ["# Overview\n\nThe best: {{ baseline_table }}\n", "{% if x %}hidden{% endif %}\n"])
def test_a_page_with_a_leftover_placeholder_is_an_error(tmp_path: Path, text: str) -> None:
    root = make_bundle(tmp_path / "bundle")
    (root / "pages" / "overview.md").write_text(text)
    problems = check_bundle(root)
    assert rules(problems) == [("content.placeholder", "pages[0].file")]
    assert problems[0].message.startswith("pages/overview.md line ")


# --------------------------------------------------------------------------- one date reader

@pytest.mark.parametrize("text, expected", [
    ("2027-01-15", "2027-01-15 00:00:00"), ("2027-01-15 00:00:00", "2027-01-15 00:00:00"),
    ("2027-01-15T08:30", "2027-01-15 08:30:00"), ("2027-01-15T08:30Z", "2027-01-15 08:30:00"),
    ("2027-01-15 08:30+02:00", "2027-01-15 06:30:00"), ("2027-01-15T01:00:00-0130", "2027-01-15 02:30:00"),
])
def test_iso_dates_are_read_in_utc(text: str, expected: str) -> None:
    assert str(parse_utc_date(text)[0]) == expected
    assert str(build.parse_date(text)) == expected


@pytest.mark.parametrize("text", ["1-1-2026", "01/02/2026", "2026-13-01", "15.01.2027", "2027-1-5", "tomorrow"])
def test_ambiguous_dates_are_refused_by_build_and_check(tmp_path: Path, text: str, capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["build", "fusion-int", "--dev-start", text])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("bundlekit build: error: argument --dev-start: ") and "ISO 8601" in err
    document = minimal_document()
    document["phases"][0]["start"] = text
    assert ("date.invalid", "phases[0].start") in rules(check_bundle(make_bundle(tmp_path / "bundle", document)))


def test_the_builds_help_default_parses(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["build", "--help"])
    shown = capsys.readouterr().out
    default = shown.split("--dev-start DEV_START\n")[1].split("(default ")[1].split(")")[0]
    assert build.parse_date(default) == build.BuildOptions().dev_start


# --------------------------------------------------------------------------- user-facing text names what ships

@pytest.mark.parametrize("command", ["check", "run", "build", "new", "image", "demo"])
def test_help_names_no_development_only_file(command: str, capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    shown = capsys.readouterr().out
    assert "shared/" not in shown and "spec/" not in shown


@pytest.mark.parametrize("text, words", [
    ("Best: {{ best_test_inducer }}\n", r"overview\.md: unknown placeholder\(s\) best_test_inducer; known: edition"),
    ("{% if test %}secret{% endif %}\n", r"overview\.md: '\{% if test %\}' is left after rendering"),
])
def test_the_build_never_ships_a_placeholder(tmp_path: Path, text: str, words: str) -> None:
    source = tmp_path / "task"
    (source / "pages").mkdir(parents=True)
    (source / "pages" / "overview.md").write_text(text)
    (source / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path / "staged").mkdir()
    with pytest.raises(build.BuildError, match=words):
        build._write_bundle(source, tmp_path / "staged", tmp_path / "out" / "task", {}, {"edition": "2023"})


def test_a_data_folder_that_links_to_a_host_folder_is_not_read(tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "labels.csv").write_text("id,y\n" + TEST_ROWS)
    root = make_bundle(tmp_path / "bundle")
    shutil.rmtree(root / "public_data")
    (root / "public_data").symlink_to(host, target_is_directory=True)
    problems = check_bundle(root)
    assert rules(problems) == [("path.symlink", "<bundle>")]
    assert problems[0].message.startswith("'public_data' is a symbolic link")


@pytest.mark.parametrize("name, content, words", [
    ("scores.json", "[" * 100_000 + "]" * 100_000, "scores.json is not valid JSON (nested too deeply)"),
    ("scores.txt", BILLION_LAUGHS, "scores.txt is not valid YAML"),
])
def test_a_scores_file_that_would_exhaust_the_runner(tmp_path: Path, name: str, content: str, words: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(scores.StepFailure, match=words.replace("(", r"\(").replace(")", r"\)")):
        scores.read_scores(tmp_path)


def test_a_submission_name_the_platform_refuses_is_warned_about(tmp_path: Path) -> None:
    from bundlekit.unpack import inspect_submission

    name = "s" * 61 + ".zip"
    info = inspect_submission(write_submission(tmp_path / name, RESULT_FILES))
    assert info.warnings == [f"the file name '{name}' is 65 characters long; the platform refuses uploads whose name "
                             "is longer than 64: rename the zip before submitting it"]
