"""The article's per-image update as one compiled loop over a chunk of images.

:func:`train_chunk` computes what ``tests/engine/oracle_article.py`` computes, step by
step as ``docs/article-algorithm.md`` states it, with rearrangements that are exact in
arithmetic and change only rounding. Each step is a helper inlined into the loop (numba's
``inline="always"``: one function for the compiler, as fast as writing it in one piece).
Why each step is written the way it is: ``docs/performance.md``.

Array indices inside these loops go through slices and ``range`` loop variables: an
index computed otherwise gets numba's negative-index test, which stops the compiler from
vectorising the loop.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .article_math import TANH_RANGE, dot, dot4, tanh_any, tanh_pade  # (inlined into the loop)

__all__ = ["train_chunk"]


# Every step below is compiled into train_chunk itself, with its flags (no fast-math).
_STEP = dict(cache=True, fastmath=False, error_model="numpy", inline="always")


@njit(**_STEP)
def _background(img):  # pragma: no cover - numba
    """The image's smallest pixel."""
    b = img[0, 0]
    for y in range(img.shape[0]):
        irow = img[y]
        for x in range(img.shape[1]):
            b = min(b, irow[x])
    return b


@njit(**_STEP)
def _load_kernels(K, b, f, segp, Kf, arow0):  # pragma: no cover - numba
    """The kernels flipped for the column-wise convolution, and the background's response.

    ``Kf[i*segp + jj*k + kk] = K[kk, i*f + f-1-jj]`` (one kernel row of every kernel per
    ``segp`` values, zeros after); ``arow0[pc*k + kk] = b * sum(K[kk])`` for every column.
    """
    nk = K.shape[0]
    ff = K.shape[1]
    seg = f * nk
    r = arow0.shape[0] // nk
    for kk in range(nk):
        krow = K[kk]
        s = 0.0
        for j in range(ff):
            s += krow[j]
        v = b * s
        for pc in range(r):
            arow0[pc * nk + kk] = v
        for i in range(f):
            kfr = Kf[i * segp:i * segp + seg]
            kin = krow[i * f:i * f + f]
            for jj in range(f):
                kfr[jj * nk + kk] = kin[f - 1 - jj]


@njit(**_STEP)
def _convolve(img, b, f, nk, segp, Kf, arow0, colv, coly, A):  # pragma: no cover - numba
    """Every kernel's response at every position, ``A[p*k + kk]``, as
    ``b * rowsum(K) + conv(img - b)``, gathering the image column by column.

    The pixels of a column that fall in one window's rows are added to their run of ``A``
    four at a time (one load and store of the run per four pixels), then the last one to
    three. These loops stay written out here: moved into an inlined helper of their own,
    deep in this loop nest, they ran markedly slower.
    """
    S = img.shape[0]
    r = S - f + 1
    rowlen = r * nk
    for pr in range(r):
        a = A[pr * rowlen:(pr + 1) * rowlen]
        for t in range(rowlen):
            a[t] = arow0[t]
    for x in range(S):
        cnt = 0                                 # the column's non-background pixels, top
        for y in range(S):                      # to bottom, without a branch
            v = img[y, x] - b
            colv[cnt] = v
            coly[cnt] = y
            cnt += 1 if v != 0.0 else 0
        if cnt == 0:
            continue
        for c in range(cnt, cnt + 4):
            colv[c] = 0.0
            coly[c] = 2 * S + f                 # beyond any window: the zero row of Kf
        jj_lo = max(0, f - 1 - x)
        jj_hi = min(f - 1, r + f - 2 - x)
        if jj_hi == f - 1:
            length = segp - jj_lo * nk          # to the padded end: the zeros add nothing
        else:
            length = (jj_hi - jj_lo + 1) * nk
        col0 = (x - f + 1 + jj_lo) * nk
        kofs = jj_lo * nk
        m0 = 0
        m1 = 0
        for pr in range(max(0, coly[0] - f + 1), min(r - 1, coly[cnt - 1]) + 1):
            # the pixels of this column in rows pr .. pr+f-1 all add to one run of A
            # (positions (pr, x-f+1 .. x), all kernels)
            while coly[m0] < pr:
                m0 += 1
            while coly[m1] < pr + f:
                m1 += 1
            if m1 == m0:
                continue
            base = pr * rowlen + col0
            a = A[base:base + length]
            m = m0
            while m + 4 <= m1:
                o0 = (coly[m] - pr) * segp + kofs
                o1 = (coly[m + 1] - pr) * segp + kofs
                o2 = (coly[m + 2] - pr) * segp + kofs
                o3 = (coly[m + 3] - pr) * segp + kofs
                v0 = colv[m]
                v1 = colv[m + 1]
                v2 = colv[m + 2]
                v3 = colv[m + 3]
                k0 = Kf[o0:o0 + length]
                k1 = Kf[o1:o1 + length]
                k2 = Kf[o2:o2 + length]
                k3 = Kf[o3:o3 + length]
                for t in range(length):
                    acc = a[t] + v0 * k0[t]
                    acc += v1 * k1[t]
                    acc += v2 * k2[t]
                    a[t] = acc + v3 * k3[t]
                m += 4
            left = m1 - m
            if left == 3:
                o0 = (coly[m] - pr) * segp + kofs
                o1 = (coly[m + 1] - pr) * segp + kofs
                o2 = (coly[m + 2] - pr) * segp + kofs
                v0 = colv[m]
                v1 = colv[m + 1]
                v2 = colv[m + 2]
                k0 = Kf[o0:o0 + length]
                k1 = Kf[o1:o1 + length]
                k2 = Kf[o2:o2 + length]
                for t in range(length):
                    acc = a[t] + v0 * k0[t]
                    acc += v1 * k1[t]
                    a[t] = acc + v2 * k2[t]
            elif left == 2:
                o0 = (coly[m] - pr) * segp + kofs
                o1 = (coly[m + 1] - pr) * segp + kofs
                v0 = colv[m]
                v1 = colv[m + 1]
                k0 = Kf[o0:o0 + length]
                k1 = Kf[o1:o1 + length]
                for t in range(length):
                    acc = a[t] + v0 * k0[t]
                    a[t] = acc + v1 * k1[t]
            elif left == 1:
                o0 = (coly[m] - pr) * segp + kofs
                v0 = colv[m]
                k0 = Kf[o0:o0 + length]
                for t in range(length):
                    a[t] = a[t] + v0 * k0[t]


@njit(**_STEP)
def _pool(A, nk, winner, l0):  # pragma: no cover - numba
    """``winner[p]``, the first kernel of largest response, and ``l0[p]``, that response;
    four positions at a time with selects, so that their comparison chains overlap."""
    P = l0.shape[0]
    p = 0
    while p < P:
        if p + 4 <= P:
            i0 = p * nk
            q0 = A[i0:i0 + nk]
            q1 = A[i0 + nk:i0 + 2 * nk]
            q2 = A[i0 + 2 * nk:i0 + 3 * nk]
            q3 = A[i0 + 3 * nk:i0 + 4 * nk]
            b0 = q0[0]
            b1 = q1[0]
            b2 = q2[0]
            b3 = q3[0]
            w0 = 0
            w1 = 0
            w2 = 0
            w3 = 0
            for kk in range(1, nk):
                a0 = q0[kk]
                a1 = q1[kk]
                a2 = q2[kk]
                a3 = q3[kk]
                w0 = kk if a0 > b0 else w0
                b0 = a0 if a0 > b0 else b0
                w1 = kk if a1 > b1 else w1
                b1 = a1 if a1 > b1 else b1
                w2 = kk if a2 > b2 else w2
                b2 = a2 if a2 > b2 else b2
                w3 = kk if a3 > b3 else w3
                b3 = a3 if a3 > b3 else b3
            winner[p] = w0
            winner[p + 1] = w1
            winner[p + 2] = w2
            winner[p + 3] = w3
            l0[p] = b0
            l0[p + 1] = b1
            l0[p + 2] = b2
            l0[p + 3] = b3
            p += 4
        else:
            q0 = A[p * nk:p * nk + nk]
            b0 = q0[0]
            w0 = 0
            for kk in range(1, nk):
                if q0[kk] > b0:
                    b0 = q0[kk]
                    w0 = kk
            winner[p] = w0
            l0[p] = b0
            p += 1


@njit(**_STEP)
def _pooled_tanh(l0, s0):  # pragma: no cover - numba
    """``l0 = tanh(l0)`` in place and ``s0 = 1 - tanh(l0)**2`` (tanh applied twice)."""
    P = l0.shape[0]
    amax = 0.0
    for p in range(P):
        amax = max(amax, abs(l0[p]))
    if amax <= TANH_RANGE:
        for p in range(P):
            l0[p] = tanh_pade(l0[p])
    else:
        for p in range(P):
            l0[p] = np.tanh(l0[p])
    for p in range(P):                          # |l0| < 1
        tt = tanh_pade(l0[p])
        s0[p] = 1.0 - tt * tt


@njit(**_STEP)
def _hidden_sum(l0, W1, pending, l0_prev, gold_prev, alpha, z1):  # pragma: no cover - numba
    """``z1 = l0 @ W1``; when ``pending``, the previous image's ``W1`` update is applied to
    each row of ``W1`` in the same pass, just before the row is read."""
    H = z1.shape[0]
    for h in range(H):
        z1[h] = 0.0
    for p in range(l0.shape[0]):
        c = l0[p]
        wr = W1[p]
        if pending:
            cp = l0_prev[p]
            for h in range(H):
                wv = wr[h] - alpha * (cp * gold_prev[h])
                wr[h] = wv
                z1[h] += c * wv
        else:
            for h in range(H):
                z1[h] += c * wr[h]


@njit(**_STEP)
def _hidden_activation(z1, mask, dropout, l1, s1):  # pragma: no cover - numba
    """``l1 = tanh(z1)`` (times ``2m`` with dropout) and ``s1 = 1 - tanh(l1)**2`` (times ``m``)."""
    H = z1.shape[0]
    for h in range(H):
        l1[h] = tanh_any(z1[h])
    if dropout:
        for h in range(H):
            l1[h] = l1[h] * (2.0 * mask[h])
    amax = 0.0
    for h in range(H):
        amax = max(amax, abs(l1[h]))
    if amax <= TANH_RANGE:                     # |l1| <= 2 always; the test is for safety
        for h in range(H):
            th = tanh_pade(l1[h])
            s1[h] = 1.0 - th * th
    else:
        for h in range(H):
            th = np.tanh(l1[h])
            s1[h] = 1.0 - th * th
    if dropout:
        for h in range(H):
            s1[h] = s1[h] * mask[h]


@njit(**_STEP)
def _output(l1, W2, t, l2, g2):  # pragma: no cover - numba
    """``l2 = exp(z)/sum(exp(z))`` (no max-subtraction), ``g2 = d * s2`` with ``d = l2 - t``
    and ``s2`` the softmax of ``l2`` times one minus it; returns ``sum(d**2)``."""
    H = l1.shape[0]
    C = l2.shape[0]
    es = 0.0
    for o in range(C):
        z = 0.0
        for h in range(H):
            z += l1[h] * W2[h, o]
        e = np.exp(z)
        l2[o] = e
        es += e
    for o in range(C):
        l2[o] = l2[o] / es
    es = 0.0
    for o in range(C):
        es += np.exp(l2[o])
    err = 0.0
    for o in range(C):
        d = l2[o] - t[o]
        err += d * d
        sm = np.exp(l2[o]) / es
        g2[o] = d * (sm * (1.0 - sm))
    return err


@njit(**_STEP)
def _update_w2(l1, s1, g2, alpha, W2, gold, g1):  # pragma: no cover - numba
    """``gold = (W2 @ g2) * s1`` with the old ``W2`` (for ``W1``'s update), then
    ``W2 -= alpha * outer(l1, g2)``, then ``g1 = (W2 @ g2) * s1`` with the new ``W2``."""
    C = g2.shape[0]
    for h in range(l1.shape[0]):
        t_old = 0.0
        t_new = 0.0
        lh = l1[h]
        for o in range(C):
            wv = W2[h, o]
            t_old += wv * g2[o]
            wv = wv - alpha * (lh * g2[o])
            W2[h, o] = wv
            t_new += wv * g2[o]
        gold[h] = t_old * s1[h]
        g1[h] = t_new * s1[h]


@njit(**_STEP)
def _pooled_gradient(W1, g1, gold, l0, s0, alpha, g0):  # pragma: no cover - numba
    """``g0 = (W1_new @ g1) * s0`` with ``W1_new = W1 - alpha * outer(l0, gold)``, formed as
    ``W1 @ g1 - alpha * l0 * (gold . g1)`` while ``W1`` still holds the old weights."""
    P = g0.shape[0]
    gg = 0.0
    for h in range(g1.shape[0]):
        gg += gold[h] * g1[h]
    p = 0
    while p < P:
        if p + 4 <= P:
            d0, d1, d2, d3 = dot4(W1[p], W1[p + 1], W1[p + 2], W1[p + 3], g1)
            g0[p] = (d0 - alpha * (l0[p] * gg)) * s0[p]
            g0[p + 1] = (d1 - alpha * (l0[p + 1] * gg)) * s0[p + 1]
            g0[p + 2] = (d2 - alpha * (l0[p + 2] * gg)) * s0[p + 2]
            g0[p + 3] = (d3 - alpha * (l0[p + 3] * gg)) * s0[p + 3]
            p += 4
        else:
            g0[p] = (dot(W1[p], g1) - alpha * (l0[p] * gg)) * s0[p]
            p += 1


@njit(**_STEP)
def _update_kernels(img, winner, g0, alpha, f, strips, dK, K):  # pragma: no cover - numba
    """``K[k] -= alpha * sum over the positions k wins of g0[p] * window_p``, the windows
    read as contiguous runs of column strips (``strips[pc, y*f + j] = img[y, pc + j]``)."""
    S = img.shape[0]
    r = S - f + 1
    nk = K.shape[0]
    ff = K.shape[1]
    for pc in range(r):
        for y in range(S):
            for j in range(f):
                strips[pc, y * f + j] = img[y, pc + j]
    for kk in range(nk):
        for j in range(ff):
            dK[kk, j] = 0.0
    for pr in range(r):
        for pc in range(r):
            p = pr * r + pc
            gp = g0[p]
            drow = dK[winner[p]]
            win = strips[pc, pr * f:pr * f + ff]
            for j in range(ff):
                drow[j] += gp * win[j]
    for kk in range(nk):
        for j in range(ff):
            K[kk, j] -= alpha * dK[kk, j]


@njit(**_STEP)
def _apply_w1(l0_prev, gold_prev, alpha, W1):  # pragma: no cover - numba
    """``W1 -= alpha * outer(l0_prev, gold_prev)``: the last image's deferred update."""
    for p in range(l0_prev.shape[0]):
        cp = l0_prev[p]
        wr = W1[p]
        for h in range(gold_prev.shape[0]):
            wr[h] = wr[h] - alpha * (cp * gold_prev[h])


@njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def train_chunk(X, T, start, stop, K, W1, W2, masks, dropout, alpha, f):  # pragma: no cover - numba
    """Train on images ``start:stop`` in order; update ``K``, ``W1``, ``W2`` in place.

    Parameters
    ----------
    X : ndarray, (N, S, S) float64, C-contiguous
    T : ndarray, (N, C) float64, one-hot targets
    start, stop : int
    K : ndarray, (k, f*f);  W1 : ndarray, (P, H);  W2 : ndarray, (H, C)
    masks : ndarray, (stop - start, H) int64
        Dropout masks (read only when ``dropout``).
    dropout : bool
    alpha : float
    f : int
        Kernel side.

    Returns
    -------
    float
        Sum over the chunk's images of ``sum(d**2)``, each ``d`` taken before its update.
    """
    S = X.shape[1]
    nk = K.shape[0]
    r = S - f + 1
    P = r * r
    H = W1.shape[1]
    C = W2.shape[1]
    segp = ((f * nk + 15) // 16) * 16   # a kernel row of every kernel, padded to whole vectors

    A = np.zeros(P * nk + segp)       # (P, k) flattened, plus slack for padded runs
    Kf = np.zeros((f + 1) * segp)     # flipped kernels, and a last row of zeros
    arow0 = np.empty(r * nk)
    colv = np.zeros(S + 4)            # one column's non-background values (minus b) ...
    coly = np.empty(S + 4, np.int64)  # ... and their rows, then sentinels
    winner = np.empty(P, np.int64)
    l0 = np.empty(P)
    s0 = np.empty(P)
    g0 = np.empty(P)
    l0_prev = np.empty(P)
    z1 = np.empty(H)
    l1 = np.empty(H)
    s1 = np.empty(H)
    gold = np.empty(H)
    gold_prev = np.empty(H)
    g1 = np.empty(H)
    l2 = np.empty(C)
    g2 = np.empty(C)
    strips = np.empty((r, S * f))
    dK = np.empty((nk, f * f))
    total = 0.0
    pending = False                   # W1 -= alpha*outer(l0_prev, gold_prev) still to apply

    for n in range(start, stop):
        img = X[n]
        b = _background(img)
        _load_kernels(K, b, f, segp, Kf, arow0)
        _convolve(img, b, f, nk, segp, Kf, arow0, colv, coly, A)
        _pool(A, nk, winner, l0)
        _pooled_tanh(l0, s0)
        _hidden_sum(l0, W1, pending, l0_prev, gold_prev, alpha, z1)
        _hidden_activation(z1, masks[n - start if dropout else 0], dropout, l1, s1)
        total += _output(l1, W2, T[n], l2, g2)
        _update_w2(l1, s1, g2, alpha, W2, gold, g1)
        _pooled_gradient(W1, g1, gold, l0, s0, alpha, g0)
        for p in range(P):            # W1's update waits for the next pass over W1
            l0_prev[p] = l0[p]
        for h in range(H):
            gold_prev[h] = gold[h]
        pending = True
        _update_kernels(img, winner, g0, alpha, f, strips, dK, K)
    if pending:
        _apply_w1(l0_prev, gold_prev, alpha, W1)
    return total
