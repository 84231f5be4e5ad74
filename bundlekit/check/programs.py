"""Rules on the programs (metadata, command) and the data the compute worker unpacks."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from bundlekit import safe_yaml
from bundlekit.check.base import CheckerBase
from bundlekit.check.problems import describe
from bundlekit.check.trees import Tree
from scoring_common.check_submission import METADATA_NAMES

#: Placeholders the compute worker substitutes in a program's command.
COMMAND_PLACEHOLDERS = frozenset(
    {"input", "output", "program", "ingestion_program", "submission_program", "hidden", "predictions", "shared", "tmp"}
)

_SHELL_FEATURES = re.compile(r"&&|\|\||\$\(|\$\{|[|;<>&`*]")
_QUOTES = re.compile(r"['\"]")
_VARIABLE = re.compile(r"\$(\w*)")
_SCRIPT = re.compile(r"\.(py|R|r|sh|jl|js|m|pl|rb)$")
#: How a command names a file of its own program (the working directory is /app/program).
_OWN_FILE = re.compile(r"^(\$program/|\$ingestion_program/|/app/program/|\./)")


class ProgramRules(CheckerBase):
    """program.*, command.*, data.*."""

    def check_program(self, path: str, value: Any, role: str) -> None:
        """A scoring or ingestion program: metadata with a command at its root."""
        program = self.archive(path, value)
        if program is None or not self.first_look(program, role):
            return
        tree = program.tree
        metadata = next((n for n in METADATA_NAMES if tree.is_file(n)), None)
        if metadata is None:
            nested = sorted((n for n in tree.names() if PurePosixPath(n).name in METADATA_NAMES), key=lambda n: (n.count("/"), n))
            if nested:
                folder = str(PurePosixPath(nested[0]).parent)
                fix = (f"zip the contents of '{folder}/', not the folder "
                       f"(cd {folder} && zip -r ../{PurePosixPath(program.relative).name} .)"
                       if self.root.is_file(program.relative) else f"move the files of '{folder}/' up to the {role}'s root")
                self.error("program.wrapped", path,
                           f"the {role}'s files are inside the folder '{folder}/', so its metadata is not at "
                           "the root: AI4MediaBench fails every run ('Program directory missing metadata')", fix)
            else:
                self.error("program.no-metadata", path,
                           f"the {role} has no metadata.yaml (or metadata) at its root: the platform cannot "
                           "run it", "add metadata.yaml with a line such as `command: python3 $program/score.py $input $output`")
            return
        self.check_command(path, tree, metadata, role, required=True)

    def check_command(self, path: str, tree: Tree, metadata: str, role: str, *, required: bool) -> None:
        import yaml  # noqa: PLC0415

        try:
            content = safe_yaml.load(tree.read(metadata).decode("utf-8"))
        except UnicodeDecodeError as exc:
            self.error("program.metadata-syntax", path,
                       f"the {role}'s {metadata} is not UTF-8 text (byte {exc.start}): the platform finds no command",
                       "save it as UTF-8")
            return
        except (yaml.YAMLError, safe_yaml.YamlLimitError) as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" (line {mark.line + 1})" if mark else f" (line {exc.line}: {exc})" if hasattr(exc, "line") else ""
            self.error("program.metadata-syntax", path,
                       f"the {role}'s {metadata} is not valid YAML{line}: the platform finds no command",
                       "write it as `command: ...`")
            return
        command = content.get("command") if isinstance(content, dict) else None
        if not command:
            what = "the platform cannot run it" if required else "the platform takes it for code and the run fails"
            self.error("program.no-command", path, f"the {role}'s {metadata} has no `command`: {what}",
                       "add a line such as `command: python3 $program/score.py $input $output`"
                       + ("" if required else ", or remove the metadata file from a result submission"))
            return
        if not isinstance(command, str):
            self.error("program.command-type", path,
                       f"the {role}'s command is {describe(command)}, not one line of text",
                       "write the command as one line: `command: python3 $program/score.py $input $output`")
            return
        self.check_command_text(path, command, role, tree)

    def check_command_text(self, path: str, command: str, role: str, tree: Tree) -> None:
        shown = command if len(command) <= 80 else command[:77] + "..."
        features = list(dict.fromkeys(_SHELL_FEATURES.findall(command)))
        if features:
            self.error("command.shell", path,
                       f"the {role}'s command `{shown}` uses {', '.join(repr(f) for f in features)}: the "
                       "platform runs it without a shell", "run one program with plain arguments; do redirections, "
                       "pipes and chaining inside the program")
        if _QUOTES.search(command):
            self.error("command.quotes", path,
                       f"the {role}'s command `{shown}` has quotes; AI4MediaBench splits it on spaces and "
                       "passes them on", "remove the quotes; no argument may contain a space")
        if command != command.strip() or "  " in command or re.search(r"[\t\r\n]", command.strip()):
            self.error("command.whitespace", path,
                       f"the {role}'s command `{shown}` has extra whitespace; AI4MediaBench splits it on single "
                       "spaces and passes empty arguments", "write the words separated by single spaces on one line")
        unknown = sorted({f"${name}" for name in _VARIABLE.findall(command) if name and name not in COMMAND_PLACEHOLDERS})
        if unknown:
            self.error("command.variable", path,
                       f"the {role}'s command `{shown}` uses {', '.join(unknown)}: only the placeholders "
                       f"${', $'.join(sorted(COMMAND_PLACEHOLDERS))} are substituted, nothing else is expanded",
                       "use those placeholders or write the value itself")
        words = command.split()
        for word in words:
            script = _OWN_FILE.sub("", word)
            if (script != word or ("/" not in word and "$" not in word)) and _SCRIPT.search(script) \
                    and not tree.is_file(script):
                self.error("command.missing-script", path,
                           f"the {role}'s command runs '{script}', which the {role} does not contain",
                           f"add {script} to the {role} or correct the command")
        if words and tree.is_file(_OWN_FILE.sub("", words[0])):
            self.error("command.executable", path,
                       f"the {role}'s command starts with its own file '{words[0]}': the platform loses "
                       "executable bits when it unzips programs, so the file cannot be executed",
                       f"call the interpreter explicitly, e.g. `python3 {words[0]}` or `bash {words[0]}`")

    def check_data(self, path: str, value: Any) -> None:
        """Input or reference data: unpacked for runs by the compute worker."""
        data = self.archive(path, value)
        if data is None or not self.first_look(data, "data"):
            return
        folders = sorted({n.split("/")[0] for n in data.tree.names() if "/" in n})
        if folders:
            self.warning("data.subfolders", path, f"the data has sub-folders ({', '.join(f + '/' for f in folders[:3])}"
                         f"{', ...' if len(folders) > 3 else ''}): current Codabench moves the contents of the first "
                         "folder of the zip to its root when it unpacks data for a run, AI4MediaBench does not, so the "
                         "programs see different layouts", "keep data files at the root of the zip, or make the "
                         "programs find their files wherever they are")
