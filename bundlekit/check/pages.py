"""Rules on what participants read: pages, terms, the logo, the starting kit's READMEs."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import PurePosixPath
from typing import Any

from bundlekit.check.base import CheckerBase, items, normalise, strings
from bundlekit.check.bundle_rules import YAML_PATH
from bundlekit.check.problems import join_path

#: What a freshly scaffolded task writes wherever the organiser still has to write the text.
TODO_MARKER = "TODO(organiser)"
#: A template placeholder left unrendered in a page (Jinja-like).
TEMPLATE_PLACEHOLDER = re.compile(r"\{\{[^{}\n]{0,200}\}\}|\{%[^{}\n]{0,200}%\}")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_damage(data: bytes) -> str | None:
    """What makes a PNG undecodable (a chunk cut short, a wrong CRC, no IEND), or None when its chunks hold."""
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        name = kind.decode("latin-1")
        end = position + 12 + length
        if position == len(PNG_SIGNATURE) and kind != b"IHDR":
            return f"its first chunk is {name!r}, not IHDR"
        if end > len(data):
            return f"chunk {name} is cut short"
        if zlib.crc32(data[position + 4:end - 4]) != struct.unpack(">I", data[end - 4:end])[0]:
            return f"chunk {name} has a wrong CRC"
        if kind == b"IEND":
            return None
        position = end
    return "it ends before its IEND chunk"


_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
)


def _image_kind(head: bytes) -> str | None:
    """The format of an image from its first bytes: PNG, JPEG, GIF, WEBP, SVG, BMP, or None."""
    for signature, kind in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:2] == b"BM":
        return "BMP"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<?xml", b"<svg", b"<!doctype svg")) and b"<svg" in head.lower():
        return "SVG"
    return None


class PageRules(CheckerBase):
    """pages.*, content.*, file.*, image.*."""

    def check_documents(self) -> None:
        self.check_yaml_placeholders()
        self.check_text_file("terms", self.doc.get("terms"))
        for i, page in items(self.doc.get("pages")):
            self.check_text_file(join_path(join_path("pages", i), "file"), page.get("file"))
        if self.doc.get("pages", "absent") == []:
            self.warning("pages.none", "pages", "no pages: participants see no overview, data or evaluation "
                         "description", "list pages with a title and a markdown file")
        image = self.doc.get("image")
        data = self.read_file("image", image)
        if data is None:
            return
        kind = _image_kind(data[:512])
        accepted = "the platform's image field accepts PNG, JPEG and GIF (WEBP in recent versions only)"
        damage = _png_damage(data) if kind == "PNG" else None
        if kind is None:
            self.error("image.not-an-image", "image", f"'{image}' is not an image (no PNG, JPEG, GIF or WEBP "
                       "signature); the platform decodes the logo and rejects the bundle", "use a PNG or JPEG logo")
        elif kind in ("SVG", "BMP"):
            self.error("image.format", "image", f"'{image}' is {kind}; {accepted}", "convert the logo to PNG")
        elif kind == "WEBP":
            self.warning("image.webp", "image", f"'{image}' is WEBP; {accepted}", "convert the logo to PNG")
        elif damage is not None:
            self.error("image.damaged", "image", f"'{image}' is a damaged PNG ({damage}): the platform decodes the "
                       "image and would reject it", "export the logo again as PNG")

    def check_yaml_placeholders(self) -> None:
        """Titles, descriptions and every other text of the yaml that still hold the scaffold's marker."""
        places = [place for place, value in strings(self.doc) if TODO_MARKER in value]
        if places:
            count = sum(value.count(TODO_MARKER) for _, value in strings(self.doc))
            self.warning("content.todo", places[0], f"{TODO_MARKER} placeholder left in {YAML_PATH} {places[0]} "
                         f"({count} in the file)", "write the text before uploading")

    def check_placeholders(self, path: str, shown: str, text: str) -> None:
        """One warning per file that still holds the scaffold's marker, with its first line and count."""
        if shown in self._scanned or TODO_MARKER not in text:
            return
        self._scanned.add(shown)
        line = next(n for n, content in enumerate(text.splitlines(), start=1) if TODO_MARKER in content)
        self.warning("content.todo", path, f"{TODO_MARKER} placeholder left in {shown} line {line} "
                     f"({text.count(TODO_MARKER)} in the file)", "write the text before uploading")

    def read_file(self, path: str, value: Any) -> bytes | None:
        """The content of a single file named by the yaml, or None with the problem."""
        if not isinstance(value, str):
            return None
        relative = self.locate(path, value)
        if relative is None:
            return None
        if not self.root.is_file(relative):
            self.error("file.is-folder", path, f"'{value}' is a folder; a file is expected", "point to a file")
            return None
        content = self.root.read(relative)
        if not content:
            self.error("file.empty", path, f"'{value}' is empty; the platform rejects empty files", "give it content")
            return None
        return content

    def check_text_file(self, path: str, value: Any) -> None:
        content = self.read_file(path, value)
        if content is None:
            return
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            self.error("file.encoding", path, f"'{value}' is not UTF-8 text; the platform reads it as text",
                       "save it as UTF-8 (markdown or HTML)")
            return
        self.check_placeholders(path, normalise(value) or value, text)
        self.check_template_leftovers(path, normalise(value) or value, text)

    def check_template_leftovers(self, path: str, shown: str, text: str) -> None:
        """A page that still holds a ``{{ placeholder }}``: the platform shows it as is."""
        found = TEMPLATE_PLACEHOLDER.search(text)
        if found is None:
            return
        line = text.count("\n", 0, found.start()) + 1
        count = len(TEMPLATE_PLACEHOLDER.findall(text))
        self.error("content.placeholder", path, f"{shown} line {line} holds the unrendered placeholder "
                   f"'{found.group()[:60]}' ({count} in the file); the platform shows it as is",
                   "render the page (the kit's build does) or write the text in its place")

    def check_starting_kit(self, path: str, value: Any) -> None:
        """The kit's READMEs must not hold the scaffold's placeholders."""
        kit = self.archive(path, value)
        if kit is None or not self.first_look(kit, "starting kit"):
            return
        for name in kit.tree.names():
            if PurePosixPath(name).name.lower().startswith("readme"):
                text = kit.tree.read(name).decode("utf-8", errors="replace")
                self.check_placeholders(path, f"{kit.relative}/{name}", text)
