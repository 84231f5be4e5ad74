"""The kit's image: the `measure` entrypoint (on the host), `bundlekit image` helpers,
ci/docker-setup.sh (with stub commands), and the built image itself (Docker tests)."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bundlekit import DEFAULT_IMAGE, REPO_ROOT, __version__, image
from bundlekit.run import docker_available

sys.path.insert(0, str(REPO_ROOT / "ci"))
import offline_base  # noqa: E402 - CI plumbing, not part of the package

MEASURE = REPO_ROOT / "docker" / "measure.py"
DOCKER_SETUP = REPO_ROOT / "ci" / "docker-setup.sh"
MEASURE_LINE = re.compile(
    r"^\[measure\] exit=(?P<exit>\d+)(?: \((?P<signal>SIG[A-Z]+)\))? "
    r"wall=(?P<wall>\d+\.\d{3})s cpu=(?P<cpu>\d+\.\d{3})s "
    r"\(user (?P<user>\d+\.\d{3}) \+ sys (?P<sys>\d+\.\d{3})\) "
    r"peak_mem=(?P<mem>\d+\.\d)MiB cmd=(?P<cmd>.*)$",
    re.MULTILINE,
)


def run_measure(*command: str, env: dict[str, str] | None = None, timeout: float = 30):
    return subprocess.run(
        [sys.executable, str(MEASURE), *command],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def measure_line(stderr: str) -> re.Match:
    lines = [line for line in stderr.splitlines() if line.startswith("[measure]")]
    assert len(lines) == 1, stderr
    match = MEASURE_LINE.match(lines[0])
    assert match, lines[0]
    return match


# --- measure.py on the host ---------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 1, 3, 255])
def test_measure_passes_the_exit_code_through(code):
    result = run_measure(sys.executable, "-c", f"raise SystemExit({code})")
    assert result.returncode == code
    assert int(measure_line(result.stderr)["exit"]) == code


def test_measure_reports_cpu_and_peak_memory_of_the_command():
    busy = "x = bytearray(150 * 2**20); t = __import__('time').process_time()\n" \
        "while __import__('time').process_time() - t < 0.3: pass"
    result = run_measure(sys.executable, "-c", busy)
    assert result.returncode == 0, result.stderr
    figures = measure_line(result.stderr)
    assert float(figures["mem"]) >= 150
    assert float(figures["cpu"]) >= 0.3
    assert float(figures["wall"]) >= 0.3
    assert abs(float(figures["cpu"]) - float(figures["user"]) - float(figures["sys"])) < 0.0015
    assert figures["cmd"].startswith(f"{sys.executable} -c 'x = bytearray")
    assert "\\n" in figures["cmd"]  # the command's newline is escaped: one line


def test_measure_keeps_the_command_output_apart():
    result = run_measure(sys.executable, "-c", "print('to stdout')")
    assert result.stdout == "to stdout\n"
    assert "[measure]" not in result.stdout


def test_measure_missing_command_exits_127_with_one_clear_line():
    result = run_measure("no-such-program-here", "--flag")
    assert result.returncode == 127
    assert result.stderr.count("\n") == 1
    assert "command not found: 'no-such-program-here'" in result.stderr
    assert "python3" in result.stderr  # says how to fix it


def test_measure_not_executable_exits_126(tmp_path):
    script = tmp_path / "run.sh"
    script.write_text("echo hi\n")
    script.chmod(0o644)
    result = run_measure(str(script))
    assert result.returncode == 126
    assert "call the interpreter explicitly" in result.stderr


def test_measure_signal_death_exits_128_plus_signal():
    result = run_measure(
        sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    )
    assert result.returncode == 128 + signal.SIGKILL
    figures = measure_line(result.stderr)
    assert figures["signal"] == "SIGKILL"


def test_measure_forwards_sigterm_to_the_command():
    process = subprocess.Popen(
        [sys.executable, str(MEASURE), "sleep", "30"], stderr=subprocess.PIPE, text=True
    )
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)  # ends with the signal, not after the 30 s sleep (return code below)
    assert process.returncode == 128 + signal.SIGTERM
    assert measure_line(stderr)["signal"] == "SIGTERM"


def test_measure_json_holds_the_same_figures(tmp_path):
    json_path = tmp_path / "measure.json"
    result = run_measure(
        sys.executable, "-c", "raise SystemExit(4)", env={"MEASURE_JSON": str(json_path)}
    )
    assert result.returncode == 4
    figures = json.loads(json_path.read_text())
    line = measure_line(result.stderr)
    assert figures["exit_code"] == 4
    assert figures["signal"] is None
    assert figures["command"] == [sys.executable, "-c", "raise SystemExit(4)"]
    assert f"{figures['wall_s']:.3f}" == line["wall"]
    assert f"{figures['peak_memory_mib']:.1f}" == line["mem"]
    assert set(figures) == {
        "command", "exit_code", "signal", "wall_s", "cpu_s", "user_s", "sys_s", "peak_memory_mib"
    }


def test_measure_json_failure_keeps_the_exit_code(tmp_path):
    result = run_measure(
        sys.executable, "-c", "raise SystemExit(2)",
        env={"MEASURE_JSON": str(tmp_path / "missing-folder" / "m.json")},
    )
    assert result.returncode == 2
    assert "cannot write MEASURE_JSON" in result.stderr


def test_measure_without_command_prints_versions():
    result = run_measure()
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Python 3.")
    assert re.search(r"^numpy \d", result.stdout, re.MULTILINE)
    measure_line(result.stderr)


def test_measure_double_dash_is_not_part_of_the_command():
    result = run_measure("--", sys.executable, "-c", "raise SystemExit(5)")
    assert result.returncode == 5


# --- bundlekit image, without an engine ------------------------------------------------------


def test_parser_defaults():
    parser = argparse.ArgumentParser()
    image.configure_parser(parser)
    args = parser.parse_args([])
    assert (args.tag, args.base, args.no_cache) == (DEFAULT_IMAGE, None, False)
    assert not hasattr(args, "offline_base")  # CI plumbing (ci/offline_base.py), not the user's command
    assert DEFAULT_IMAGE == f"imageclef/fusion-kit:{__version__}"


def test_default_base_is_pinned_in_the_dockerfile_too():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert f"ARG BASE_IMAGE={image.DEFAULT_BASE_IMAGE}\n" in dockerfile
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-bookworm", image.DEFAULT_BASE_IMAGE)
    assert "\nUSER " not in dockerfile
    assert f"ARG KIT_VERSION={__version__}\n" in dockerfile


def test_lock_pins_every_package_with_hashes():
    lines = (REPO_ROOT / "requirements" / "image.lock").read_text().splitlines()
    pinned = {}
    for number, line in enumerate(lines):
        match = re.match(r"([a-z0-9._-]+)==(\S+) \\$", line)
        if match:
            pinned[match.group(1)] = match.group(2)
            assert "--hash=sha256:" in lines[number + 1], line
    assert not [line for line in lines if re.match(r"[a-z]", line) and "==" not in line]
    for name in ("numpy", "pandas", "scikit-learn", "scipy", "pyyaml", "jsonschema"):
        assert name in pinned, name


def test_the_offline_base_is_ci_plumbing_outside_the_package():
    assert not (REPO_ROOT / "bundlekit" / "offline_base.py").exists()
    assert (REPO_ROOT / "ci" / "offline_base.py").is_file()
    assert image.LOCAL_BASE_IMAGE in image.__doc__  # what --help says it falls back to


@pytest.mark.parametrize(("name", "sources", "mirror"), [
    ("sources.list",
     "# deb http://commented.example/debian bookworm main\n"
     "deb http://security.example/debian-security bookworm-security main\n"
     "deb-src http://src.example/debian bookworm main\n"
     "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main\n",
     "http://mirror.example/debian"),
    ("sources.list.d/debian.sources",
     "Types: deb\nURIs: http://disabled.example/debian\nSuites: bookworm\nEnabled: no\n\n"
     "Types: deb\n# a comment\nURIs: http://deb822.example/debian\n"
     "Suites: bookworm bookworm-updates\nComponents: main\n\n"
     "Types: deb\nURIs: http://security.example/debian-security\n"
     "Suites: bookworm-security\n",
     "http://deb822.example/debian"),
], ids=["one-line-sources", "deb822-sources"])
def test_debian_mirror_from_sources(tmp_path, monkeypatch, name, sources, mirror):
    monkeypatch.delenv("BUNDLEKIT_DEBIAN_MIRROR", raising=False)
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / name).write_text(sources)
    assert offline_base.debian_mirror(tmp_path) == mirror


def test_debian_mirror_default_and_override(tmp_path, monkeypatch):
    monkeypatch.delenv("BUNDLEKIT_DEBIAN_MIRROR", raising=False)
    (tmp_path / "sources.list").write_text("deb http://archive.ubuntu.example/ubuntu jammy main\n")
    assert offline_base.debian_mirror(tmp_path) == offline_base.DEFAULT_DEBIAN_MIRROR
    monkeypatch.setenv("BUNDLEKIT_DEBIAN_MIRROR", "http://override.example/debian/")
    assert offline_base.debian_mirror(tmp_path) == "http://override.example/debian"


def test_trim_rootfs_keeps_copyrights_and_drops_docs(tmp_path):
    rootfs = tmp_path
    docs = rootfs / "usr/share/doc/python3"
    docs.mkdir(parents=True)
    (docs / "copyright").write_text("licence")
    (docs / "changelog.gz").write_text("x")
    (rootfs / "usr/share/doc/python3-venv").symlink_to("python3")
    (rootfs / "usr/share/locale/fr/LC_MESSAGES").mkdir(parents=True)
    (rootfs / "usr/share/locale/locale.alias").write_text("alias")
    (rootfs / "var/cache/apt/archives").mkdir(parents=True)
    (rootfs / "var/cache/apt/archives/python3.deb").write_text("deb")
    (rootfs / "var/lib/apt/lists").mkdir(parents=True)
    (rootfs / "etc/dpkg/dpkg.cfg.d").mkdir(parents=True)
    offline_base._trim_rootfs(rootfs)
    assert sorted(p.name for p in docs.iterdir()) == ["copyright"]
    assert not (rootfs / "usr/share/locale/fr").exists()
    assert (rootfs / "usr/share/locale/locale.alias").exists()
    assert not any((rootfs / "var/cache/apt/archives").iterdir())
    assert "path-exclude /usr/share/doc/*" in (rootfs / "etc/dpkg/dpkg.cfg.d/slim").read_text()


# --- ci/docker-setup.sh, with stub commands --------------------------------------------------


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _run_setup(stubs: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": f"{stubs}:/usr/bin:/bin",
        "DOCKERD_LOG": str(tmp_path / "dockerd.log"),
        "DOCKER_WAIT_S": "10",
    }
    return subprocess.run(
        ["bash", str(DOCKER_SETUP)], capture_output=True, text=True, env=env, timeout=30
    )


def test_docker_setup_does_nothing_when_the_engine_answers(tmp_path):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    _stub(stubs, "docker", "exit 0")
    _stub(stubs, "debootstrap", "exit 0")
    _stub(stubs, "apt-get", f"touch {tmp_path}/apt-called")
    _stub(stubs, "dockerd", f"touch {tmp_path}/dockerd-called")
    result = _run_setup(stubs, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Docker engine answers" in result.stderr
    assert not (tmp_path / "apt-called").exists()
    assert not (tmp_path / "dockerd-called").exists()


def test_docker_setup_starts_dockerd_and_waits_for_it(tmp_path):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    ready = tmp_path / "engine-ready"
    _stub(stubs, "docker", f'test "$1" = info && test -e {ready}')
    _stub(stubs, "debootstrap", "exit 0")
    _stub(stubs, "pgrep", "exit 1")
    _stub(stubs, "dockerd", f"echo dockerd started; sleep 1; touch {ready}")
    result = _run_setup(stubs, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "starting dockerd" in result.stderr
    assert "Docker engine answers after" in result.stderr
    assert "dockerd started" in (tmp_path / "dockerd.log").read_text()


# --- the built image (Docker) ----------------------------------------------------------------


@pytest.fixture(scope="module")
def kit_image():
    if not docker_available():
        pytest.skip("no Docker engine")
    if not image.image_exists(DEFAULT_IMAGE):
        pytest.skip(f"{DEFAULT_IMAGE} not built (bundlekit image)")
    import docker

    return docker.from_env(timeout=120)


def run_in_image(client, command: list[str], **options) -> tuple[int, str, str]:
    """Run `command` as the compute worker would; return exit code, stdout, stderr."""
    container = client.containers.run(
        DEFAULT_IMAGE,
        command,
        detach=True,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        environment={"PYTHONUNBUFFERED": "1"},
        **options,
    )
    try:
        exit_code = container.wait(timeout=120)["StatusCode"]
        stdout = container.logs(stdout=True, stderr=False).decode()
        stderr = container.logs(stdout=False, stderr=True).decode()
    finally:
        container.remove(force=True)
    return exit_code, stdout, stderr


@pytest.mark.docker
def test_image_passes_the_exit_code_through_and_measures(kit_image):
    exit_code, _, stderr = run_in_image(kit_image, ["python3", "-c", "raise SystemExit(3)"])
    assert exit_code == 3
    figures = measure_line(stderr)
    assert figures["exit"] == "3"
    assert figures["cmd"] == "python3 -c 'raise SystemExit(3)'"


@pytest.mark.docker
def test_image_has_the_scientific_stack(kit_image):
    exit_code, stdout, stderr = run_in_image(
        kit_image,
        ["python3", "-c", "import numpy, pandas, sklearn, yaml, jsonschema; "
         "print(numpy.__version__)"],
    )
    assert exit_code == 0, stderr
    assert re.fullmatch(r"\d+\.\d+\.\d+\n", stdout)
    assert kit_image.images.get(DEFAULT_IMAGE).labels[
        "org.opencontainers.image.version"
    ] == __version__


@pytest.mark.docker
def test_image_missing_command_exits_127(kit_image):
    exit_code, _, stderr = run_in_image(kit_image, ["no-such-program"])
    assert exit_code == 127
    assert "command not found" in stderr


@pytest.mark.docker
@pytest.mark.skipif(os.geteuid() != 0, reason="needs a root-owned folder to mount")
def test_image_writes_to_root_owned_mount_without_capabilities(kit_image, tmp_path):
    output = tmp_path / "output"
    output.mkdir(mode=0o755)
    output.chmod(0o755)
    exit_code, stdout, stderr = run_in_image(
        kit_image,
        ["python3", "-c", "import os; open('/app/output/scores.json', 'w').write('{}');"
         " print(os.getuid(), os.getcwd())"],
        volumes={str(output): {"bind": "/app/output", "mode": "rw"}},
    )
    assert exit_code == 0, stderr
    assert stdout == "0 /app/program\n"
    assert (output / "scores.json").read_text() == "{}"
