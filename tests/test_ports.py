"""The test servers' ports: each xdist worker draws from its own block, outside the
kernel's ephemeral range, and a port in use is never handed out."""

from __future__ import annotations

import socket

import pytest

from tests import ports

RANGES = [(32768, 60999), (1024, 65535), (10000, 65535), (49152, 65535), (5000, 20000)]


@pytest.mark.parametrize("ephemeral", RANGES, ids=lambda r: f"{r[0]}-{r[1]}")
@pytest.mark.parametrize("workers", [1, 2, 8, 40])
def test_blocks_are_disjoint_and_outside_the_ephemeral_range(
    ephemeral: tuple[int, int], workers: int
) -> None:
    low, high = ephemeral
    outside = sum(1 for p in range(ports.LOWEST, 65536) if not low <= p <= high)
    crowded = outside // workers < ports.MIN_BLOCK
    if crowded:  # said plainly; the blocks are still one per worker
        with pytest.warns(UserWarning, match="overlap"):
            blocks = [set(ports.block(w, workers, ephemeral)) for w in range(workers)]
    else:
        blocks = [set(ports.block(w, workers, ephemeral)) for w in range(workers)]
    seen: set[int] = set()
    for b in blocks:
        assert len(b) >= 10 and not b & seen
        assert all(p >= ports.LOWEST and (crowded or not low <= p <= high) for p in b)
        seen |= b


def test_too_many_workers_is_an_error_not_a_shared_block() -> None:
    with pytest.raises(RuntimeError, match="too few"), pytest.warns(UserWarning):
        ports.block(0, 10_000, (32768, 60999))


def test_a_port_in_use_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    own = set(ports.block(*ports._worker(), ports.ephemeral_range()))
    taken = ports.free_port()
    assert taken in own
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        # walk the whole block once: the held port must never come back
        picks = {ports.free_port() for _ in range(len(own))}
    assert taken not in picks and picks <= own
