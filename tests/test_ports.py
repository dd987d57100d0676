"""The test servers' ports: each xdist worker draws from its own block, below the
kernel's ephemeral range, and a port in use is never handed out."""

from __future__ import annotations

import socket

import pytest

from tests import ports


def test_workers_draw_from_blocks_that_do_not_overlap(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, set[int]] = {}
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        seen[worker] = {ports.free_port() for _ in range(20)}
    assert not seen["gw0"] & seen["gw1"] and not seen["gw1"] & seen["gw2"]
    assert max(max(s) for s in seen.values()) < ports._ephemeral_start()
    assert all(len(s) == 20 for s in seen.values())  # no port offered twice in a row


def test_a_port_in_use_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw5")
    taken = ports.free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        # walk the whole block once: the held port must never come back
        picks = {ports.free_port() for _ in range(ports.BLOCK)}
    assert taken not in picks
