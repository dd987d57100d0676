"""One way for the tests to choose a loopback port for a server they start.

Binding port 0 and closing the socket hands back a port that any other process may
be given next: the kernel draws ephemeral ports for every outgoing connection and
every ``bind(0)``, and under pytest-xdist two workers start servers at the same time.
Here each worker draws from its own block of ports *below* the kernel's ephemeral
range, which the kernel never hands out on its own, and takes the next one in its
block that binds now; a port just given up is not offered again for a thousand picks.
"""

from __future__ import annotations

import itertools
import os
import socket
from pathlib import Path

BLOCK = 1000
_next = itertools.count(os.getpid() % BLOCK)


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _worker() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # gw0, gw1, …; "master" alone
    return int(name[2:]) if name[2:].isdigit() else 0


def free_port() -> int:
    """A loopback port free now and chosen by no other test worker."""
    blocks = max((_ephemeral_start() - 10_000) // BLOCK, 1)
    first = 10_000 + BLOCK * (_worker() % blocks)
    for _ in range(BLOCK):
        port = first + next(_next) % BLOCK
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {first}–{first + BLOCK - 1}")
