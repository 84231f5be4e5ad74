"""Where the runner's work runs, so that the cost columns of code submissions are reproducible.

A code submission's prediction step is *timed*: the ingestion program measures the
participant's fit and predict, and the leaderboard publishes the figures. So that two
timed steps never compete for a core, ``bundlekit run`` (and ``make demo``):

- serialises them: one timed step at a time in the runner process (:data:`TIMED_STEPS`),
  whatever ``--jobs`` says; everything else (unpacking, result submissions, scoring)
  runs in parallel;
- pins the timed step to one dedicated CPU (:func:`timed_cpus`, the last CPU this process
  may use), and every other program and the runner's own worker threads to the other
  CPUs (:func:`untimed_cpus`). With a single CPU there is nothing to pin: the timed steps
  are only serialised.

In Docker the pinning is the container's ``cpuset``; for local processes it is the CPU
affinity of the thread that starts them (inherited by the child).
"""

from __future__ import annotations

import os
import threading

#: Held while a timed (code submission) prediction step runs: one at a time per runner process.
TIMED_STEPS = threading.Lock()


def _usable_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no affinity API (not Linux)
        return []


_USABLE = _usable_cpus()


def timed_cpus() -> set[int] | None:
    """The CPU reserved for timed steps; None when there is no other CPU to leave to the rest."""
    return {_USABLE[-1]} if len(_USABLE) > 1 else None


def untimed_cpus() -> set[int] | None:
    """Every usable CPU but the timed one; None when there is no choice (one CPU, no affinity API)."""
    return set(_USABLE[:-1]) if len(_USABLE) > 1 else None


def cpuset(cpus: set[int] | None) -> str | None:
    """Docker's ``cpuset_cpus`` for ``cpus`` ("0,2"); None: no restriction."""
    return ",".join(map(str, sorted(cpus))) if cpus else None


def pin_current_thread(cpus: set[int] | None) -> None:
    """Restrict the calling thread (and the processes it starts later) to ``cpus``; None: leave as is."""
    if cpus:
        try:
            os.sched_setaffinity(0, cpus)  # pid 0: the calling thread only, on Linux
        except OSError:
            pass


def describe() -> str:
    """One line for help and logs: what is pinned where on this machine."""
    timed = timed_cpus()
    if timed is None:
        return "timed prediction steps run one at a time (one CPU: nothing to pin)"
    return (f"timed prediction steps (code submissions) run one at a time on CPU {cpuset(timed)}; "
            f"everything else runs in parallel on CPU {cpuset(untimed_cpus())}")
