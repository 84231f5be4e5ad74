"""Bounding the participant's processes without privileges (Linux).

The platform's worker sets no memory, process or disk limit on its containers and does
not close their network, so the ingestion program bounds the participant's code itself:

- resource limits set in the child before any participant code runs (:func:`apply_limits`):
  address space, file size, CPU time and processes;
- the ingestion program is a *child subreaper* (:func:`set_child_subreaper`), so a
  participant process that double-forks or calls ``setsid`` is re-parented to it rather
  than to the container's init, and :func:`kill_descendants` ends every one of them;
- the process count and resident memory of the tree are sampled from ``/proc``
  (:func:`process_tree`), because ``RLIMIT_NPROC`` is not enforced for root, which the
  platform's containers run as.

The network cannot be closed from inside the container without privileges.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MIB = 1 << 20


@dataclass(frozen=True)
class ResourceLimits:
    """The bounds of a participant's code; a task may set its own in ``fusion_io.RESOURCE_LIMITS``.

    Attributes
    ----------
    memory_gib : float
        Address space of each process (``RLIMIT_AS``), GiB.
    processes : int
        Processes of the participant's tree at once (the child included).
    file_size_mib : int
        Largest file a process may write (``RLIMIT_FSIZE``), MiB.
    cpu_cores : float
        CPU-time limit of each process (``RLIMIT_CPU``) = time limit x this many cores.
    """

    memory_gib: float = 6.0
    processes: int = 64
    file_size_mib: int = 1024
    cpu_cores: float = 4

    def cpu_limit_s(self, time_limit_s: float) -> int:
        """The CPU-time limit, seconds: the wall-time limit times :attr:`cpu_cores`."""
        return max(1, int(time_limit_s * self.cpu_cores))

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_LIMITS = ResourceLimits()


def limits_from(declared: object) -> ResourceLimits:
    """The task's ``RESOURCE_LIMITS`` mapping (any subset of the fields) over the defaults."""
    if declared is None:
        return DEFAULT_LIMITS
    if not isinstance(declared, dict) or not set(declared) <= set(DEFAULT_LIMITS.as_dict()):
        raise ValueError(f"RESOURCE_LIMITS must be a dict with keys among {sorted(DEFAULT_LIMITS.as_dict())}")
    return ResourceLimits(**{**DEFAULT_LIMITS.as_dict(), **declared})


def apply_limits(limits: ResourceLimits, time_limit_s: float) -> None:
    """Set the limits on the calling process (inherited by what it starts).

    ``RLIMIT_NPROC`` counts every process of the user, so it is set above the user's
    current count; root ignores it, hence the sampling in :func:`process_tree`.
    """
    cpu = limits.cpu_limit_s(time_limit_s)
    _lower(resource.RLIMIT_AS, int(limits.memory_gib * (1 << 30)))
    _lower(resource.RLIMIT_FSIZE, limits.file_size_mib * MIB)
    _lower(resource.RLIMIT_CPU, cpu, hard=cpu + 5)
    _lower(resource.RLIMIT_NPROC, _user_tasks() + limits.processes)


def _lower(which: int, soft: int, hard: int | None = None) -> None:
    """Lower a limit (never raise one: that needs privileges)."""
    old_soft, old_hard = resource.getrlimit(which)
    cap = old_hard if old_hard != resource.RLIM_INFINITY else None
    new_hard = hard if hard is not None else soft
    new_hard = min(new_hard, cap) if cap is not None else new_hard
    new_soft = min(soft, new_hard)
    if old_soft != resource.RLIM_INFINITY:
        new_soft = min(new_soft, old_soft)
    resource.setrlimit(which, (new_soft, new_hard))


def _user_tasks() -> int:
    """Threads of every process of this real user (what RLIMIT_NPROC counts)."""
    uid, count = os.getuid(), 0
    for entry in _proc_pids():
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{entry}/status").read_text().splitlines()
                          if line.startswith(("Uid:", "Threads:")))
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
        except (OSError, KeyError, ValueError):
            continue
    return count


def set_child_subreaper(enabled: bool) -> bool:
    """Make orphaned descendants re-parent to this process; return the previous setting.

    A no-op returning False where ``prctl`` is missing (not Linux).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        previous = ctypes.c_int(0)
        libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(previous), 0, 0, 0)
        libc.prctl(PR_SET_CHILD_SUBREAPER, int(enabled), 0, 0, 0)
        return bool(previous.value)
    except (OSError, AttributeError):
        return False


def _proc_pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process visible in /proc."""
    parents = {}
    for pid in _proc_pids():
        try:
            stat = Path(f"/proc/{pid}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            parents[pid] = int(fields[1])
    return parents


def children(pid: int) -> list[int] | None:
    """The direct children of ``pid`` (every thread's), or None where /proc does not list them."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []  # the process is gone
    found: list[int] = []
    for thread in threads:
        try:
            text = Path(f"/proc/{pid}/task/{thread}/children").read_text()
        except FileNotFoundError:
            if os.path.isdir(f"/proc/{pid}/task/{thread}"):
                return None  # a kernel without CONFIG_PROC_CHILDREN
            continue  # the thread ended
        except OSError:
            continue
        found.extend(int(child) for child in text.split())
    return found


def process_tree(root: int, exclude: frozenset[int] = frozenset()) -> list[int]:
    """Every descendant of ``root`` (not ``root`` itself), skipping ``exclude`` and below.

    Walks the ``children`` lists of /proc from ``root`` (cost grows with the tree, not with
    the machine), or scans every process where the kernel does not provide them.
    """
    direct = children(root)
    if direct is None:
        return _scanned_tree(root, exclude)
    found, stack = [], [pid for pid in direct if pid not in exclude]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children(pid) or [])
    return found


def _scanned_tree(root: int, exclude: frozenset[int]) -> list[int]:
    below: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        below.setdefault(parent, []).append(pid)
    found, stack = [], [pid for pid in below.get(root, []) if pid not in exclude]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(below.get(pid, []))
    return found


def resident_bytes(pids: list[int]) -> int:
    """Sum of the resident memory of ``pids`` now (processes that ended count 0)."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_BYTES
        except (OSError, IndexError, ValueError):
            continue
    return total


def peak_resident_bytes(pid: int) -> int:
    """The peak resident memory of ``pid`` since it last called exec (``VmHWM``); 0 once it ended.

    Unlike ``ru_maxrss``, which a child inherits from the process that forked it, this
    counts the child's own memory only.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def kill_descendants(exclude: frozenset[int] = frozenset(), rounds: int = 200) -> list[resource.struct_rusage]:
    """SIGKILL every descendant of this process but ``exclude``; reap those that are ours.

    Repeats until none is left (a process may fork while the others are killed), and
    returns the resource usage of each process reaped here (orphans re-parented to this
    subreaper included).
    """
    me = os.getpid()
    reaped: list[resource.struct_rusage] = []
    for _ in range(rounds):
        pids = process_tree(me, exclude)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        direct = children(me)
        mine = set(direct) if direct is not None else {pid for pid, parent in _parents().items() if parent == me}
        for pid in pids:
            if pid in mine:
                reaped.extend(_reap(pid))
        time.sleep(0.002)
    return reaped


def _reap(pid: int, timeout_s: float = 5.0) -> list[resource.struct_rusage]:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            done, _, usage = os.wait4(pid, os.WNOHANG)
        except ChildProcessError:
            return []
        if done:
            return [usage]
        if time.monotonic() > deadline:
            return []
        time.sleep(0.001)
