"""The thread count follows the cores other processes leave free, reconsidered every second."""

from __future__ import annotations

import pytest

from ieclid.backends import cpu_share
from ieclid.backends.cpu_share import CpuShare, usable_cores


class Machine:
    """A 2-core machine whose clock, busy time and own time the test moves."""

    def __init__(self, monkeypatch) -> None:
        self.clock = self.busy = self.own = 0.0
        monkeypatch.setattr(cpu_share.time, "monotonic", lambda: self.clock)
        monkeypatch.setattr(cpu_share, "machine_busy", lambda: (self.busy, 2))
        monkeypatch.setattr(cpu_share, "own_cpu_seconds", lambda: self.own)

    def second(self, own: float, others: float, seconds: float = 1.0) -> None:
        self.clock += seconds
        self.own += own * seconds
        self.busy += (own + others) * seconds


def test_a_busy_neighbour_takes_a_thread_and_gives_it_back(monkeypatch):
    machine = Machine(monkeypatch)
    share = CpuShare(2)
    assert share.now() == 2  # nothing known yet: every core
    machine.second(own=2.0, others=0.05)  # a quiet machine
    assert share.now() == 2
    machine.second(own=1.3, others=0.7)  # a neighbour spinning a core, sharing both with us
    assert share.now() == 1
    machine.second(own=0.5, others=0.5, seconds=0.5)  # not a second since: not reconsidered
    assert share.now() == 1
    machine.second(own=1.0, others=1.0, seconds=0.5)  # the neighbour keeps its core
    assert share.now() == 1
    machine.second(own=1.0, others=0.1)  # it ended
    assert share.now() == 2


def test_the_first_count_comes_from_the_models_loading(monkeypatch):
    machine = Machine(monkeypatch)
    share = CpuShare(2)
    machine.second(own=0.5, others=1.0, seconds=0.1)  # too short a time to tell
    assert share.now() == 2
    machine.second(own=0.5, others=1.0, seconds=0.2)  # loading beside a spinning neighbour
    assert share.now() == 1
    machine.second(own=1.0, others=0.0, seconds=0.5)  # then every second, as before
    assert share.now() == 1
    machine.second(own=2.0, others=0.0, seconds=0.5)
    assert share.now() == 2


def test_the_count_stays_within_one_and_the_most(monkeypatch):
    machine = Machine(monkeypatch)
    share = CpuShare(1)
    machine.second(own=1.0, others=0.0)
    assert share.now() == 1
    share = CpuShare(2)
    machine.second(own=0.2, others=1.8)  # both cores busy with others: still one thread
    assert share.now() == 1


def test_without_proc_stat_the_count_is_the_most(monkeypatch):
    monkeypatch.setattr(cpu_share, "machine_busy", lambda: None)
    share = CpuShare(4)
    assert share.now() == 4


@pytest.mark.skipif(cpu_share.machine_busy() is None, reason="no /proc/stat here")
def test_this_machine_is_read():
    busy, cores = cpu_share.machine_busy()
    assert busy > 0 and cores >= 1 and usable_cores() >= 1
