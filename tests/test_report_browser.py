"""The HTML reports open in headless Chromium with no console error and every image rendered.

Chromium (Debian package ``chromium``, installed by .ci/run) loads the page twice: once
for a screenshot (with its console logged to stderr), once as a copy with a probe script
appended that records, after the load event, every image's natural size and any error;
``--dump-dom`` prints the resulting DOM. The report itself has no script.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from bundlekit.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from test_report import write_results_campaign  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")

PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message || e.type)); }, true);
window.addEventListener('load', function () {
  var images = Array.prototype.map.call(document.images, function (img) {
    return {alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight};
  });
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({images: images, errors: window.__errors});
  document.body.appendChild(out);
});
</script>"""
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=180, check=False)


def probe(page: Path, tmp_path: Path) -> dict:
    """Load a copy of ``page`` with the probe script; its findings after the load event."""
    copy = tmp_path / f"probe-{page.name}"
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    result = chromium(copy, tmp_path / "profile-probe", "--virtual-time-budget=10000", "--dump-dom")
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.S)
    assert found, f"the probe did not run: {result.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def console_messages(stderr: str) -> list[str]:
    """Lines Chromium logs for console messages and uncaught errors of the page."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def png_rows(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of rows that are not one flat colour, of an 8-bit non-interlaced PNG.

    A row of one colour filters (Sub or Up, over a flat row above) to zeros after its first
    pixel; a row of text or plot does not.
    """
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0
    channels = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(b"".join(chunks)), dtype=np.uint8).reshape(height, width * channels + 1)
    busy = np.count_nonzero(raw[:, 1 + channels:].any(axis=1))
    return width, height, int(busy)


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 0.6, 20)
    per_item = {"best-inducer": base.tolist(), "alpha-a": np.clip(base + 0.2, 0, 1).tolist(),
                "beta-b": np.clip(base + rng.normal(0, 0.1, 20), 0, 1).tolist()}
    write_results_campaign(root / "campaign", per_item, {name: "Test" for name in per_item})
    assert main(["report", str(root / "campaign"), "--out", str(root / "out"), "--resamples", "100",
                 "--permutations", "200"]) == 0
    return root / "out" / "report.html"


def test_report_renders_every_image_without_console_error(report_html, tmp_path):
    shot = tmp_path / "report.png"
    result = chromium(report_html, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,2400",
                      "--enable-logging=stderr", "--v=0")
    assert shot.is_file(), result.stderr[-2000:]
    assert console_messages(result.stderr) == []
    found = probe(report_html, tmp_path)
    assert found["errors"] == []
    assert len(found["images"]) == 3
    for image in found["images"]:
        assert image["complete"] and image["width"] > 100 and image["height"] > 50, image
    width, height, busy = png_rows(shot)
    assert (width, height) == (1200, 2400)
    assert busy > 600  # text, tables and plots on many rows: not a blank page


def test_the_probe_sees_a_broken_image(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><img alt="broken" src="data:image/svg+xml;base64,bm90IHN2Zw=="></body></html>')
    found = probe(page, tmp_path)
    assert found["images"] == [{"alt": "broken", "complete": True, "width": 0, "height": 0}]


def test_inducers_page_renders_every_image(tmp_path, monkeypatch):
    import per_item_shim

    from bundlekit import BUNDLES_DIR
    from bundlekit.build import load_module, module_name

    per_item_shim.install(monkeypatch)
    load_module(BUNDLES_DIR / "fusion-int" / "task.py", module_name("fusion-int", "task")).generate_data(
        tmp_path / "data", progress=lambda message: None)
    assert main(["inducers", str(tmp_path / "data"), "--task", "fusion-int", "--split", "test",
                 "--out", str(tmp_path / "out")]) == 0
    page = tmp_path / "out" / "inducers.html"
    result = chromium(page, tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert console_messages(result.stderr) == []
    found = probe(page, tmp_path)
    assert found["errors"] == [] and len(found["images"]) == 2
    for image in found["images"]:
        assert image["complete"] and image["width"] > 100 and image["height"] > 50, image
