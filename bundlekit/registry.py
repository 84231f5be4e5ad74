"""The kit's image on a registry, pinned by digest (`bundlekit image --push REPOSITORY[:TAG]`).

A platform's compute worker pulls a competition's ``docker_image`` before every run, even
when the worker already has it, so the image must sit on a registry the workers reach.
:func:`push_image` tags the local image as ``REPOSITORY:TAG``, pushes it and returns the
reference by digest, ``REPOSITORY@sha256:...``, which names exactly the bytes that were
pushed: written into every bundle (``bundlekit build --image REF``), what was tested is
what runs. A registry on 127.0.0.1 (``docker-registry`` on Debian) is accepted by the
Docker engine without TLS.
"""

from __future__ import annotations

import re
from typing import Callable, NamedTuple

#: How long a push may stay silent (not its whole duration).
PUSH_TIMEOUT_S = 600
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
#: A reference: optional registry host (with a dot, a port or ``localhost``), name path, tag, digest.
_REFERENCE = re.compile(
    r"(?:(?P<domain>[a-zA-Z0-9.-]+(?::[0-9]+)?|localhost)/(?=.))??"
    r"(?P<name>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)


class RegistryError(Exception):
    """Why the image could not be pushed, in one line that says how to fix it."""


class Reference(NamedTuple):
    """An image reference split into its repository (registry host included), tag and digest."""

    repository: str
    tag: str | None
    digest: str | None


def parse_reference(reference: str) -> Reference:
    """Split ``[HOST[:PORT]/]NAME[:TAG][@sha256:HEX]``; ValueError when it is not a reference."""
    match = _REFERENCE.fullmatch(reference)
    if match is None:
        raise ValueError(f"{reference!r} is not an image reference (write [HOST[:PORT]/]NAME[:TAG][@sha256:...])")
    domain = match["domain"]
    repository = f"{domain}/{match['name']}" if domain else match["name"]
    return Reference(repository, match["tag"], match["digest"])


def is_pinned_by_digest(reference: str) -> bool:
    """Whether ``reference`` names its image by content (``...@sha256:<64 hex>``)."""
    try:
        return parse_reference(reference).digest is not None
    except ValueError:
        return False


def push_image(source: str, target: str, progress: Callable[[str], None] = lambda message: None) -> str:
    """Tag the local image ``source`` as ``target`` (REPOSITORY[:TAG]), push it, return ``REPOSITORY@sha256:...``.

    The tag defaults to the source's own tag. RegistryError names the registry's own reason
    when the push is refused (unreachable registry, missing login, TLS required).
    """
    import docker
    import docker.errors
    import requests.exceptions

    try:
        wanted = parse_reference(target)
    except ValueError as error:
        raise RegistryError(str(error)) from None
    if wanted.digest:
        raise RegistryError(f"--push {target}: give REPOSITORY[:TAG]; the digest is what the push prints")
    tag = wanted.tag or parse_reference(source).tag or "latest"
    engine_errors = (docker.errors.DockerException, requests.exceptions.RequestException)
    try:
        client = docker.from_env(timeout=PUSH_TIMEOUT_S)
        client.images.get(source).tag(wanted.repository, tag)
        progress(f"pushing {wanted.repository}:{tag}")
        digest = None
        for event in client.api.push(wanted.repository, tag=tag, stream=True, decode=True):
            if "error" in event:
                raise RegistryError(_push_refusal(wanted.repository, event["error"]))
            aux = event.get("aux") or {}
            digest = aux.get("Digest", digest)
            status = event.get("status", "")
            if status and event.get("id") and status not in ("Preparing", "Waiting", "Pushing"):
                progress(f"  {event['id']}: {status}")
    except docker.errors.ImageNotFound:
        raise RegistryError(f"no local image {source}: build it first (bundlekit image)") from None
    except engine_errors as error:
        raise RegistryError(f"cannot push {wanted.repository}:{tag}: {_one_line(error)}; "
                            "check that the Docker engine runs (`docker info`)") from None
    if digest is None or not _DIGEST.fullmatch(digest):
        raise RegistryError(f"the registry accepted {wanted.repository}:{tag} but reported no digest; "
                            f"read it with `docker image inspect {wanted.repository}:{tag}` (RepoDigests)")
    return f"{wanted.repository}@{digest}"


def pull_image(reference: str) -> str:
    """Pull exactly ``reference`` (a digest reference pulls those bytes or fails); return the image id."""
    import docker
    import docker.errors
    import requests.exceptions

    try:
        parsed = parse_reference(reference)
    except ValueError as error:
        raise RegistryError(str(error)) from None
    try:
        client = docker.from_env(timeout=PUSH_TIMEOUT_S)
        image = client.images.pull(parsed.repository, tag=parsed.digest or parsed.tag or "latest")
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise RegistryError(f"cannot pull {reference}: {_one_line(error)}; push it first "
                            "(bundlekit image --push REPOSITORY[:TAG]) to a registry this engine reaches") from None
    return str(image.id)


def _push_refusal(repository: str, reason: str) -> str:
    host = repository.split("/", 1)[0] if "/" in repository else "Docker Hub"
    hint = "log in first (`docker login`)" if "denied" in reason or "authentication" in reason else (
        f"start the registry or check its address ({host})")
    if "https" in reason or "http: server gave HTTP response" in reason:
        hint = f"the engine wants TLS for {host}: serve the registry on 127.0.0.1, or list it in insecure-registries"
    return f"push to {repository} refused: {_one_line(reason)}; {hint}"


def _one_line(error: object) -> str:
    text = str(getattr(error, "explanation", None) or error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
