"""Compiled loops over a batch of images: the fused convolution and maximum over kernels, its
kernel gradient, and the augmentation warp.

Every loop exists twice, parallel over numba's thread pool and serial on the calling
thread, with the same per-row (per-image) code. A parallel loop runs only while it holds
:data:`POOL_LOCK`, so that two threads never launch parallel work at once (numba's
``workqueue`` threading layer aborts the process when they do); a small batch, or a call
made while another thread holds the pool, runs the serial loop. The two give the same
numbers, so which one ran never shows in the results. Layouts and design:
``docs/performance.md``.
"""
from __future__ import annotations

import math
import os
import threading

import numpy as np

# Idle OpenMP threads that spin make a batch several times slower when the cores are
# shared (the GUI thread, BLAS, other programs); sleeping ones cost little. Read once, when
# numba starts its thread pool: this module is the only one that starts it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from numba import njit, prange  # noqa: E402

__all__ = ["POOL_LOCK", "PARALLEL_MIN", "image_last", "conv_max_t", "winner_grad", "conv_max",
           "warp"]

#: Held by a thread while numba's thread pool runs its parallel loop.
POOL_LOCK = threading.Lock()
#: Batches of fewer images run serially: the window's one drawing, read with its distortions
#: (:data:`engine.net.reading.DISTORTIONS`, 17 looks), never waits for the pool, nor, on a first
#: launch, for the pool's loops to compile.
PARALLEL_MIN = 32


def _launch(parallel, serial, n: int, *args) -> None:
    """``parallel(*args)`` if the batch is large and the pool is free, else ``serial(*args)``."""
    if n >= PARALLEL_MIN and POOL_LOCK.acquire(blocking=False):
        try:
            parallel(*args)
        finally:
            POOL_LOCK.release()
    else:
        serial(*args)


# ------------------------------------------------------------------------------------------
# Convolution and maximum over kernels
# ------------------------------------------------------------------------------------------
# The batch is laid out "image last": ``Xf[row, col*N + n] = X[n, row, col]``, shape
# (S, S*N). For one output row ``i`` the responses of a kernel at every column and image are
# then ``sum over (a, b) of K[a, b] * Xf[i + a, b*N : b*N + r*N]``: long contiguous vector
# updates. The per-row work sits in functions of its own so that it is vectorised as serial
# code whichever loop calls it.
@njit(fastmath=True, nogil=True, cache=True)
def _conv_row(Xf, K, f, N, i, val, win, acc, best):  # pragma: no cover - compiled
    nk = K.shape[0]
    L = acc.shape[0]
    for kk in range(nk):
        for q in range(L):
            acc[q] = 0
        for a in range(f):
            base = a * f
            b = 0
            while b + 4 <= f:             # four kernel taps per pass: fewer stores of acc
                c0 = K[kk, base + b]
                c1 = K[kk, base + b + 1]
                c2 = K[kk, base + b + 2]
                c3 = K[kk, base + b + 3]
                r0 = Xf[i + a, b * N:b * N + L]
                r1 = Xf[i + a, (b + 1) * N:(b + 1) * N + L]
                r2 = Xf[i + a, (b + 2) * N:(b + 2) * N + L]
                r3 = Xf[i + a, (b + 3) * N:(b + 3) * N + L]
                for q in range(L):
                    acc[q] += c0 * r0[q] + c1 * r1[q] + c2 * r2[q] + c3 * r3[q]
                b += 4
            while b < f:
                c0 = K[kk, base + b]
                r0 = Xf[i + a, b * N:b * N + L]
                for q in range(L):
                    acc[q] += c0 * r0[q]
                b += 1
        if kk == 0:
            for q in range(L):
                best[q] = acc[q]
                win[i, q] = 0
        else:
            for q in range(L):
                if acc[q] > best[q]:      # strictly greater: the first kernel wins ties
                    best[q] = acc[q]
                    win[i, q] = kk
    for q in range(L):
        val[i, q] = best[q]


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def _conv_max_parallel(Xf, K, f, N, val, win):  # pragma: no cover - compiled
    L = val.shape[1]
    for i in prange(val.shape[0]):
        acc = np.empty(L, dtype=Xf.dtype)
        best = np.empty(L, dtype=Xf.dtype)
        _conv_row(Xf, K, f, N, i, val, win, acc, best)


@njit(fastmath=True, cache=True, nogil=True)
def _conv_max_serial(Xf, K, f, N, val, win):  # pragma: no cover - compiled
    L = val.shape[1]
    acc = np.empty(L, dtype=Xf.dtype)
    best = np.empty(L, dtype=Xf.dtype)
    for i in range(val.shape[0]):
        _conv_row(Xf, K, f, N, i, val, win, acc, best)


# The kernel gradient from the winners' windows: after the maximum over kernels only the
# winning kernel of a position has a gradient, so each position adds ``G`` times its window
# to one kernel's row: a ninth of the products of a full correlation (with 9 kernels). Images
# are in their own layout (a window row is ``f`` contiguous pixels); one image's sums go to
# its own row of ``out``, so images can be shared among threads without locks.
@njit(fastmath=True, nogil=True, cache=True)
def _winner_grad_image(X, G, win, f, n, out, strip):  # pragma: no cover - compiled
    r = G.shape[1]
    S = X.shape[1]
    ff = f * f
    o = out[n]
    for j in range(r):
        # the column strip: strip[y*f + b] = X[n, y, j + b], so the window at (i, j) is the one
        # contiguous run strip[i*f : i*f + f*f]
        for y in range(S):
            srow = strip[y * f:(y + 1) * f]
            xrow = X[n, y, j:j + f]
            for b in range(f):
                srow[b] = xrow[b]
        for i in range(r):
            g = G[n, i, j]
            ok = o[win[n, i, j]]
            seg = strip[i * f:i * f + ff]
            for t in range(ff):
                ok[t] += g * seg[t]


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def _winner_grad_parallel(X, G, win, f, out):  # pragma: no cover - compiled
    for n in prange(X.shape[0]):
        strip = np.empty(X.shape[1] * f, dtype=X.dtype)
        _winner_grad_image(X, G, win, f, n, out, strip)


@njit(fastmath=True, cache=True, nogil=True)
def _winner_grad_serial(X, G, win, f, out):  # pragma: no cover - compiled
    strip = np.empty(X.shape[1] * f, dtype=X.dtype)
    for n in range(X.shape[0]):
        _winner_grad_image(X, G, win, f, n, out, strip)


def winner_grad(X: np.ndarray, G: np.ndarray, win: np.ndarray, f: int, k: int) -> np.ndarray:
    """Kernel gradient ``(k, f*f)``: the sum over images and positions of ``G`` times the
    position's window, added to the kernel that won there.

    Parameters
    ----------
    X : ndarray, (N, S, S)
        The images.
    G : ndarray, (N, r, r)
        The gradient of the loss with respect to each position's maximum (``r = S - f + 1``).
    win : ndarray of int, (N, r, r)
        The winning kernel at each position.
    f, k : int
        Kernel side and number of kernels.
    """
    n = X.shape[0]
    dt = np.result_type(X.dtype, np.float32)
    out = np.zeros((n, k, f * f), dtype=dt)
    if n:
        _launch(_winner_grad_parallel, _winner_grad_serial, n, np.ascontiguousarray(X, dtype=dt),
                np.ascontiguousarray(G, dtype=dt), np.ascontiguousarray(win, dtype=np.int32), f, out)
    return out.sum(axis=0)


def image_last(X: np.ndarray, dtype) -> np.ndarray:
    """``(N, S, S)`` images as ``(S, S*N)``: ``out[row, col*N + n] = X[n, row, col]``."""
    n, s, _ = X.shape
    return np.ascontiguousarray(np.asarray(X, dtype=dtype).transpose(1, 2, 0)).reshape(s, s * n)


def conv_max_t(Xf: np.ndarray, K: np.ndarray, f: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Fused convolution and maximum over kernels on image-last data.

    Parameters
    ----------
    Xf : ndarray, (S, S*N)
        :func:`image_last` images, in ``K``'s dtype.
    K : ndarray, (k, f*f)
    f : int
        Kernel side.
    n : int
        Images ``N``.

    Returns
    -------
    val : ndarray, (r, r*N)
        ``[i, j*N + n]``: the largest kernel response at position ``(i, j)`` of image ``n``.
    win : ndarray of int32, (r, r*N)
        The kernel that gave it (the first one on ties).
    """
    r = Xf.shape[0] - f + 1
    val = np.empty((r, r * n), dtype=K.dtype)
    win = np.empty((r, r * n), dtype=np.int32)
    if n:
        _launch(_conv_max_parallel, _conv_max_serial, n, Xf, np.ascontiguousarray(K), f, n, val, win)
    return val, win


def conv_max(X: np.ndarray, K: np.ndarray, f: int) -> tuple[np.ndarray, np.ndarray]:
    """Convolution followed by the maximum over kernels, for images ``(N, S, S)``.

    Returns
    -------
    val : ndarray, (N, P)
        ``max_k`` of the kernel responses at each position ``p = i*r + j`` (before tanh),
        in ``K``'s dtype.
    win : ndarray of int32, (N, P)
        The winning kernel (the first one on ties).
    """
    X = np.asarray(X)
    n = X.shape[0]
    val, win = conv_max_t(image_last(X, K.dtype), K, f, n)
    P = (X.shape[1] - f + 1) ** 2
    return np.ascontiguousarray(val.reshape(P, n).T), np.ascontiguousarray(win.reshape(P, n).T)


# ------------------------------------------------------------------------------------------
# Augmentation: stroke width change, then a bilinear affine warp, one image at a time
# ------------------------------------------------------------------------------------------
@njit(fastmath=True, cache=True, nogil=True)
def _warp_one(X, M, width, background, out, n, src):  # pragma: no cover - compiled
    S = X.shape[1]
    w = width[n]
    if w == 0:
        for y in range(S):
            for x in range(S):
                src[y, x] = X[n, y, x]
    else:
        for y in range(S):
            for x in range(S):
                v = X[n, y, x]
                m = v
                # 3x3 cross neighbourhood
                if y > 0:
                    u = X[n, y - 1, x]
                    m = max(m, u) if w > 0 else min(m, u)
                if y < S - 1:
                    u = X[n, y + 1, x]
                    m = max(m, u) if w > 0 else min(m, u)
                if x > 0:
                    u = X[n, y, x - 1]
                    m = max(m, u) if w > 0 else min(m, u)
                if x < S - 1:
                    u = X[n, y, x + 1]
                    m = max(m, u) if w > 0 else min(m, u)
                src[y, x] = v + abs(w) * (m - v)
    a00, a01, a02 = M[n, 0, 0], M[n, 0, 1], M[n, 0, 2]
    a10, a11, a12 = M[n, 1, 0], M[n, 1, 1], M[n, 1, 2]
    for y in range(S):
        for x in range(S):
            sy = a00 * y + a01 * x + a02
            sx = a10 * y + a11 * x + a12
            y0 = math.floor(sy)
            x0 = math.floor(sx)
            fy = sy - y0
            fx = sx - x0
            acc = 0.0
            for dy in range(2):
                yy = int(y0) + dy
                wy = fy if dy == 1 else 1.0 - fy
                for dx in range(2):
                    xx = int(x0) + dx
                    wx = fx if dx == 1 else 1.0 - fx
                    if 0 <= yy < S and 0 <= xx < S:
                        v = src[yy, xx]
                    else:
                        v = background
                    acc += wy * wx * v
            out[n, y, x] = acc


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def _warp_parallel(X, M, width, background, out):  # pragma: no cover - compiled
    S = X.shape[1]
    for n in prange(X.shape[0]):
        src = np.empty((S, S), dtype=X.dtype)
        _warp_one(X, M, width, background, out, n, src)


@njit(fastmath=True, cache=True, nogil=True)
def _warp_serial(X, M, width, background, out):  # pragma: no cover - compiled
    S = X.shape[1]
    src = np.empty((S, S), dtype=X.dtype)
    for n in range(X.shape[0]):
        _warp_one(X, M, width, background, out, n, src)


def warp(X: np.ndarray, M: np.ndarray, width: np.ndarray, background: float) -> np.ndarray:
    """Change the stroke width of each image, then warp it.

    Parameters
    ----------
    X : ndarray, (N, S, S), float32 or float64, C-contiguous
    M : ndarray, (N, 2, 3)
        Affine maps from output to source pixel coordinates (bilinear sampling).
    width : ndarray, (N,)
        Stroke width change in [-1, 1]: towards the minimum (erosion) or the maximum
        (dilation) over the 3x3 cross.
    background : float
        The value of pixels the warp brings in from outside the image.

    Returns
    -------
    ndarray, (N, S, S), ``X``'s dtype
    """
    out = np.empty_like(X)
    n = X.shape[0]
    if n:
        _launch(_warp_parallel, _warp_serial, n, X, np.ascontiguousarray(M, dtype=np.float64),
                np.ascontiguousarray(width, dtype=np.float64), float(background), out)
    return out
