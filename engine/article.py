"""The article's training mode: per-image SGD with every quirk, exact and fast.

:class:`ArticleStepper` runs the article's loop (``docs/article-algorithm.md``) one image
at a time, in order, on ``model.params`` in place:

- forward: ``A = K F``; the winner kernel and ``l0 = tanh(max_k A)`` at each position;
  ``l1 = tanh(l0 W1)`` (times ``2m`` with dropout); ``l2 = exp(z)/sum(exp(z))``;
- derivatives at the activations: ``s2 = softmax(l2)(1 - softmax(l2))``,
  ``s1 = 1 - tanh(l1)**2`` (times ``m`` with dropout), ``s0 = 1 - tanh(l0)**2``; only the
  diagonal of the softmax Jacobian;
- ``W2`` then ``W1`` are updated first; the kernel gradient then uses the **updated**
  weights: ``g1 = (W2 g2) s1``, ``g0 = (W1 g1) s0``, ``dK[k] = sum_{p: winner = k} g0[p] F[:, p]``;
- the error of an image is ``sum(d**2)`` with ``d = l2 - y`` taken before its update.

The work is done by a numba kernel that handles a whole chunk of images per call (about
41 microseconds of CPU an image on the project's 2-core machine, 43.5 before the hidden
layer's vectorised tanh and the branch-free gather below, against about 1 ms for the plain
loop and the 3.5 ms the article's loop takes; see ``benchmarks/article_speed.py``).
It computes the same quantities as the plain loop (``tests/oracle_article.py``) with
rearrangements that are exact in arithmetic and change only rounding (parameters agree to
about 1e-15 after hundreds of images, and a full 20,000-image run reproduces the
article-mode figures to every printed digit):

- the convolution uses ``A = b * rowsum(K) + conv(image - b)`` with ``b`` the image's
  smallest pixel (the background), over a ``(positions, kernels)`` layout with the kernels
  flipped, so that an image pixel adds ``value * Kf[kernel row]`` to one contiguous run of
  ``A`` per kernel row. The pixels are gathered by image column: for a column ``x`` and an
  output row ``pr``, the non-background pixels of rows ``pr .. pr+f-1`` all add to the same
  run (positions ``(pr, x-f+1 .. x)``), so they are added four at a time, with one load
  and one store of ``A`` per four pixels instead of one per pixel (a missing fourth term
  reads a row of zeros). About 14 us an image (~86k multiply-adds): the loop is bound by
  loads and stores, not arithmetic;
- the "pooling" (first maximum over the kernels) follows four positions at once with
  selects rather than branches, so the four comparison chains overlap;
- ``tanh`` of arguments within [-2, 2] (``l0`` when the responses are small, and the
  second tanh of ``s0`` and ``s1``) uses a rational form accurate to a few units in the
  last place (at most 3.5 against a long-double tanh; libm's: 1), which vectorises
  (libm's ``tanh`` otherwise); the hidden layer's ``tanh`` takes any argument without a
  branch (:func:`_tanh_any`: the rational form within [-2, 2], ``1 - 2/(exp(2|x|) + 1)``
  with a vectorisable ``exp`` beyond, within 0.6 units there), one vector loop instead of
  ``H`` calls to libm (about 1.2 us an image);
- the non-background pixels of a column are gathered without a branch (each is stored,
  then kept by advancing the count or not): about 1.3 us an image;
- ``g0 = (W1_new @ g1) * s0`` is formed as ``W1 @ g1 - alpha * l0 * (gold . g1)`` before
  ``W1`` is written, and the ``W1`` update itself is applied during the next pass over
  ``W1`` (the next image's hidden layer), and at the end of the chunk: two passes over
  ``W1`` an image instead of three; ``W1`` holds exactly the values of the eager update.
  ``W1`` (353 KB) lives in the L2 cache and the two passes are bound by its bandwidth
  (about 9-12 us for the read-and-write pass, 6 us for the read-only one);
- the row dot products ``W1[p] . g1`` are taken four rows at a time and let the compiler
  reorder each sum (``reassoc``, as a BLAS dot does); everything else is compiled with
  ``fastmath=False``;
- ``dK[k]`` is the sum of ``g0[p] * window_p`` over the positions ``k`` wins, each window
  read as one contiguous run from column strips of the image.

Tried and not kept (no gain, or slower, in CPU time over alternated runs): the kernel
gradient summed in registers per kernel over its positions sorted by winner, or with each
window row read straight from the image (numba builds a slice per window row: slower);
runs of positions with the same winner added to ``dK`` four at a time; strips built by
shifting the previous one; four rows of ``W1`` per pass over ``z1``, or two ``W1``
updates applied in one writing pass every other image (the passes are bound by the L2
cache's bandwidth, and writing costs most: a pure read-and-write pass of ``W1`` takes
about 7 us, a read-only one 4.5 us); ``l0``'s tanh through :func:`_tanh_any` always (2 us
slower while the responses stay within [-2, 2]) or in place of libm's beyond (3 us slower
in a later iteration, though it takes 6 ns a value against libm's 14 in a loop of its
own); loops of their own for the last one to three pixels of a window and a table in
place of the ``while`` loops in the convolution; ``l1 @ W2`` a row of ``W2`` at a time;
one loop for ``l0``'s tanh and ``s0``; the kernel size as a compile-time constant through
``numba.literally`` (the literal dispatch costs milliseconds a call).

Array indices inside the kernel go through slices and ``range`` loop variables: an index
computed otherwise (``A[base + t]``) gets numba's negative-index wraparound test, which
stops LLVM from vectorising the loop (it doubled the convolution's time when tried).

Dropout masks are drawn as the article does, ``randint(0, 2, (1, H))`` per image from
``rng``; one ``rng.randint(0, 2, (n, H))`` per chunk draws exactly the same numbers (the
legacy generator spends one 32-bit draw per value either way), so a
``RandomState(S)`` that drew the initial weights (:meth:`engine.model.Model.article_init`)
reproduces the article's run after ``np.random.seed(S)``.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
from numba import njit

from .model import Model
from .training import train

__all__ = ["ArticleStepper", "train_article", "article_rng"]


# tanh(x) = x P(x^2) / Q(x^2): the [15/14] convergent of Lambert's continued fraction
# x / (1 + x^2/(3 + x^2/(5 + ...))), exact integer coefficients (all below 2**53). On
# |x| <= 2 its relative error is under 3e-16 (about one unit in the last place, like libm's
# tanh); unlike a call to libm it vectorises. Used only where |x| <= _TANH_RANGE.
_TANH_RANGE = 2.0
_TP = (6190283353629375.0, 924984868933125.0, 34785755754750.0, 496939367925.0,
       3055402350.0, 7936110.0, 7140.0, 1.0)
_TQ = (6190283353629375.0, 2988412653476250.0, 205552193096250.0, 4638100767300.0,
       43212118950.0, 174594420.0, 278460.0, 120.0)


@njit(cache=True, fastmath=False, inline="always")
def _tanh_pade(x):  # pragma: no cover - numba
    """tanh(x) for |x| <= 2 to about one unit in the last place (see _TP, _TQ)."""
    u = x * x
    num = ((((((_TP[7] * u + _TP[6]) * u + _TP[5]) * u + _TP[4]) * u + _TP[3]) * u
            + _TP[2]) * u + _TP[1]) * u + _TP[0]
    den = ((((((_TQ[7] * u + _TQ[6]) * u + _TQ[5]) * u + _TQ[4]) * u + _TQ[3]) * u
            + _TQ[2]) * u + _TQ[1]) * u + _TQ[0]
    return x * num / den


# tanh for any argument, branch-free so that a loop of it vectorises: the rational form
# above for |x| <= 2, and beyond ``1 - 2/(exp(2|x|) + 1)`` with the sign of x. There the
# exponential is ``2**k * exp(r)``, ``k = round(u / ln 2)``, ``r = u - k ln 2`` (ln 2 in two
# parts, |r| <= 0.35), ``exp(r)`` by its Taylor polynomial of degree 12 (truncation under
# 2e-16) and ``2**k`` built from the bits of ``k`` by selects (exact). An error ``e`` in the
# exponential moves the result by under ``0.04 e``: on 2 < |x| it is within 0.6 units in
# the last place of the true tanh (libm's: 0.9); ``2|x|`` is capped at 40, where tanh is
# 1.0 in double precision.
_LN2HI = 6.93147180369123816490e-01   # ln 2 to 32 bits: k * _LN2HI is exact for k < 2**20
_LN2LO = 1.90821492927058770002e-10
_INVLN2 = 1.44269504088896338700e+00


@njit(cache=True, fastmath=False, inline="always")
def _tanh_any(x):  # pragma: no cover - numba
    """tanh(x) for any float x, without branches (see _LN2HI)."""
    a = abs(x)
    u = min(2.0 * a, 40.0)
    k = np.floor(u * _INVLN2 + 0.5)
    r = (u - k * _LN2HI) - k * _LN2LO
    e = 1.0 + r * (1.0 + r * (1.0 / 2.0 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (
        1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0 + r * (1.0 / 40320.0 + r * (
            1.0 / 362880.0 + r * (1.0 / 3628800.0 + r * (1.0 / 39916800.0 + r * (
                1.0 / 479001600.0))))))))))))
    s = 1.0
    big = k >= 32.0
    s = s * (4294967296.0 if big else 1.0)
    k = k - (32.0 if big else 0.0)
    big = k >= 16.0
    s = s * (65536.0 if big else 1.0)
    k = k - (16.0 if big else 0.0)
    big = k >= 8.0
    s = s * (256.0 if big else 1.0)
    k = k - (8.0 if big else 0.0)
    big = k >= 4.0
    s = s * (16.0 if big else 1.0)
    k = k - (4.0 if big else 0.0)
    big = k >= 2.0
    s = s * (4.0 if big else 1.0)
    k = k - (2.0 if big else 0.0)
    s = s * (2.0 if k >= 1.0 else 1.0)
    t = 1.0 - 2.0 / (e * s + 1.0)
    t = t if x >= 0.0 else -t
    return _tanh_pade(x) if a <= _TANH_RANGE else t


@njit(cache=True, fastmath={"reassoc"})
def _dot(a, b):  # pragma: no cover - numba
    """``sum(a * b)`` for two 1-D arrays of the same length.

    One of the two places where the summation order is left to the compiler (``reassoc``
    only, so it vectorises, as a BLAS dot product does; the other is :func:`_dot4`); every
    other operation of the kernel is compiled with ``fastmath=False``. A reordered sum of
    ``H`` terms differs from the sequential one by a few units in the last place.
    """
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i]
    return s


@njit(cache=True, fastmath={"reassoc"})
def _dot4(a0, a1, a2, a3, v):  # pragma: no cover - numba
    """The four sums ``a_i . v`` for four 1-D arrays ``a_i`` of the length of ``v``.

    As :func:`_dot` (``reassoc`` only), with one pass over ``v`` for four rows of ``W1``.
    """
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    for h in range(v.shape[0]):
        x = v[h]
        s0 += a0[h] * x
        s1 += a1[h] * x
        s2 += a2[h] * x
        s3 += a3[h] * x
    return s0, s1, s2, s3


@njit(cache=True, fastmath=False, error_model="numpy", nogil=True)
def _train_chunk(X, T, start, stop, K, W1, W2, masks, dropout, alpha):  # pragma: no cover - numba
    """Train on images ``start:stop`` in order; update ``K``, ``W1``, ``W2`` in place.

    Parameters
    ----------
    X : ndarray, (N, S, S) float64, C-contiguous
    T : ndarray, (N, C) float64, targets
    start, stop : int
    K : ndarray, (k, f*f);  W1 : ndarray, (P, H);  W2 : ndarray, (H, C)
    masks : ndarray, (stop - start, H) int64
        Dropout masks (read only when ``dropout``).
    dropout : bool
    alpha : float

    Returns
    -------
    float
        Sum over the chunk's images of ``sum(d**2)``.
    """
    S = X.shape[1]
    nk = K.shape[0]
    ff = K.shape[1]
    f = 1
    while f * f < ff:
        f += 1
    r = S - f + 1
    P = r * r
    H = W1.shape[1]
    C = W2.shape[1]
    seg = f * nk                      # one kernel row, all kernels: (f, k)
    segp = ((seg + 15) // 16) * 16    # padded with zeros to a multiple of 16 (whole vector loops)
    rowlen = r * nk                   # one row of positions, all kernels

    A = np.zeros(P * nk + segp)       # (P, k) flattened, A[p*nk + kk], plus slack for padded runs
    Kf = np.zeros((f + 1) * segp)     # Kf[i*segp + jj*nk + kk] = K[kk, i*f + f-1-jj]; zeros after
    #                                   seg, and a last row of zeros (a padding term)
    zrow = f * segp
    arow0 = np.empty(rowlen)          # b * rowsum(K) repeated over a row of positions
    colv = np.zeros(S + 4)            # one image column's non-background values (minus b) ...
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
    dK = np.empty((nk, ff))
    total = 0.0
    pending = False                   # W1 -= alpha*outer(l0_prev, gold_prev) still to apply

    for n in range(start, stop):
        img = X[n]
        # ---- convolution: A = b*rowsum(K) + conv(img - b), gathering per image column
        b = img[0, 0]
        for y in range(S):
            irow = img[y]
            for x in range(S):
                b = min(b, irow[x])
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
        for pr in range(r):
            a = A[pr * rowlen:(pr + 1) * rowlen]
            for t in range(rowlen):
                a[t] = arow0[t]
        for x in range(S):
            # the column's non-background pixels, top to bottom
            cnt = 0
            for y in range(S):                  # without a branch (stored, then kept or not)
                v = img[y, x] - b
                colv[cnt] = v
                coly[cnt] = y
                cnt += 1 if v != 0.0 else 0
            if cnt == 0:
                continue
            for c in range(cnt, cnt + 4):
                colv[c] = 0.0
                coly[c] = 2 * S + f               # beyond any window: the zero row of Kf
            jj_lo = max(0, f - 1 - x)
            jj_hi = min(f - 1, r + f - 2 - x)
            if jj_hi == f - 1:
                # run to the padded end: the zeros add nothing to the next positions
                length = segp - jj_lo * nk
            else:
                length = (jj_hi - jj_lo + 1) * nk
            col0 = (x - f + 1 + jj_lo) * nk
            kofs = jj_lo * nk
            m0 = 0
            m1 = 0
            for pr in range(max(0, coly[0] - f + 1), min(r - 1, coly[cnt - 1]) + 1):
                # the pixels of this column in rows pr .. pr+f-1 all add to the same run of
                # A (positions (pr, x-f+1 .. x), all kernels): four at a time, one store
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
                # the last one to three pixels of the window: loops of their own (the same
                # sums as padding with zero terms, without their loads)
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
        # ---- "pooling" over kernels (winner = first maximum), four positions at a time
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
        # ---- tanh, and s0 = 1 - tanh(l0)**2
        amax = 0.0
        for p in range(P):
            amax = max(amax, abs(l0[p]))
        if amax <= _TANH_RANGE:
            for p in range(P):
                l0[p] = _tanh_pade(l0[p])
        else:
            for p in range(P):
                l0[p] = np.tanh(l0[p])
        for p in range(P):                      # |l0| < 1
            tt = _tanh_pade(l0[p])
            s0[p] = 1.0 - tt * tt
        # ---- hidden layer, fused with the previous image's pending W1 update
        for h in range(H):
            z1[h] = 0.0
        for p in range(P):
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
        pending = False
        amax = 0.0
        for h in range(H):
            l1[h] = _tanh_any(z1[h])
        if dropout:
            for h in range(H):
                l1[h] = l1[h] * (2.0 * masks[n - start, h])
        for h in range(H):
            amax = max(amax, abs(l1[h]))
        if amax <= _TANH_RANGE:                 # |l1| <= 2 always; the test is for safety
            for h in range(H):
                th = _tanh_pade(l1[h])
                s1[h] = 1.0 - th * th
        else:
            for h in range(H):
                th = np.tanh(l1[h])
                s1[h] = 1.0 - th * th
        if dropout:
            for h in range(H):
                s1[h] = s1[h] * masks[n - start, h]
        # ---- output: softmax without max-subtraction
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
        # ---- error and derivatives at the activations (softmax applied twice)
        es = 0.0
        for o in range(C):
            es += np.exp(l2[o])
        err = 0.0
        for o in range(C):
            d = l2[o] - T[n, o]
            err += d * d
            sm = np.exp(l2[o]) / es
            g2[o] = d * (sm * (1.0 - sm))
        total += err
        # ---- W2: gradient for W1 with the old W2, then update W2, then g1 with the new W2
        for h in range(H):
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
        # ---- g0 = (W1_new @ g1) * s0 with W1_new = W1 - alpha*outer(l0, gold), the update
        #      itself is deferred to the next pass over W1 (the next image's hidden layer)
        gg = 0.0
        for h in range(H):
            gg += gold[h] * g1[h]
        p = 0
        while p < P:
            if p + 4 <= P:
                d0, d1, d2, d3 = _dot4(W1[p], W1[p + 1], W1[p + 2], W1[p + 3], g1)
                g0[p] = (d0 - alpha * (l0[p] * gg)) * s0[p]
                g0[p + 1] = (d1 - alpha * (l0[p + 1] * gg)) * s0[p + 1]
                g0[p + 2] = (d2 - alpha * (l0[p + 2] * gg)) * s0[p + 2]
                g0[p + 3] = (d3 - alpha * (l0[p + 3] * gg)) * s0[p + 3]
                p += 4
            else:
                g0[p] = (_dot(W1[p], g1) - alpha * (l0[p] * gg)) * s0[p]
                p += 1
        for p in range(P):
            l0_prev[p] = l0[p]
        for h in range(H):
            gold_prev[h] = gold[h]
        pending = True
        # ---- kernel gradient: dK[k] = sum_{p: winner=k} g0[p] * window_p, with the windows
        #      read from column strips (strip[pc, y*f + j] = img[y, pc + j]) so that the window
        #      at (pr, pc) is the contiguous run strip[pc, pr*f : pr*f + f*f]
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
    if pending:
        for p in range(P):
            cp = l0_prev[p]
            wr = W1[p]
            for h in range(H):
                wr[h] = wr[h] - alpha * (cp * gold_prev[h])
    return total


class ArticleStepper:
    """The article's per-image SGD as a :class:`engine.training.Stepper`.

    Parameters
    ----------
    model : Model
        Float64 parameters ``K`` (k, f*f), ``W1`` (P, H), ``W2`` (H, C), no biases;
        trained in place.
    X : ndarray, (N, S, S)
        Normalised images (the article: ``(X - X.mean()) / X.var()``).
    Y : ndarray, (N,) int labels or (N, C) one-hot rows
    alpha : float
        Learning rate (the article: 0.01).
    dropout : bool
        The article's dropout: a mask ``rng.randint(0, 2, (1, H))`` per image,
        ``l1 *= 2m`` and ``s1 *= m``.
    rng : numpy.random.RandomState or None
        Source of the dropout masks; continue the generator that drew the initial
        weights to reproduce the article. ``None``: NumPy's global generator (as the
        article's code).
    chunk : int
        Images per kernel call; progress is reported and the stop flag checked
        between chunks.

    Attributes
    ----------
    size : int
        ``N``, the images per iteration.
    """

    def __init__(self, model: Model, X: np.ndarray, Y: np.ndarray, *, alpha: float = 0.01,
                 dropout: bool = False, rng: np.random.RandomState | None = None,
                 chunk: int = 256):
        c = model.config
        if c.biases:
            raise ValueError("the article's training mode has no biases: this model's "
                             "configuration has biases=True; use the backprop mode or a "
                             "configuration without biases")
        for key in ("K", "W1", "W2"):
            a = model.params[key]
            if a.dtype != np.float64:
                raise ValueError(f"the article's training mode needs float64 parameters; "
                                 f"{key} holds {a.dtype} (use model.astype(np.float64))")
            if not a.flags.c_contiguous or not a.flags.writeable:
                model.params[key] = np.ascontiguousarray(a).copy()
        X = np.asarray(X)
        if X.ndim != 3 or X.shape[1:] != (c.image_size, c.image_size):
            raise ValueError(f"images must have shape (N, {c.image_size}, {c.image_size}), "
                             f"not {X.shape}")
        if X.shape[0] == 0:
            raise ValueError("there are no training images")
        X = np.ascontiguousarray(X, dtype=np.float64)
        if not np.all(np.isfinite(X)):
            raise ValueError("the training images hold NaN or infinity")
        Y = np.asarray(Y)
        n = X.shape[0]
        if Y.ndim == 1:
            if Y.shape[0] != n:
                raise ValueError(f"{Y.shape[0]} labels for {n} images")
            if not np.issubdtype(Y.dtype, np.integer):
                raise ValueError(f"labels must be whole numbers, not {Y.dtype}")
            if Y.min() < 0 or Y.max() >= c.classes:
                raise ValueError(f"labels must lie in 0..{c.classes - 1}, "
                                 f"found {Y.min()}..{Y.max()}")
            T = np.zeros((n, c.classes))
            T[np.arange(n), Y] = 1.0
        elif Y.ndim == 2:
            if Y.shape != (n, c.classes):
                raise ValueError(f"one-hot targets must have shape ({n}, {c.classes}), "
                                 f"not {Y.shape}")
            T = np.ascontiguousarray(Y, dtype=np.float64)
        else:
            raise ValueError(f"targets must be labels (N,) or one-hot rows (N, {c.classes}), "
                             f"not shape {Y.shape}")
        if int(chunk) < 1:
            raise ValueError(f"chunk must be at least 1, not {chunk}")
        self.model = model
        self.X = X
        self.T = T
        self.alpha = float(alpha)
        self.dropout = bool(dropout)
        self.rng = np.random.mtrand._rand if rng is None else rng
        self.chunk = int(chunk)
        self.size = n
        self._no_mask = np.zeros((1, c.hidden), dtype=np.int64)

    def epoch(self, iteration: int) -> Iterator[tuple[int, float, float]]:
        """Train one pass over the images, in order.

        Parameters
        ----------
        iteration : int
            The iteration number (the article's order does not depend on it).

        Yields
        ------
        (done, sq_error_sum, sq_error_sum) : (int, float, float)
            Images done so far in this iteration and the sum of their ``sum(d**2)``
            (the article's loss is the squared error, so it is given twice).
        """
        p = self.model.params
        K, W1, W2 = p["K"], p["W1"], p["W2"]
        H = W1.shape[1]
        total = 0.0
        for start in range(0, self.size, self.chunk):
            stop = min(start + self.chunk, self.size)
            if self.dropout:
                masks = np.ascontiguousarray(self.rng.randint(0, 2, (stop - start, H)),
                                             dtype=np.int64)
            else:
                masks = self._no_mask
            total += _train_chunk(self.X, self.T, start, stop, K, W1, W2, masks,
                                  self.dropout, self.alpha)
            yield stop, total, total


def article_rng(config, seed: int) -> np.random.RandomState:
    """``RandomState(seed)`` advanced past the article's initial weights for ``config``.

    The article draws its dropout masks from the same global stream as its weights, after
    them; a run that starts from ``Model.article_init(config, RandomState(seed))`` takes
    its masks from this generator (the command line keeps the one generator instead; the
    two give the same masks).
    """
    rng = np.random.RandomState(seed)
    Model.article_init(config, rng)
    return rng


def train_article(model: Model, X: np.ndarray, Y: np.ndarray, *, alpha: float = 0.01,
                  dropout: bool = False, rng: np.random.RandomState | None = None,
                  max_iter: int = 50, tol: float | None = 0.1, stop=None,
                  test: tuple[np.ndarray, np.ndarray] | None = None, chunk: int = 256, **kw):
    """Train ``model`` the article's way; a generator of :mod:`engine.events`.

    Parameters
    ----------
    model, X, Y, alpha, dropout, rng, chunk
        As for :class:`ArticleStepper`.
    max_iter, tol, stop, test, **kw
        As for :func:`engine.training.train` (``kw``: ``eval_every``, ``report_seconds``,
        ``start_iteration``, ``clock``). Evaluation leaves out the tanh on the pooled
        layer, as the article's test code does.

    Returns
    -------
    generator of Progress, IterationEnd, Evaluated, Finished
    """
    stepper = ArticleStepper(model, X, Y, alpha=alpha, dropout=dropout, rng=rng, chunk=chunk)
    return train(model, stepper, max_iter=max_iter, tol=tol, stop=stop, test=test,
                 pooled_tanh_at_test=False, **kw)
