"""A growable (R, N) pool of data points for the accumulate schedules of nonparametric models.

Under ``accumulate`` / ``accumulate_mix`` the loop combines the old pool with every new batch.
Concatenating copies the whole pool each generation, O(N_t) work per generation and O(n T^2)
over a run.  :func:`append` instead writes the new batch into spare capacity of the old pool's
buffer (doubling it when full), so a generation costs O(n) amortised.  It never overwrites
data another pool can see: a buffer records how far it has been filled, and appending to a pool
that is not the buffer's longest (a branch) copies instead.
"""
from __future__ import annotations

import numpy as np


class Buffer:
    """A float array (R, capacity) and how many columns of it are in use."""

    __slots__ = ("array", "filled")

    def __init__(self, array: np.ndarray, filled: int):
        self.array = array
        self.filled = filled


def new(data: np.ndarray, spare: int = 0) -> tuple[np.ndarray, Buffer]:
    """Copy data (R, m) into a fresh buffer with room for ``spare`` more columns."""
    R, m = data.shape
    buf = Buffer(np.empty((R, max(1, m + spare)), dtype=float), m)
    buf.array[:, :m] = data
    return buf.array[:, :m], buf


def append(a: np.ndarray, a_buf: Buffer | None, b: np.ndarray) -> tuple[np.ndarray, Buffer]:
    """The pool a (R, m_a) followed by b (R, m_b), as (view, buffer).

    In place (amortised O(m_b)) when ``a`` is the filled part of ``a_buf`` and the buffer has
    room; otherwise a new buffer of twice the needed size is allocated and both are copied."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"cannot combine pools of {a.shape[0]} and {b.shape[0]} chains")
    ma, mb = a.shape[1], b.shape[1]
    total = ma + mb
    owns = (a_buf is not None and a_buf.filled == ma
            and np.shares_memory(a, a_buf.array) and a.base is a_buf.array)
    if owns and a_buf.array.shape[1] >= total:
        a_buf.array[:, ma:total] = b
        a_buf.filled = total
        return a_buf.array[:, :total], a_buf
    buf = Buffer(np.empty((a.shape[0], 2 * total), dtype=float), total)
    buf.array[:, :ma] = a
    buf.array[:, ma:total] = b
    return buf.array[:, :total], buf
