"""Elementary functions of the article's compiled loop (:mod:`engine.train.article_loop`), exact to
about one unit in the last place and written so that a loop of them vectorises: tanh without
branches, and the two dot products whose summation order the compiler may choose.

numba caches :func:`engine.train.article_loop.train_chunk` by its own file: after editing this one,
delete ``engine/__pycache__`` (or touch ``article_loop.py``) so that the loop is compiled again.
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["TANH_RANGE", "tanh_pade", "tanh_any", "dot", "dot4"]


# tanh(x) = x P(x^2) / Q(x^2): the [15/14] convergent of Lambert's continued fraction
# x / (1 + x^2/(3 + x^2/(5 + ...))), exact integer coefficients (all below 2**53). On
# |x| <= 2 its relative error is under 3e-16 (about one unit in the last place, like libm's
# tanh); unlike a call to libm it vectorises. Used only where |x| <= TANH_RANGE.
TANH_RANGE = 2.0
_TP = (6190283353629375.0, 924984868933125.0, 34785755754750.0, 496939367925.0,
       3055402350.0, 7936110.0, 7140.0, 1.0)
_TQ = (6190283353629375.0, 2988412653476250.0, 205552193096250.0, 4638100767300.0,
       43212118950.0, 174594420.0, 278460.0, 120.0)


@njit(cache=True, fastmath=False, inline="always")
def tanh_pade(x):  # pragma: no cover - numba
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
def tanh_any(x):  # pragma: no cover - numba
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
    return tanh_pade(x) if a <= TANH_RANGE else t


@njit(cache=True, fastmath={"reassoc"})
def dot(a, b):  # pragma: no cover - numba
    """``sum(a * b)`` for two 1-D arrays of the same length.

    One of the two places where the summation order is left to the compiler (``reassoc``
    only, so it vectorises, as a BLAS dot product does; the other is :func:`dot4`); every
    other operation of the kernel is compiled with ``fastmath=False``. A reordered sum of
    ``H`` terms differs from the sequential one by a few units in the last place.
    """
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i]
    return s


@njit(cache=True, fastmath={"reassoc"})
def dot4(a0, a1, a2, a3, v):  # pragma: no cover - numba
    """The four sums ``a_i . v`` for four 1-D arrays ``a_i`` of the length of ``v``.

    As :func:`dot` (``reassoc`` only), with one pass over ``v`` for four rows of ``W1``.
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
