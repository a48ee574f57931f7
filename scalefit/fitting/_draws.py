"""Bootstrap draws of many resamples at once, bit for bit those of ``numpy.random.default_rng([seed, i])``.

The bootstrap draws resample ``i`` as ``default_rng([seed, i]).integers(0, n, n)``.  Building one
generator per resample costs about 23 us (the SeedSequence hash and the PCG64 set-up) and each
``integers`` call another 12 us, most of a 4,000-resample bootstrap's drawing time.  Here the same
three steps run vectorised over the resamples, in numpy's unsigned integer arithmetic:

1. numpy's ``SeedSequence`` of the entropy ``[seed, i]`` (its hash mix of a pool of four 32-bit
   words, then ``generate_state(4, uint64)``; O'Neill's seed_seq_fe as numpy implements it);
2. the PCG64 generator seeded with it (``pcg_setseq_128_srandom_r``: 128-bit state and increment,
   the default 128-bit multiplier, the XSL-RR output of each new state), as 64-bit words split into
   two 32-bit draws, low half first (numpy's ``next_uint32`` buffering);
3. the bounded integers of ``Generator.integers`` for a range below 2**32: Lemire's multiply-shift,
   whose rare rejections (probability under n / 2**32 per draw) are detected, and those resamples
   drawn by numpy itself.

128-bit products are built from 32-bit halves in uint64.  ``tests/test_bootstrap_draws.py``
checks equality with numpy's own generator draw for draw; :func:`counts` falls back to numpy's
generator where the vectorised path does not apply (seeds or indices of 2**32 or more, a single
unit, or few resamples of many units, where the per-draw loop would not pay).
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

_M32 = np.uint64(0xFFFFFFFF)
_S16, _S32 = np.uint64(16), np.uint64(32)
# numpy's SeedSequence constants (numpy/random/bit_generator.pyx)
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = np.uint64(0xCA01F9DD), np.uint64(0x4973F715)
# PCG's default 128-bit multiplier (PCG_DEFAULT_MULTIPLIER_128), as high and low 64-bit words
_MUL_HI, _MUL_LO = np.uint64(2549297995355413924), np.uint64(4865540595714422341)
#: Below this many resamples, or above this many units, numpy's own generator (one call per
#: resample) is as fast (measured: 240 units, 500 resamples 3.4x faster here; 64 resamples 1.5x;
#: 1,000 units 1.3-1.8x; 5,000 units 2x slower).
_MIN_RESAMPLES, _MAX_UNITS = 32, 2000


def _seed_words(seed: int, idx: np.ndarray) -> list:
    """``SeedSequence([seed, i]).generate_state(8, uint32)`` for every i in ``idx``: eight uint64 arrays."""
    hc = _INIT_A

    def hashmix(v: np.ndarray) -> np.ndarray:
        nonlocal hc
        v = v ^ np.uint64(hc)
        hc = (hc * _MULT_A) & 0xFFFFFFFF
        v = (v * np.uint64(hc)) & _M32
        return v ^ (v >> _S16)

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r = (_MIX_L * x - _MIX_R * y) & _M32
        return r ^ (r >> _S16)

    zero = np.zeros(idx.shape, np.uint64)
    entropy = [np.full(idx.shape, seed, np.uint64), idx]
    pool = [hashmix(entropy[i] if i < len(entropy) else zero) for i in range(4)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    hb = _INIT_B
    words = []
    for k in range(8):
        v = pool[k % 4] ^ np.uint64(hb)
        hb = (hb * _MULT_B) & 0xFFFFFFFF
        v = (v * np.uint64(hb)) & _M32
        words.append(v ^ (v >> _S16))
    return words


def _mulhi(a: np.ndarray, b: Any) -> np.ndarray:
    """High 64 bits of the 128-bit products of uint64 ``a`` and ``b`` (broadcast)."""
    a0, a1, b0, b1 = a & _M32, a >> _S32, b & _M32, b >> _S32
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> _S32) + (p01 & _M32) + (p10 & _M32)
    return p11 + (p01 >> _S32) + (p10 >> _S32) + (mid >> _S32)


def _mul(xh: np.ndarray, xl: np.ndarray, ah: Any, al: Any) -> tuple:
    """(high, low) words of the 128-bit products x * a mod 2**128."""
    return _mulhi(xl, al) + xl * ah + xh * al, xl * al


def _add(xh: np.ndarray, xl: np.ndarray, yh: np.ndarray, yl: np.ndarray) -> tuple:
    """(high, low) words of x + y mod 2**128."""
    lo = xl + yl
    return xh + yh + (lo < xl).astype(np.uint64), lo


def draws(seed: int, idx: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``default_rng([seed, i]).integers(0, n, n)`` for every i in ``idx``.

    The seeding (steps 1 and 2 of the module's description) is vectorised; each resample's raw
    64-bit outputs come from one ``PCG64`` whose state is set to the seeded state
    (``random_raw``, C speed); the bounded integers are vectorised again.  Returns
    (draws (K, n) int64, rejected (K,) bool): where ``rejected``, Lemire's method would have
    drawn again, so the row is not numpy's; the caller draws those resamples with numpy.
    Requires 0 <= seed, idx < 2**32 and 2 <= n < 2**32.
    """
    idx = np.asarray(idx, np.uint64)
    with np.errstate(over="ignore"):
        w = _seed_words(seed, idx)
        s_hi, s_lo, q_hi, q_lo = (w[2 * k] | (w[2 * k + 1] << _S32) for k in range(4))
        ihi = (q_hi << np.uint64(1)) | (q_lo >> np.uint64(63))  # increment = (initseq << 1) | 1
        ilo = (q_lo << np.uint64(1)) | np.uint64(1)
        hi, lo = _add(ihi, ilo, s_hi, s_lo)  # state 0 stepped is the increment; then the seed is added
        mh, ml = _mul(hi, lo, _MUL_HI, _MUL_LO)
        hi, lo = _add(mh, ml, ihi, ilo)  # and stepped once more
        pairs = (n + 1) // 2
        raw = np.empty((idx.size, pairs), np.uint64)
        gen = np.random.PCG64(0)
        state = gen.state
        for j in range(idx.size):
            state["state"] = {"state": (int(hi[j]) << 64) | int(lo[j]), "inc": (int(ihi[j]) << 64) | int(ilo[j])}
            state["has_uint32"], state["uinteger"] = 0, 0
            gen.state = state
            raw[j] = gen.random_raw(pairs)
        nn, thr = np.uint64(n), np.uint64((2**32 - n) % n)
        out = np.empty((idx.size, 2 * pairs), np.int64)
        rejected = np.zeros(idx.size, bool)
        for k, half in enumerate((raw & _M32, raw >> _S32)):  # numpy's next_uint32: the low half first
            half *= nn
            used = half if (k == 0 or n % 2 == 0) else half[:, :-1]  # an odd n never draws the last high half
            rejected |= ((used & _M32) < thr).any(axis=1)
            half >>= _S32
            out[:, k::2] = half
        return out[:, :n], rejected


def counts(seed: int, idx: Iterable[int], n: int) -> np.ndarray:
    """(K, n) counts of each of ``n`` units in resample i's ``n`` draws with replacement, i in ``idx``.

    Resample i's draws are ``numpy.random.default_rng([seed, i]).integers(0, n, n)``, whichever
    path computes them.
    """
    ids = np.asarray(list(idx), dtype=np.int64)
    K = ids.size
    fast = (K >= _MIN_RESAMPLES and 2 <= n <= _MAX_UNITS and 0 <= seed < 2**32
            and (K == 0 or (ids.min() >= 0 and ids.max() < 2**32)))
    if fast:
        d, rejected = draws(seed, ids.astype(np.uint64), n)
        out = np.bincount((d + n * np.arange(K)[:, None]).ravel(), minlength=K * n).reshape(K, n)
        redo = np.flatnonzero(rejected)
    else:
        out = np.empty((K, n), dtype=np.int64)
        redo = np.arange(K)
    for j in redo:
        # default_rng([seed, i]) is Generator(PCG64([seed, i])), built directly (a third cheaper)
        rng = np.random.Generator(np.random.PCG64([seed, int(ids[j])]))
        out[j] = np.bincount(rng.integers(0, n, n), minlength=n)
    return out
