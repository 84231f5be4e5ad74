"""The Docker engine: each program in its own locked-down container of the bundle's image."""

from __future__ import annotations

import functools
import re
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bundlekit import scheduling
from bundlekit.run.engine import POLL_SECONDS, Mount, Outcome
from bundlekit.run.logs import LOG_JOIN_SECONDS, pump_frames, pump_stream

#: Label put on every container, so that leftovers can be found (`docker ps -a --filter label=bundlekit=1`).
CONTAINER_LABEL = "bundlekit"
#: A stopped labelled container is a leftover once stopped this long (before, its runner may still read it).
LEFTOVER_AGE_SECONDS = 60.0


class DockerEngine:
    """Runs each program in its own locked-down container of the bundle's image.

    A program's container is created and started ahead (:meth:`prepare`, idle on
    ``sleep``) so that its start-up overlaps the previous step; :meth:`_Container.run`
    then runs the program in it with ``docker exec``, behind the image's entrypoint,
    exactly as ``docker run IMAGE COMMAND`` would, and the container is removed after.
    When the program has ended and nothing but the idle ``sleep`` is left in its container,
    the container is killed and removed in the background; a left-over process is killed
    before the run goes on. An image without ``sleep`` gets one container per program,
    started when it runs.
    """

    def __init__(self, image: str, memory: str, pids: int, network: bool):
        self.image = image
        self.memory = memory
        self.pids = pids
        self.network = network
        #: This engine's containers being removed in the background (see wait_for_removals).
        self._removals: list[threading.Thread] = []
        self._removals_lock = threading.Lock()

    def remove_in_background(self, container: Any) -> None:
        """Kill and remove ``container`` in a thread of its own."""
        import docker

        def remove() -> None:
            try:
                container.remove(force=True)
            except docker.errors.APIError:
                pass

        thread = threading.Thread(target=remove, daemon=True)
        thread.start()
        with self._removals_lock:
            self._removals[:] = [*(t for t in self._removals if t.is_alive()), thread]

    def wait_for_removals(self) -> None:
        """Wait until every container of this engine closed so far is removed."""
        with self._removals_lock:
            pending, self._removals[:] = list(self._removals), []
        for thread in pending:
            thread.join()

    def prepare(self, mounts: dict[str, Mount], work_dir: Path, cpus: set[int] | None) -> "_Container":
        """A started, idle container with ``mounts``, pinned to ``cpus`` (None: any CPU)."""
        return _Container(self, mounts, cpus)

    def create_options(self, mounts: dict[str, Mount], cpus: set[int] | None) -> dict[str, Any]:
        import docker

        return dict(
            working_dir="/app/program",
            environment={"PYTHONUNBUFFERED": "1"},
            mounts=[
                docker.types.Mount(target, str(mount.host), type="bind", read_only=mount.read_only)
                for target, mount in sorted(mounts.items())
            ],
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            network_mode=None if self.network else "none",
            mem_limit=self.memory,
            memswap_limit=self.memory,
            pids_limit=self.pids,
            cpuset_cpus=scheduling.cpuset(cpus),
            labels={CONTAINER_LABEL: "1"},
            detach=True,
        )


@functools.lru_cache(maxsize=1)
def _docker_client() -> Any:
    """One Docker client for the process (its connection pool serves every worker thread)."""
    import docker

    return docker.from_env(timeout=120, max_pool_size=32)


@functools.lru_cache(maxsize=None)
def _image_entrypoint(image: str) -> tuple[str, ...]:
    """The image's ENTRYPOINT, put before each program's command as ``docker run`` does."""
    return tuple(_docker_client().images.get(image).attrs["Config"].get("Entrypoint") or ())


#: What an idle container runs until its program is executed in it.
IDLE_ENTRYPOINT = ["sleep", "infinity"]
#: How often a running program's end is checked when its output streams stay open (seconds).
EXEC_POLL_SECONDS = 0.2


class _Container:
    """One program's container; see :class:`DockerEngine`."""

    def __init__(self, engine: DockerEngine, mounts: dict[str, Mount], cpus: set[int] | None):
        import docker

        self.engine = engine
        self.options = engine.create_options(mounts, cpus)
        self.container: Any = None
        self.created_at = time.time()
        try:
            self.container = _docker_client().containers.create(engine.image, entrypoint=IDLE_ENTRYPOINT, **self.options)
            self.container.start()
        except docker.errors.APIError:  # no sleep in the image: one container per program, at run time
            self.close()

    def close(self) -> None:
        """Kill and remove the container in the background (see :meth:`DockerEngine.wait_for_removals`)."""
        container, self.container = self.container, None
        if container is not None:
            self.engine.remove_in_background(container)

    def kill(self) -> None:
        """Kill what still runs in the container now: nothing of it survives this call."""
        import docker

        if self.container is None:
            return
        try:
            self.container.kill()
        except docker.errors.APIError:  # not running (any more)
            pass

    def run(self, argv: list[str], stdout_log: Path, stderr_log: Path, deadline: float,
            cancel: threading.Event) -> Outcome:
        """Run ``argv``; on return no process of it runs any more. The caller then calls :meth:`close`."""
        try:
            if self.container is None:
                return self._run_once(argv, stdout_log, stderr_log, deadline, cancel)
            return self._exec(argv, stdout_log, stderr_log, deadline, cancel)
        except BaseException:
            self.kill()
            raise

    def _only_idle_left(self) -> bool:
        """Whether the idle ``sleep`` (PID 1, which outlives every other process) is all that runs in the container.

        A process can only be started by another one (no more ``exec`` comes), so none can
        appear after this answers True. Any doubt (a zombie, an engine error) answers False.
        """
        import docker

        try:
            processes = _docker_client().api.top(self.container.id).get("Processes") or []
        except docker.errors.APIError:
            return False
        return len(processes) == 1

    def _exec(self, argv: list[str], stdout_log: Path, stderr_log: Path, deadline: float,
              cancel: threading.Event) -> Outcome:
        api = _docker_client().api
        command = [*_image_entrypoint(self.engine.image), *argv]
        exec_id = api.exec_create(self.container.id, command, workdir="/app/program")["Id"]
        start = time.monotonic()
        frames = api.exec_start(exec_id, stream=True, demux=True)
        pump = pump_frames(frames, stdout_log, stderr_log)
        timed_out = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or cancel.is_set():
                timed_out = True
                break
            pump.join(max(0.01, min(EXEC_POLL_SECONDS, remaining)))
            state = api.exec_inspect(exec_id)
            if not state["Running"]:  # ended, even if a left-over child still holds its streams
                break
        elapsed = time.monotonic() - start
        exit_code = None if timed_out else state["ExitCode"]
        # 137 is any SIGKILL (a program can kill its own parent): only the engine's word means memory.
        out_of_memory = exit_code not in (0, None) and self._killed_for_memory()
        if timed_out or not self._only_idle_left():
            self.kill()  # whatever still runs, which also ends the streams
        pump.join(LOG_JOIN_SECONDS)
        return Outcome(exit_code, elapsed, timed_out, out_of_memory)

    def _killed_for_memory(self) -> bool:
        """Whether the kernel killed a process of the container for memory (a child, say).

        The container's OOMKilled flag is only set when its main process exits; the
        engine's "oom" events say it at once.
        """
        events = _docker_client().events(
            since=f"{self.created_at:.6f}", until=f"{time.time():.6f}", decode=True,
            filters={"container": self.container.id, "event": "oom"},
        )
        return any(True for _ in events)

    def _run_once(self, argv: list[str], stdout_log: Path, stderr_log: Path, deadline: float,
                  cancel: threading.Event) -> Outcome:
        import docker
        import requests

        self.container = _docker_client().containers.create(self.engine.image, command=argv, **self.options)
        container = self.container
        start = time.monotonic()
        container.start()
        pumps = [
            pump_stream(container.logs(stdout=True, stderr=False, stream=True, follow=True), stdout_log),
            pump_stream(container.logs(stdout=False, stderr=True, stream=True, follow=True), stderr_log),
        ]
        exit_code, timed_out = None, False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or cancel.is_set():
                timed_out = True
                break
            try:
                exit_code = container.wait(timeout=max(0.1, min(POLL_SECONDS, remaining)))["StatusCode"]
                break
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
                continue
        elapsed = time.monotonic() - start
        if timed_out:
            try:
                container.kill()
            except docker.errors.APIError:
                pass
        for pump in pumps:  # the streams end with the container
            pump.join(LOG_JOIN_SECONDS)
        container.reload()
        out_of_memory = not timed_out and bool(container.attrs["State"].get("OOMKilled"))
        return Outcome(exit_code, elapsed, timed_out, out_of_memory)


def remove_leftover_containers() -> int:
    """Remove the stopped containers of interrupted runs; return how many were removed.

    Running containers, and those stopped less than LEFTOVER_AGE_SECONDS ago, are kept:
    another runner may still be using them.
    """
    import docker

    removed = 0
    stopped = _docker_client().containers.list(
        all=True, filters={"label": f"{CONTAINER_LABEL}=1", "status": ["created", "exited", "dead"]},
        ignore_removed=True,
    )
    for container in stopped:
        state = container.attrs["State"]
        last_change = max(_docker_time(container.attrs["Created"]), _docker_time(state["FinishedAt"]))
        if state.get("Running") or time.time() - last_change < LEFTOVER_AGE_SECONDS:
            continue
        try:
            container.remove()  # without force: never a container started meanwhile
            removed += 1
        except docker.errors.APIError:
            pass
    return removed


def _docker_time(text: str) -> float:
    """Seconds since the epoch of a Docker timestamp ("2024-05-01T12:34:56.123456789Z", UTC)."""
    match = re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", text)
    return datetime.fromisoformat(match.group()).replace(tzinfo=timezone.utc).timestamp() if match else 0.0


def docker_available() -> bool:
    """Whether a Docker engine answers (on the process's client once it exists: no new connection)."""
    try:
        import docker

        if _docker_client.cache_info().currsize:
            return bool(_docker_client().ping())
        client = docker.from_env(timeout=10)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # any failure (no socket, no permission, no SDK) means "no engine"
        return False


def image_available(image: str) -> bool:
    """Whether the Docker engine has ``image`` locally."""
    import docker

    try:
        _docker_client().images.get(image)
        return True
    except docker.errors.ImageNotFound:
        return False
