"""The programs' logs: each stream copied up to LOG_CAP_BYTES, then one truncation line; their last lines."""

from __future__ import annotations

import collections
import functools
import re
import threading
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

#: Bytes kept of each stream (stdout, stderr) of each program; the rest is discarded.
LOG_CAP_BYTES = 10 * 1024**2
#: The line that ends a log cut at LOG_CAP_BYTES.
TRUNCATION_PREFIX = "[bundlekit] output truncated"
#: How long a log is waited for once its program has ended, in seconds.
LOG_JOIN_SECONDS = 10.0
#: The summary line the kit image's entrypoint (`measure`) prints last on stderr: not a reason.
ENTRYPOINT_SUMMARY = re.compile(r"^\[measure\] exit=-?\d+ ")


def _copy_capped(chunks: Iterable[bytes], log: Path) -> bool:
    """Append ``chunks`` to ``log`` up to LOG_CAP_BYTES, then a truncation line; True when cut."""
    sink = CappedLog(log)
    try:
        for chunk in chunks:
            sink.write(chunk)
            if sink.cut:
                return True
    finally:
        sink.close()
    return False


def _pump(chunks: Iterable[bytes], log: Path, discard: Callable[[], None]) -> threading.Thread:
    """A started thread logging ``chunks`` (capped); ``discard`` disposes of the rest once cut."""
    def copy() -> None:
        try:
            if _copy_capped(chunks, log):
                discard()
        except (OSError, ValueError) as error:  # a broken stream ends its log, not the run
            with open(log, "ab") as sink:
                sink.write(f"\n[bundlekit] log stream broken: {type(error).__name__}: {error}\n".encode())

    thread = threading.Thread(target=copy, daemon=True)
    thread.start()
    return thread


def _pipe_chunks(pipe: IO[bytes]) -> Iterator[bytes]:
    with pipe:
        yield from iter(functools.partial(pipe.read1, 64 * 1024), b"")


def pump_pipe(pipe: IO[bytes], log: Path) -> threading.Thread:
    """Log a child's pipe; past the cap it is still read, so that the child never blocks."""
    chunks = _pipe_chunks(pipe)
    return _pump(chunks, log, lambda: collections.deque(chunks, maxlen=0))


def pump_frames(frames: Iterable[tuple[bytes | None, bytes | None]], stdout_log: Path,
                 stderr_log: Path) -> threading.Thread:
    """A started thread logging an exec's demultiplexed frames, each stream capped; the rest is read and dropped."""
    def copy() -> None:
        sinks = {0: CappedLog(stdout_log), 1: CappedLog(stderr_log)}
        try:
            for frame in frames:
                for number, chunk in enumerate(frame):
                    if chunk:
                        sinks[number].write(chunk)
        except (OSError, ValueError) as error:  # a broken stream ends its log, not the run
            sinks[1].write(f"\n[bundlekit] log stream broken: {type(error).__name__}: {error}\n".encode())
        finally:
            for sink in sinks.values():
                sink.close()

    thread = threading.Thread(target=copy, daemon=True)
    thread.start()
    return thread


class CappedLog:
    """An appended log file that keeps LOG_CAP_BYTES, then one truncation line."""

    def __init__(self, path: Path):
        self.sink = open(path, "ab")
        self.room = LOG_CAP_BYTES

    def write(self, chunk: bytes) -> None:
        if self.room < 0:
            return
        if len(chunk) > self.room:
            self.sink.write(chunk[:self.room])
            self.sink.write(f"\n{TRUNCATION_PREFIX} after {LOG_CAP_BYTES / 1024**2:g} MiB\n".encode())
            self.room = -1
            return
        self.sink.write(chunk)
        self.room -= len(chunk)

    @property
    def cut(self) -> bool:
        """Whether the truncation line has been written."""
        return self.room < 0

    def close(self) -> None:
        self.sink.close()


def pump_stream(stream: Any, log: Path) -> threading.Thread:
    """Log a container's log stream; past the cap the stream is closed."""
    return _pump(stream, log, stream.close)


def tail_lines(path: Path, count: int) -> list[str]:
    if not path.is_file():
        return []
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - 64 * 1024))
        text = handle.read().decode("utf-8", errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip()][-count:]


def last_messages(log: Path) -> list[str]:
    """The last lines of a program's stderr log, without the entrypoint's and the runner's own."""
    return [
        line for line in tail_lines(log, 20)
        if not ENTRYPOINT_SUMMARY.match(line) and not line.startswith(TRUNCATION_PREFIX)
    ]
