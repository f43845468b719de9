"""How many threads a run on the CPU should decode with now: the cores other processes leave it.

llama.cpp's threads meet at a barrier after every operation of every step, so a step goes at the
pace of its slowest thread. With a core kept busy by another process, the thread that shares it
gets it only part of the time and every step waits for it: such a run is slower with as many
threads as cores than with one fewer (benchmarks/busy_machine.py). So unless `--threads` fixes
the count, the batch engine asks `CpuShare` before its steps, and it answers, from the machine's
busy time (/proc/stat) less this process's own over the last second, how many cores are free:
all of them on a quiet machine, fewer beside busy processes, and all again when they end.
Where /proc/stat cannot be read (not Linux), the count stays at its most.
"""

from __future__ import annotations

import os
import time

# How often the count is reconsidered: long enough that the clock ticks (1/100 s) make it exact
# to a few percent, short enough to follow a neighbour starting or ending.
EVERY_SECONDS = 1.0
# The first count comes sooner, from the time the model took to load: a short run beside a busy
# process would otherwise spend its first second, its prompts' heaviest, at the wrong count.
FIRST_SECONDS = 0.2


def usable_cores() -> int:
    """The cores this process may run on (a container's or `taskset`'s share, where set)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def machine_busy() -> tuple[float, int] | None:
    """Seconds every core of the machine has spent busy so far (stolen time included), and how
    many cores it has; None where /proc/stat is not there."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    fields = [int(n) for n in lines[0].split()[1:]]
    cores = sum(1 for line in lines[1:] if line.startswith("cpu"))
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and waiting for I/O
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK"), cores


def own_cpu_seconds() -> float:
    """CPU seconds this process has used, all its threads together."""
    times = os.times()
    return times.user + times.system


class CpuShare:
    """The thread count for the next steps: between 1 and `most`, the cores others leave free."""

    def __init__(self, most: int) -> None:
        self.most = self.threads = max(1, most)
        self._last = self._sample()
        self._wait = FIRST_SECONDS

    def _sample(self) -> tuple[float, float, float, int] | None:
        machine = machine_busy()
        return None if machine is None else (time.monotonic(), machine[0], own_cpu_seconds(), machine[1])

    def now(self) -> int:
        """The count to decode with, reconsidered at most every EVERY_SECONDS (the first time
        after FIRST_SECONDS)."""
        if self._last is None or time.monotonic() - self._last[0] < self._wait:
            return self.threads
        sample = self._sample()
        if sample is None:
            return self.threads
        wall, busy, own = (now - then for now, then in zip(sample[:3], self._last[:3], strict=True))
        others = max(0.0, busy - own) / wall  # cores' worth of other processes' work
        self.threads = max(1, min(self.most, round(sample[3] - others)))
        self._last, self._wait = sample, EVERY_SECONDS
        return self.threads
