"""Rules on what one platform reads and another ignores, the image, and the contact address."""

from __future__ import annotations

import re

from bundlekit.check.base import CheckerBase, items
from bundlekit.check.problems import join_path
from bundlekit.platform_rules import email_problem

#: Keys that current Codabench reads and AI4MediaBench silently ignores.
CODABENCH_ONLY_KEYS = frozenset({
    "show_detailed_results_in_submission_panel", "show_detailed_results_in_leaderboard", "auto_run_submissions",
    "can_participants_make_submissions_public", "forum_enabled", "hide_prediction_output", "hide_score_output",
})

_DOCKER_REFERENCE = re.compile(
    r"(?:(?P<domain>(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"(?::[0-9]+)?)/)?"
    r"(?P<name>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)


class PlatformRules(CheckerBase):
    """platform.*, docker.*, yaml.email."""

    def check_platform_keys(self) -> None:
        places = [("", self.doc)] + [(join_path("phases", i), p) for i, p in items(self.doc.get("phases"))]
        for parent, mapping in places:
            for key in sorted(CODABENCH_ONLY_KEYS.intersection(map(str, mapping))):
                self.warning("platform.codabench-only", join_path(parent, key),
                             f"'{key}' is read by Codabench only; AI4MediaBench ignores it",
                             "keep it only if the bundle need not behave the same on AI4MediaBench")
        if self.doc.get("queue"):
            self.warning("platform.queue", "queue",
                         "'queue' names a queue of one platform instance; elsewhere the upload fails "
                         "('The specified Queue does not exist!')", "leave it out of bundles meant to be shared")

    def check_docker_image(self) -> None:
        image = self.doc.get("docker_image")
        if image is None:
            self.warning("docker.missing", "docker_image",
                         "no docker_image: Codabench then runs codalab/codalab-legacy:py37 and "
                         "AI4MediaBench its own py39 image, so the programs run differently on each",
                         "pin an image, e.g. docker_image: codalab/codalab-legacy:py39")
            return
        if not isinstance(image, str):
            return
        match = _DOCKER_REFERENCE.fullmatch(image)
        domain = match["domain"] if match else None
        if domain and not ("." in domain or ":" in domain or domain == "localhost") and domain != domain.lower():
            match = None  # not a registry host but the first part of the name, which must be lowercase
        if match is None:
            self.error("docker.invalid", "docker_image", f"'{image}' is not a valid image reference; pulling it fails",
                       "write name:tag in lowercase without spaces, e.g. codalab/codalab-legacy:py39")
        elif not match["digest"] and match["tag"] in (None, "latest"):
            name = image.removesuffix(":latest")
            self.error("docker.unpinned", "docker_image",
                       f"'{image}' is not pinned: {'' if match['tag'] else 'without a tag, '}docker "
                       "pulls 'latest', which moves, so runs change without notice",
                       f"pin a version tag or a digest, e.g. {name}:1.0 or {name}@sha256:...")
        elif not match["digest"]:
            name = image.rsplit(":", 1)[0]
            self.warning("docker.no-digest", "docker_image",
                         f"'{image}' is pinned by tag only: the workers pull it before every run, and a tag "
                         "can be pushed again, so they may run other bytes than the ones you tested",
                         f"push the image and pin its digest: `bundlekit image --push REPOSITORY` prints "
                         f"{name}@sha256:..., then `bundlekit build --image` that reference")

    def check_contact_email(self) -> None:
        value = self.doc.get("contact_email")
        if value is not None:
            problem = email_problem(value)
            if problem is not None:
                self.error("yaml.email", "contact_email", problem, "write the organisers' address, e.g. "
                           "fusion-organisers@example.org")
