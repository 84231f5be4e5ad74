"""Rules on answers participants could read: reference files, whole or as rows, in what they are given."""

from __future__ import annotations

import functools
from pathlib import PurePosixPath
from typing import Iterator

from bundlekit.check.base import Archive, CheckerBase, File, items, normalise
from bundlekit.check.problems import join_path
from bundlekit.check.trees import ZIP_ERRORS, Tree, ZipTree, damaged_member, open_zip, unsafe_reason


def _copied_as(original: str, copy: str) -> str:
    """Where a copy sits, for a message: nothing when it has the original's name."""
    if copy == original:
        return ""
    if copy.endswith("/" + original):
        return f", under {copy[:-len(original)]}"
    return f", as {copy}"


class LeakRules(CheckerBase):
    """leak.*."""

    def check_leaks(self, final_tasks: set[int]) -> None:
        """Reference files that participants can read: in input data, public data or a starting kit.

        A reference file is found by its content, in those archives and in the zips they hold
        (one level down); a reference zip is also found whole. Each leaked file is reported
        once, with every place it appears.
        """
        copies = self.exposed_files()
        references: list[tuple[Archive, bool]] = []
        for i, task in items(self.doc.get("tasks")):
            reference = self.quiet_archive(join_path(join_path("tasks", i), "reference_data"), task.get("reference_data"))
            if reference is None:
                continue
            own_input = normalise(task["input_data"]) if isinstance(task.get("input_data"), str) else None
            if own_input == reference.relative:
                self.warning("leak.reference-is-input", reference.yaml_path, "the reference data is the task's input "
                             "data itself: code submissions can read it", "keep the answers out of the input data, "
                             "unless the scorer only needs the input (e.g. to verify a solution)")
            found = self.leaked(reference, copies, own_input)
            groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
            for shown, places in found.items():
                groups.setdefault(tuple(places), []).append(shown)
            final = not isinstance(task.get("index"), int) or task["index"] in final_tasks
            for names in groups.values():
                self.report_leak(reference, names, found[names[0]], final)
            if all(reference.relative != r.relative for r, _ in references):
                references.append((reference, final))
        self.check_copied_rows(references, copies)

    def check_copied_rows(self, references: list[tuple[Archive, bool]],
                          copies: dict[tuple[int, int], list[tuple[Archive, File]]]) -> None:
        """Reference rows in a participant's file that is no exact copy: compressed, CRLF, BOM, re-separated.

        A file holding at least ``COPY_SHARE`` of a reference file's distinct rows (normalised,
        see :mod:`bundlekit.fingerprint`) is reported as a copy of it.
        """
        from bundlekit import fingerprint  # noqa: PLC0415

        originals = []  # (reference, final, file, its rows, its (size, crc))
        for reference, final in references:
            for name in reference.tree.names():
                rows = fingerprint.fingerprint(functools.partial(reference.tree.open, name))
                if len(rows) >= fingerprint.MIN_ROWS:
                    originals.append((reference, final, name, rows,
                                      (reference.tree.size(name), reference.tree.crc(name))))
        if not originals:
            return
        owners: dict[int, list[int]] = {}  # row hash -> the originals that hold it
        for number, (_, _, _, rows, _) in enumerate(originals):
            for row in rows:
                owners.setdefault(row, []).append(number)
        for key, places in copies.items():
            file = places[0][1]  # every place holds the same bytes
            matched: list[set[int]] = [set() for _ in originals]
            for row in fingerprint.row_hashes(functools.partial(file.tree.open, file.name)):
                for number in owners.get(row, ()):
                    matched[number].add(row)
            with file.tree.open(file.name) as stream:
                how = fingerprint.compression(stream.read(6))
            for found, (reference, final, name, rows, original_key) in zip(matched, originals):
                if key == original_key or len(found) < fingerprint.COPY_SHARE * len(rows):
                    continue  # an exact copy is reported above; a few common rows are no copy
                where = ", ".join(f"{a.yaml_path} ('{a.relative}', as {f.shown})" for a, f in places
                                  if a.relative != reference.relative)
                if not where:
                    continue
                message = (f"{len(found)} of the {len(rows)} rows of {name} of '{reference.relative}' are in "
                           f"{where}{f' ({how})' if how else ''}; participants can read the answers")
                self.leak(reference, final, message, "remove the copy of the reference rows from the participants' "
                          "data", "remove it, unless this task's answers are public by design")

    def exposed_files(self) -> dict[tuple[int, int], list[tuple[Archive, File]]]:
        """The non-empty files participants can read, with those of the zips among them, by (size, CRC)."""
        places = [(join_path(join_path("tasks", i), "input_data"), task.get("input_data"))
                  for i, task in items(self.doc.get("tasks"))]
        places += [(join_path(join_path("phases", i), key), phase.get(key))
                   for i, phase in items(self.doc.get("phases")) for key in ("public_data", "starting_kit")]
        exposed: dict[str, Archive] = {}
        for path, value in places:
            archive = self.quiet_archive(path, value)
            if archive is not None:
                exposed.setdefault(archive.relative, archive)
        copies: dict[tuple[int, int], list[tuple[Archive, File]]] = {}
        for archive in exposed.values():
            for file in self.files_within(archive.tree):
                size = file.tree.size(file.name)
                if size:
                    copies.setdefault((size, file.tree.crc(file.name)), []).append((archive, file))
        return copies

    def files_within(self, tree: Tree) -> Iterator[File]:
        """The files of ``tree``, then those of each readable zip among them."""
        for name in tree.names():
            yield File(tree, name, name)
            if not name.lower().endswith(".zip"):
                continue
            try:
                inner = open_zip(tree, name, self.stack)
            except ZIP_ERRORS:
                continue  # participants cannot unzip it either
            if unsafe_reason(inner, name) is None and damaged_member(inner) is None:
                inner_tree = ZipTree(inner)
                yield from (File(inner_tree, member, f"{name}/{member}") for member in inner_tree.names())

    def leaked(self, reference: Archive, copies: dict[tuple[int, int], list[tuple[Archive, File]]],
               own_input: str | None) -> dict[str, dict[tuple[str, str], str]]:
        """Each reference file found among the participants' files: {(yaml path, archive): its name there}."""
        originals = [File(reference.tree, name, name) for name in reference.tree.names()]
        if self.root.is_file(reference.relative):
            originals.append(File(self.root, reference.relative, f"{PurePosixPath(reference.relative).name} itself"))
        found: dict[str, dict[tuple[str, str], str]] = {}
        for original in originals:
            size = original.tree.size(original.name)
            for archive, copy in copies.get((size, original.tree.crc(original.name)), []) if size else []:
                if archive.relative == reference.relative == own_input:
                    continue  # reported as the reference being the input data
                if copy.tree.sha256(copy.name) == original.tree.sha256(original.name):
                    found.setdefault(original.shown, {}).setdefault((archive.yaml_path, archive.relative), copy.shown)
        return found

    def report_leak(self, reference: Archive, names: list[str], places: dict[tuple[str, str], str],
                    final: bool) -> None:
        listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        where = ", ".join(f"{yaml_path} ('{relative}'{_copied_as(names[0], shown)})"
                          for (yaml_path, relative), shown in places.items())
        message = (f"{listed} of '{reference.relative}' {'is' if len(names) == 1 else 'are'} also in {where}; "
                   "participants can read the answers")
        self.leak(reference, final, message, "remove the reference files from the participants' data",
                  "remove them, unless this task's answers are public by design (a development split)")

    def leak(self, reference: Archive, final: bool, message: str, fix: str, public_fix: str) -> None:
        """An error when the task is in the final phase (hidden answers), else a warning."""
        if final:
            self.error("leak.reference", reference.yaml_path, message, fix)
        else:
            self.warning("leak.public-reference", reference.yaml_path,
                         message + " (the task is not in the final phase)", public_fix)
