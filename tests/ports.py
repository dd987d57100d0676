"""One way for the tests to choose a loopback port for a server they start.

Binding port 0 and closing the socket hands back a port that any other process may
be given next: the kernel draws ephemeral ports for every outgoing connection and
every ``bind(0)``, and under pytest-xdist two workers start servers at the same time.
Here the ports the kernel never hands out on its own — below and above its ephemeral
range, from 10000 up — are split into one block per worker (pytest-xdist says how
many there are), and each worker takes the next port of its own block that binds
now; a port just given up is not offered again until the block comes round.
"""

from __future__ import annotations

import itertools
import os
import socket
import warnings
from pathlib import Path

LOWEST = 10_000  # below: well-known and registered services
HIGHEST = 65_535
BLOCK = 1000  # at most; smaller when many workers must share the free ports
MIN_BLOCK = 10
_next = itertools.count(os.getpid() % BLOCK)


def ephemeral_range() -> tuple[int, int]:
    """The kernel's ephemeral ports (Linux's ``ip_local_port_range``). Without /proc,
    32768–65535: it covers Linux's default (32768–60999) and IANA's (49152–65535)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[:2]
        return int(low), int(high)
    except (OSError, ValueError):
        return 32_768, HIGHEST


def block(worker: int, workers: int, ephemeral: tuple[int, int]) -> list[int]:
    """The ports of ``worker`` (0-based) of ``workers``: disjoint from every other
    worker's and from the ephemeral range. On a host whose ephemeral range leaves too
    few ports outside it (``1024 65535``), the blocks are cut from all ports from
    10000 instead, with a warning: still one per worker, but the kernel may hand one
    of them to someone else, as with ``bind(0)``."""
    low, high = ephemeral
    free = [*range(LOWEST, min(low, HIGHEST + 1)), *range(max(high + 1, LOWEST), HIGHEST + 1)]
    if len(free) // max(workers, 1) < MIN_BLOCK:
        warnings.warn(
            f"the ephemeral port range {low}–{high} leaves {len(free)} ports from {LOWEST} "
            f"for {workers} test workers: their blocks overlap it",
            stacklevel=2,
        )
        free = list(range(LOWEST, HIGHEST + 1))
    size = min(BLOCK, len(free) // max(workers, 1))
    if size < MIN_BLOCK:
        raise RuntimeError(f"too few loopback ports from {LOWEST} for {workers} test workers")
    return free[worker * size : (worker + 1) * size]


def _worker() -> tuple[int, int]:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # gw0, gw1, …; "master" alone
    index = int(name[2:]) if name[2:].isdigit() else 0
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    return index, max(count, index + 1)


def free_port() -> int:
    """A loopback port free now and in no other test worker's block."""
    ports = block(*_worker(), ephemeral_range())
    for _ in range(len(ports)):
        port = ports[next(_next) % len(ports)]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:  # in use, or in TIME_WAIT
                continue
            return port
    raise RuntimeError(f"no free loopback port in {ports[0]}–{ports[-1]}")
