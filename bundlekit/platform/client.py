"""A client of the Codabench / AI4MediaBench API (the same API on both), on `requests`.

Credentials come from the environment: ``CODABENCH_URL`` and ``CODABENCH_TOKEN`` (the
API token of the account, on its profile page), or ``CODABENCH_USERNAME`` and
``CODABENCH_PASSWORD``, exchanged for the token once. Every failure is a
:class:`PlatformError`: one line naming the call, the platform's own reason and what to
do. The API's surprises that this client absorbs:

- a missing or bad token is HTTP 403 (not 401);
- a reached submission quota is HTTP 500 with an HTML page (a PermissionError inside
  the platform), not a 4xx;
- ``Finished`` is set a moment before the scores are posted: waiting goes on until the
  scores are there;
- uploads go through a presigned storage URL signed for ``Content-Type: application/zip``,
  then ``datasets/completed/<key>/``; a bundle is then unpacked in the background.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

#: Statuses after which a submission does not change any more.
TERMINAL = frozenset({"Finished", "Failed", "Cancelled"})
#: How long to wait for the scores once a submission reads Finished.
SCORES_GRACE_S = 30.0
POLL_S = 2.0
#: The longest name the platform stores for an uploaded file.
MAX_FILE_NAME = 64
ENV_HELP = "set CODABENCH_URL and CODABENCH_TOKEN (or CODABENCH_USERNAME and CODABENCH_PASSWORD)"


class PlatformError(Exception):
    """A platform call that failed, in one line: the call, the platform's reason, what to do."""


@dataclass
class Submitted:
    """A submission as this client follows it."""

    id: int
    phase: str
    status: str
    scores: dict[str, float]
    details: str = ""


class Platform:
    """One platform instance and one account on it.

    Parameters
    ----------
    url
        The instance, e.g. ``https://www.codabench.org``.
    token
        The account's API token; or give ``username`` and ``password``.
    """

    def __init__(self, url: str, token: str | None = None, username: str | None = None,
                 password: str | None = None, timeout_s: float = 120.0):
        import requests

        if not url:
            raise PlatformError(f"no platform address: {ENV_HELP}")
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.http = requests.Session()
        self._token = token
        self._login = (username, password) if username and password else None
        if not token and not self._login:
            raise PlatformError(f"no credentials for {self.url}: {ENV_HELP}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Platform":
        """The platform and account named by CODABENCH_URL, CODABENCH_TOKEN or CODABENCH_USERNAME/PASSWORD."""
        env = os.environ if environ is None else environ
        return cls(env.get("CODABENCH_URL", ""), token=env.get("CODABENCH_TOKEN") or None,
                   username=env.get("CODABENCH_USERNAME"), password=env.get("CODABENCH_PASSWORD"))

    # --- plumbing ------------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        if self._token is None:
            assert self._login is not None
            username, password = self._login
            answer = self.call("POST", "/api/api-token-auth/", json={"username": username, "password": password},
                               auth=False, hint="check CODABENCH_USERNAME and CODABENCH_PASSWORD")
            self._token = answer["token"]
        return {"Authorization": f"Token {self._token}"}

    def call(self, method: str, path: str, *, json: Any = None, params: dict | None = None, auth: bool = True,
             hint: str = "", hint_404: str = "", hint_500: str = "") -> Any:
        """Send one API request; its JSON answer, or PlatformError in one line."""
        import requests

        what = f"{method} {path}"
        try:
            response = self.http.request(method, self.url + path, json=json, params=params,
                                         headers=self._auth() if auth else {}, timeout=self.timeout_s)
        except requests.RequestException as error:
            raise PlatformError(f"{what}: cannot reach {self.url} ({_first_line(error)}); check CODABENCH_URL "
                                "and that the platform answers") from None
        if response.status_code in (200, 201, 204):
            if not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                raise PlatformError(f"{what}: the answer is not JSON (HTTP {response.status_code}); is "
                                    f"{self.url} a Codabench instance? check CODABENCH_URL") from None
        raise PlatformError(f"{what}: {explain(response, self.url, hint=hint, hint_404=hint_404, hint_500=hint_500)}")

    def download(self, url: str, what: str) -> bytes:
        """The bytes behind a presigned storage URL (sent without the token: it signs itself)."""
        import requests

        try:
            response = self.http.get(url, timeout=self.timeout_s)
        except requests.RequestException as error:
            raise PlatformError(f"GET {what}: cannot reach the platform's storage ({_first_line(error)})") from None
        if response.status_code != 200:
            raise PlatformError(f"GET {what}: HTTP {response.status_code} from the platform's storage; "
                                "the link may have expired: run the command again")
        return response.content

    # --- competitions --------------------------------------------------------------------

    def competition(self, competition_id: int | str) -> dict:
        """The competition with its phases, leaderboards and fact sheet."""
        return self.call("GET", f"/api/competitions/{_id(competition_id, 'competition')}/",
                         hint_404=f"no competition {competition_id} visible to this account on {self.url}; "
                                  "check the id (publish prints it) and the account")

    def competition_url(self, competition_id: int) -> str:
        return f"{self.url}/competitions/{competition_id}/"

    def upload(self, path: Path, kind: str) -> dict:
        """Upload a zip as the browser does; the answer of ``datasets/completed`` (``status_id`` for a bundle)."""
        path = Path(path)
        if not path.is_file():
            raise PlatformError(f"{path}: no such file")
        if len(path.name) > MAX_FILE_NAME:
            raise PlatformError(f"{path.name}: the platform refuses file names longer than {MAX_FILE_NAME} "
                                "characters; rename the file")
        created = self.call("POST", "/api/datasets/", json={
            "type": kind, "request_sassy_file_name": path.name, "file_name": path.name,
            "file_size": path.stat().st_size})
        import requests

        try:
            with open(path, "rb") as handle:
                stored = self.http.put(created["sassy_url"], data=handle, timeout=max(self.timeout_s, 600),
                                       headers={"Content-Type": "application/zip"})
        except requests.RequestException as error:
            raise PlatformError(f"PUT (upload of {path.name}): cannot reach the platform's storage "
                                f"({_first_line(error)}); retry") from None
        if stored.status_code not in (200, 201, 204):
            raise PlatformError(f"PUT (upload of {path.name}): storage answered HTTP {stored.status_code}; retry, "
                                "or tell the platform's administrators that presigned uploads fail")
        return self.call("PUT", f"/api/datasets/completed/{created['key']}/") | {"key": created["key"]}

    def publish(self, bundle: Path, progress: Callable[[str], None] | None = None) -> int:
        """Create a competition from a bundle zip; its id, or PlatformError with the platform's reason."""
        status_id = self.upload(bundle, "competition_bundle")["status_id"]
        while True:
            status = self.call("GET", f"/api/competitions/{status_id}/creation_status/")
            if status.get("status") == "Finished":
                return int(status["resulting_competition"])
            if status.get("status") == "Failed":
                raise PlatformError(f"the platform refused {Path(bundle).name}: {_one_line(status.get('details'))}; "
                                    "correct the bundle (bundlekit check) and publish again")
            if progress:
                progress(f"unpacking {Path(bundle).name}: {status.get('status') or 'waiting'}")
            time.sleep(POLL_S)

    # --- submissions ---------------------------------------------------------------------

    def submit(self, phase: dict, path: Path, answers: dict | None = None) -> int:
        """Submit a zip to a phase (after asking whether the account may); the submission id."""
        allowed = self.call("GET", f"/api/can_make_submission/{phase['id']}/")
        if not allowed.get("can"):
            raise PlatformError(f"GET /api/can_make_submission/{phase['id']}/: phase {phase['name']!r} refuses "
                                f"this account: {allowed.get('reason')}; {_refusal_hint(allowed.get('reason'))}")
        key = self.upload(path, "submission")["key"]
        body: dict[str, Any] = {"data": key, "phase": phase["id"]}
        if answers:
            body["fact_sheet_answers"] = answers
        quota = (f"an HTTP 500 here is how the platform reports a reached quota: phase {phase['name']!r} allows "
                 f"{phase.get('max_submissions_per_day')} a day and {phase.get('max_submissions_per_person')} "
                 "in all; wait until tomorrow (UTC) or ask the organisers to raise the limits")
        return int(self.call("POST", "/api/submissions/", json=body, hint_500=quota)["id"])

    def submission(self, submission_id: int) -> dict:
        return self.call("GET", f"/api/submissions/{submission_id}/",
                         hint_404=f"no submission {submission_id} visible to this account")

    def submissions(self, phase_id: int) -> list[dict]:
        """Every submission of a phase that the account may see (all of them for its organisers)."""
        answer = self.call("GET", "/api/submissions/", params={"phase": phase_id})
        return answer.get("results", []) if isinstance(answer, dict) else list(answer)

    def details(self, submission_id: int) -> dict:
        """Presigned URLs of the submission's files and logs (``scoring_result``, ``detailed_result``...)."""
        return self.call("GET", f"/api/submissions/{submission_id}/get_details/")

    def rerun(self, submission_id: int) -> int:
        """Run a finished submission again (organisers only); the new submission's id."""
        return int(self.call("POST", f"/api/submissions/{submission_id}/re_run_submission/",
                             hint="only the competition's organisers may rerun, and only finished, failed or "
                                  "cancelled submissions")["id"])

    def wait(self, submission_ids: Iterable[int], progress: Callable[[str], None] | None = None,
             timeout_s: float = 3600.0) -> dict[int, Submitted]:
        """Follow submissions until each is over and, when Finished, its scores are posted."""
        pending = list(dict.fromkeys(submission_ids))
        done: dict[int, Submitted] = {}
        finished_at: dict[int, float] = {}
        seen_keys: dict[int, set[str]] = {}
        started = time.monotonic()
        while pending:
            for submission_id in list(pending):
                current = as_submitted(self.submission(submission_id))
                if current.status not in TERMINAL:
                    continue
                if current.status == "Finished":
                    # The scores arrive after the status, one column at a time: wait until they stop changing.
                    keys, previous = set(current.scores), seen_keys.get(submission_id)
                    seen_keys[submission_id] = keys
                    first = finished_at.setdefault(submission_id, time.monotonic())
                    settled = bool(keys) and keys == previous
                    if not settled and time.monotonic() - first < SCORES_GRACE_S:
                        continue
                done[submission_id] = current
                pending.remove(submission_id)
            if progress and pending:
                progress(f"{len(done)} of {len(done) + len(pending)} submission(s) scored, "
                         f"{time.monotonic() - started:.0f} s")
            if pending:
                if time.monotonic() - started > timeout_s:
                    late = ", ".join(str(i) for i in pending)
                    raise PlatformError(f"GET /api/submissions/{pending[0]}/: submission(s) {late} not scored after "
                                        f"{timeout_s:.0f} s; is a compute worker listening to the competition's queue? "
                                        "(a submission stuck in Preparing or Running can be rerun by the organisers)")
                time.sleep(POLL_S)
        return done


def as_submitted(answer: dict) -> Submitted:
    """The status and scores (column key -> float) of a submission as the API gives it."""
    scores = {}
    for entry in answer.get("scores") or []:
        try:
            scores[entry["column_key"]] = float(entry["score"])
        except (KeyError, TypeError, ValueError):
            continue
    return Submitted(int(answer["id"]), str(answer.get("phase_name") or answer.get("phase")),
                     str(answer.get("status")), scores, _one_line(answer.get("status_details")))


def find_phase(competition: dict, name: str) -> dict:
    """The phase called ``name`` (case-insensitive), or PlatformError listing the phases."""
    phases = competition.get("phases") or []
    for phase in phases:
        if str(phase.get("name", "")).casefold() == name.casefold():
            return phase
    names = ", ".join(repr(p.get("name")) for p in phases) or "none"
    raise PlatformError(f"competition {competition.get('id')} has no phase {name!r}; its phases: {names}")


def phase_closed(phase: dict, now: str | None = None) -> str | None:
    """When the phase has ended, the date it ended (ISO), else None."""
    from datetime import datetime, timezone

    end = phase.get("end")
    if not end:
        return None
    ended = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    if ended.tzinfo is None:
        ended = ended.replace(tzinfo=timezone.utc)
    current = datetime.fromisoformat(now) if now else datetime.now(timezone.utc)
    return ended.strftime("%Y-%m-%d %H:%M UTC") if ended <= current else None


def explain(response: Any, url: str, hint: str = "", hint_404: str = "", hint_500: str = "") -> str:
    """HTTP status, the platform's reason, and what to do, in one line."""
    status = response.status_code
    reason = _reason(response)
    if status in (401, 403):
        if any(word in reason.lower() for word in ("token", "credentials", "authenticat")):
            return (f"HTTP {status} ({reason}): the platform does not accept these credentials; set CODABENCH_TOKEN "
                    f"to the API token of your account on {url} (or CODABENCH_USERNAME and CODABENCH_PASSWORD)")
        return f"HTTP {status} ({reason}); {hint or 'this account lacks the right: ask the competition organisers'}"
    if status == 404:
        return f"HTTP 404: {hint_404 or 'not found'}"
    if status >= 500:
        return (f"HTTP {status} ({reason}); "
                f"{hint_500 or 'the platform failed: retry later, or give its administrators the time of the call'}")
    return f"HTTP {status} ({reason}){'; ' + hint if hint else ''}"


def _reason(response: Any) -> str:
    kind = response.headers.get("Content-Type", "")
    if "json" in kind:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return _one_line(_flatten(body)) or "no reason given"
    if "html" in kind or response.text.lstrip().startswith("<"):
        return "an HTML error page"
    return _one_line(response.text) or "no reason given"


def _flatten(body: Any) -> str:
    if isinstance(body, dict):
        if set(body) == {"detail"}:
            return _flatten(body["detail"])
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in body.items())
    if isinstance(body, list):
        return " ".join(_flatten(item) for item in body)
    return str(body)


def _refusal_hint(reason: object) -> str:
    text = str(reason).lower()
    if "approved" in text:
        return "register on the competition's page and wait for the organisers' approval"
    if "maximum" in text:
        return "the submission quota is reached: wait until tomorrow (UTC) or ask the organisers to raise it"
    return "see the competition's rules"


def _id(value: int | str, what: str) -> int:
    text = str(value).rstrip("/").rsplit("/", 1)[-1]
    if not text.isdigit():
        raise PlatformError(f"{value!r} is not a {what} id; give the number publish printed (or the {what}'s URL)")
    return int(text)


def _one_line(text: object, limit: int = 300) -> str:
    words = " ".join(str(text or "").split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def _first_line(error: object) -> str:
    return _one_line(str(error).splitlines()[0] if str(error) else type(error).__name__, 200)


def progress_printer(stream: Any = None) -> Callable[[str], None] | None:
    """A one-line, overwritten progress display on a terminal; None (silent) elsewhere."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return None

    def show(message: str) -> None:
        stream.write("\r\033[K" + message)
        stream.flush()

    return show


def end_progress(show: Callable[[str], None] | None, stream: Any = None) -> None:
    """Clear the progress line, if one was shown."""
    if show is not None:
        stream = stream or sys.stderr
        stream.write("\r\033[K")
        stream.flush()
