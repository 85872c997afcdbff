"""Standard normal scores from compiled code, bit for bit the numbers numpy draws.

:func:`standard_normal` fills an array exactly as ``Generator.standard_normal`` of a
``PCG64`` generator would (same seed, same numbers, same generator state afterwards), about
twice as fast, because the generator and the ziggurat run in one compiled loop instead of a
call through numpy's bit-generator interface per draw. Results for a recorded seed therefore do
not change when this path is used.

How it matches numpy
--------------------
* PCG64 is the 128-bit linear congruential generator with the XSL-RR output (O'Neill 2014,
  ``pcg_setseq_128_xsl_rr_64``): the state steps ``s <- s * M + inc (mod 2^128)`` and each
  64-bit output is ``rotr64(hi(s) xor lo(s), hi(s) >> 58)`` of the stepped state. The state and
  increment are read from, and written back to, the numpy generator, so draws that follow
  (numpy's own uniforms, chi-square) continue its stream unchanged.
* The normal draws are numpy's 256-layer ziggurat (Marsaglia and Tsang 2000, as adapted in
  numpy's ``random_standard_normal``): 8 bits choose the layer, one the sign, 52 the abscissa;
  the wedge and the tail (Marsaglia 1964) consume further doubles ``(u64 >> 11) 2^-53``. The
  layer tables are numpy's own, read from the static library every numpy wheel ships for C
  extensions (``numpy/random/lib/libnpyrandom.a``), so they are the installed numpy's numbers
  rather than a copy. Where that library cannot be read (or the generator is not a PCG64),
  :func:`standard_normal` calls numpy itself: the numbers are the same, only slower.

Compiled code is cached on disk in ``$IPVALUE_CACHE_DIR/numba`` (default
``~/.cache/ipvalue/numba``), created on first use (mode 0700) and used only while nobody else
can write into it, as the volatility model cache; importing this module compiles nothing and
changes no environment variable.
"""

from __future__ import annotations

import ctypes
import logging
import math
import struct
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import numba
import numpy as np
from llvmlite import ir
from numba.core import caching, types
from numba.extending import get_cython_function_address, intrinsic

from ipvalue.valuation.discounting import FloatArray

log = logging.getLogger(__name__)

ZIGGURAT_R = 3.6541528853610087963519472518
"""Start of the ziggurat's tail: the base layer's right edge (Marsaglia and Tsang 2000)."""
ZIGGURAT_INV_R = 0.27366123732975827203338247596
"""``1 / ZIGGURAT_R``, as numpy writes it."""
_TABLE_SYMBOLS = ("ki_double", "wi_double", "fi_double")
_LIBRARY = ("lib", "libnpyrandom.a")

# ------------------------------------------------------------------------------ on-disk cache


class _ServiceCacheLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):  # type: ignore[misc]
    """numba cache locator placing this module's machine code under the service's cache."""

    def __init__(self, py_func: Any, py_file: str) -> None:
        # Imported here, at the first compile: importing the volatility package (PyMC's
        # settings) is no business of the Monte Carlo engine's import.
        from ipvalue.risk.volatility.compiled import cache_root

        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        sub = self.get_suitable_cache_subpath(py_file)
        self._cache_path = str(cache_root() / "numba" / sub)

    def get_cache_path(self) -> str:
        return self._cache_path

    def ensure_cache_path(self) -> None:
        """Create the folder (mode 0700) and use it only if nobody else can write into it.

        The index numba keeps there is a pickle: whoever can write the folder runs code in
        the service, so the folder and its parents must pass the same check as the volatility
        model cache (:func:`~ipvalue.risk.volatility.signed_files.check_folder`).
        """
        from ipvalue.risk.volatility import signed_files

        path = Path(self._cache_path)
        try:
            signed_files.private_folder(path.parent)
            signed_files.private_folder(path)
        except signed_files.UntrustedError as exc:
            log.warning("compiled Monte Carlo code is not cached on disk: %s", exc)
            raise OSError(str(exc)) from exc
        super().ensure_cache_path()


class _ServiceCacheImpl(caching.CompileResultCacheImpl):  # type: ignore[misc]
    _locator_classes = [_ServiceCacheLocator]  # noqa: RUF012 - numba's own class attribute


class _ServiceFunctionCache(caching.FunctionCache):  # type: ignore[misc]
    _impl_class = _ServiceCacheImpl


def _cached(dispatcher: Any) -> Any:
    """Give a numba dispatcher the service's disk cache (once; silently none if unwritable)."""
    if isinstance(dispatcher._cache, caching.NullCache):
        try:
            dispatcher._cache = _ServiceFunctionCache(dispatcher.py_func)
        except RuntimeError:  # no writable cache folder: compile in memory, as numba would
            pass
    return dispatcher


def compiled(dispatcher: Any) -> Callable[..., Any]:
    """``dispatcher`` with its disk cache attached, for the first call of a process.

    Parameters
    ----------
    dispatcher : numba dispatcher
        A function decorated with ``numba.njit`` (without ``cache=True``, whose folder numba
        would choose beside the source).
    """
    return _cached(dispatcher)  # type: ignore[no-any-return]


@cache
def scipy_function(name: str, arity: int) -> Any:
    """A ``scipy.special.cython_special`` function of ``arity`` doubles, callable from numba.

    Pass the result to a compiled function as an argument (never as a global, whose address
    numba would bake into the cached machine code); it computes what ``scipy.special.<name>``
    computes, bit for bit. ``name`` is the exported name, e.g. ``__pyx_fuse_1ndtr`` for the
    double version of a fused function.
    """
    address = get_cython_function_address("scipy.special.cython_special", name)
    signature = ctypes.CFUNCTYPE(ctypes.c_double, *([ctypes.c_double] * arity), ctypes.c_int)
    return signature(address)


# --------------------------------------------------------------------------- numpy's tables


class Tables(NamedTuple):
    """numpy's ziggurat layer tables (256 layers)."""

    ki: np.ndarray
    """uint64: a 52-bit abscissa below ``ki[i]`` is inside layer ``i``'s rectangle."""
    wi: FloatArray
    """Layer widths over 2^52: the draw is ``abscissa * wi[i]``."""
    fi: FloatArray
    """Density ``exp(-x_i^2 / 2)`` at each layer's edge."""


def _ar_members(data: bytes) -> list[bytes]:
    """Members of a Unix ``ar`` archive."""
    if not data.startswith(b"!<arch>\n"):
        return []
    out, pos = [], 8
    while pos + 60 <= len(data):
        size = int(data[pos + 48 : pos + 58].decode().strip())
        out.append(data[pos + 60 : pos + 60 + size])
        pos += 60 + size + (size & 1)
    return out


def _elf_symbols(obj: bytes, names: tuple[str, ...]) -> dict[str, bytes]:
    """Contents of the named data symbols of a little-endian ELF64 relocatable object."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        return {}
    (shoff,) = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + i * shentsize) for i in range(shnum)]
    found: dict[str, bytes] = {}
    for sh in sections:
        if sh[1] != 2:  # SHT_SYMTAB
            continue
        strtab = sections[sh[6]]
        for off in range(sh[4], sh[4] + sh[5], 24):
            name_at, _, _, shndx, value, size = struct.unpack_from("<IBBHQQ", obj, off)
            start = strtab[4] + name_at
            name = obj[start : obj.index(b"\0", start)].decode()
            if name in names and 0 < shndx < len(sections):
                data_at = sections[shndx][4] + value
                found[name] = obj[data_at : data_at + size]
    return found


@cache
def numpy_tables() -> Tables | None:
    """The installed numpy's ziggurat tables, or None when they cannot be read here."""
    path = Path(np.random.__file__).parent.joinpath(*_LIBRARY)
    try:
        archive = path.read_bytes()
    except OSError:
        return None
    for member in _ar_members(archive):
        found = _elf_symbols(member, _TABLE_SYMBOLS)
        if len(found) == len(_TABLE_SYMBOLS) and all(len(v) == 2048 for v in found.values()):
            tables = Tables(
                np.frombuffer(found["ki_double"], dtype="<u8").copy(),
                np.frombuffer(found["wi_double"], dtype="<f8").copy(),
                np.frombuffer(found["fi_double"], dtype="<f8").copy(),
            )
            # The tables' own invariants: a wrong read must never be used.
            if tables.ki[1] == 0 and tables.fi[0] == 1.0 and tables.wi[-1] * 2.0**52 == ZIGGURAT_R:
                return tables
    return None


# ------------------------------------------------------------------------ the compiled loop

_MULT_HI = np.uint64(0x2360ED051FC65DA4)
_MULT_LO = np.uint64(0x4385DF649FCCF645)
_S58 = np.uint64(58)
_S11 = np.uint64(11)
_S8 = np.uint64(8)
_S1 = np.uint64(1)
_ONE = np.uint64(1)
_BYTE = np.uint64(0xFF)
_ABS52 = np.uint64(0x000FFFFFFFFFFFFF)
_SIXTY_FOUR = np.uint64(64)
_TWO_M53 = 1.0 / 9007199254740992.0


@intrinsic
def _mulhi(typingctx: Any, a: Any, b: Any) -> Any:
    """High 64 bits of the 128-bit product of two uint64 (one ``mul`` on x86-64)."""
    if not (a == types.uint64 and b == types.uint64):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))

    return types.uint64(types.uint64, types.uint64), codegen


@numba.njit(inline="always")
def _next64(s: Any) -> Any:
    """Step the PCG64 state ``s`` (uint64[4]: hi, lo, inc hi, inc lo) and return its output."""
    hi, lo = s[0], s[1]
    p_lo = lo * _MULT_LO
    p_hi = _mulhi(lo, _MULT_LO) + lo * _MULT_HI + hi * _MULT_LO
    n_lo = p_lo + s[3]
    n_hi = p_hi + s[2] + (_ONE if n_lo < p_lo else np.uint64(0))
    s[0], s[1] = n_hi, n_lo
    v = n_hi ^ n_lo
    rot = n_hi >> _S58
    return (v >> rot) | (v << ((_SIXTY_FOUR - rot) & np.uint64(63)))


@numba.njit(inline="always")
def _next_double(s: Any) -> float:
    return float(_next64(s) >> _S11) * _TWO_M53


@numba.njit(nogil=True)
def _fill_normals(s: Any, out: Any, ki: Any, wi: Any, fi: Any) -> None:  # pragma: no cover
    """numpy's ``random_standard_normal`` on PCG64, one draw per element of ``out``."""
    for k in range(out.size):
        while True:
            r = _next64(s)
            idx = np.intp(r & _BYTE)
            r >>= _S8
            rabs = (r >> _S1) & _ABS52
            x = float(rabs) * wi[idx]
            if r & _ONE:
                x = -x
            if rabs < ki[idx]:
                out[k] = x
                break
            if idx == 0:
                while True:
                    xx = -ZIGGURAT_INV_R * math.log1p(-_next_double(s))
                    yy = -math.log1p(-_next_double(s))
                    if yy + yy > xx * xx:
                        break
                if (rabs >> _S8) & _ONE:
                    out[k] = -(ZIGGURAT_R + xx)
                else:
                    out[k] = ZIGGURAT_R + xx
                break
            if (fi[idx - 1] - fi[idx]) * _next_double(s) + fi[idx] < math.exp(-0.5 * x * x):
                out[k] = x
                break


_U64 = (1 << 64) - 1


def _is_pcg64(rng: np.random.Generator) -> bool:
    return type(rng.bit_generator) is np.random.PCG64


def standard_normal(
    rng: np.random.Generator, shape: int | tuple[int, ...], out: FloatArray | None = None
) -> FloatArray:
    """Standard normal draws, identical to ``rng.standard_normal(shape)``, compiled where possible.

    Parameters
    ----------
    rng : numpy.random.Generator
        Advanced exactly as ``rng.standard_normal`` would advance it.
    shape : int or tuple of int
        Shape of the result, filled in C order (as numpy fills it).
    out : array of float64, optional
        A C-contiguous array of that shape to fill instead of a new one.

    Returns
    -------
    array of float64
    """
    tables = numpy_tables()
    if tables is None or not _is_pcg64(rng):
        return rng.standard_normal(shape, out=out)
    if out is None:
        out = np.empty(shape)
    bg = rng.bit_generator
    state = bg.state
    pcg = state["state"]
    s = np.array(
        [pcg["state"] >> 64, pcg["state"] & _U64, pcg["inc"] >> 64, pcg["inc"] & _U64],
        dtype=np.uint64,
    )
    compiled(_fill_normals)(s, out.reshape(-1), tables.ki, tables.wi, tables.fi)
    pcg["state"] = (int(s[0]) << 64) | int(s[1])
    bg.state = state
    return out


# ----------------------------------------------------------------- the normal CDF, vectorised


@intrinsic
def _as_double(typingctx: Any, a: Any) -> Any:
    """The float64 whose bits are the int64 ``a`` (to build 2^n from its exponent field)."""
    if a != types.int64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_SQRT_HALF = 0.70710678118654752440


@numba.njit(inline="always", error_model="numpy")
def _exp_nonpositive(y: float) -> float:  # pragma: no cover - compiled
    """exp(y) for y in [-708, 0]: y = n ln 2 + r (Cody-Waite, ln 2 in two parts), exp(r) by its
    Taylor polynomial to r^12 (|r| <= ln 2 / 2, truncation below 2e-16), times 2^n built in the
    exponent field. No library call, so loops over it vectorise."""
    n = math.floor(y * _INV_LN2 + 0.5)
    r = (y - n * _LN2_HI) - n * _LN2_LO
    p = 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return p * _as_double((np.int64(n) + 1023) << 52)


# Rational approximations of Cephes' ndtr (Moshier 1984-2000, as in scipy.special): erf on
# |x| < 1 (T / U), erfc exp(x^2) on 1 <= x < 8 (P / Q) and on x >= 8 (R / S).


@numba.njit(inline="always", error_model="numpy")
def _P(x: float) -> float:  # pragma: no cover - compiled
    p = 2.461969814735305e-10
    p = p * x + 0.5641895648310689
    p = p * x + 7.463210564422699
    p = p * x + 48.63719709856814
    p = p * x + 196.5208329560771
    p = p * x + 526.4451949954773
    p = p * x + 934.5285271719576
    p = p * x + 1027.5518868951572
    p = p * x + 557.5353353693994
    return p


@numba.njit(inline="always", error_model="numpy")
def _Q(x: float) -> float:  # pragma: no cover - compiled
    p = 1.0
    p = p * x + 13.228195115474499
    p = p * x + 86.70721408859897
    p = p * x + 354.9377788878199
    p = p * x + 975.7085017432055
    p = p * x + 1823.9091668790973
    p = p * x + 2246.3376081871097
    p = p * x + 1656.6630919416134
    p = p * x + 557.5353408177277
    return p


@numba.njit(inline="always", error_model="numpy")
def _R(x: float) -> float:  # pragma: no cover - compiled
    p = 0.5641895835477551
    p = p * x + 1.275366707599781
    p = p * x + 5.019050422511805
    p = p * x + 6.160210979930536
    p = p * x + 7.4097426995044895
    p = p * x + 2.9788666537210022
    return p


@numba.njit(inline="always", error_model="numpy")
def _S(x: float) -> float:  # pragma: no cover - compiled
    p = 1.0
    p = p * x + 2.2605286322011726
    p = p * x + 9.396035249380015
    p = p * x + 12.048953980809666
    p = p * x + 17.08144507475659
    p = p * x + 9.608968090632859
    p = p * x + 3.369076451000815
    return p


@numba.njit(inline="always", error_model="numpy")
def _T(x: float) -> float:  # pragma: no cover - compiled
    p = 9.604973739870516
    p = p * x + 90.02601972038427
    p = p * x + 2232.005345946843
    p = p * x + 7003.325141128051
    p = p * x + 55592.30130103949
    return p


@numba.njit(inline="always", error_model="numpy")
def _U(x: float) -> float:  # pragma: no cover - compiled
    p = 1.0
    p = p * x + 33.56171416475031
    p = p * x + 521.3579497801527
    p = p * x + 4594.323829709801
    p = p * x + 22629.000061389095
    p = p * x + 49267.39426086359
    return p


@numba.njit(inline="always", error_model="numpy")
def phi(z: float) -> float:  # pragma: no cover - compiled
    """The standard normal CDF at ``z``, as Cephes' ``ndtr`` computes it (the same rational
    approximations), without library calls so a loop over it runs in SIMD lanes.

    Within 4e-15 relative of ``scipy.special.ndtr`` for |z| < 9 (the reach of any draw) and
    5e-14 out to |z| = 37; 0 and 1 beyond. exp(-x^2) is exp(-h^2) exp(-(2h + l) l) with
    h = x rounded down to 1/16, so the square's rounding is not magnified (Cephes' ``expx2``).
    """
    x = z * _SQRT_HALF
    ax = min(abs(x), 26.5)
    x2 = x * x
    small = 0.5 + 0.5 * (x * _T(x2) / _U(x2))
    h = math.floor(ax * 16.0) * 0.0625
    low = ax - h
    e = _exp_nonpositive(-h * h) * _exp_nonpositive(-(2.0 * h + low) * low)
    y = 0.5 * e * (_P(ax) / _Q(ax) if ax < 8.0 else _R(ax) / _S(ax))
    y = 0.0 if ax >= 26.5 else y
    big = 1.0 - y if x > 0 else y
    return small if abs(x) < 1.0 else big


@numba.njit(nogil=True, error_model="numpy")
def _fill_phi(z: Any, out: Any) -> None:  # pragma: no cover - compiled
    for i in range(z.size):
        out[i] = phi(z[i])


def normal_cdf(z: FloatArray) -> FloatArray:
    """The standard normal CDF of every element of ``z`` by the compiled :func:`phi`."""
    x = np.ascontiguousarray(z, dtype=float)
    out = np.empty(x.shape)
    compiled(_fill_phi)(x.reshape(-1), out.reshape(-1))
    return out


COMBINE_TILE = 1024
"""Paths combined at once: a tile of every row stays in the L1 cache."""


@numba.njit(nogil=True)
def _combine(factor: Any, z: Any, out: Any) -> None:  # pragma: no cover - compiled
    """``out = factor @ z``, each sum over ``j`` in order (as ``einsum`` adds, bit for bit)."""
    rows, k = factor.shape
    n = z.shape[1]
    for start in range(0, n, COMBINE_TILE):
        stop = min(start + COMBINE_TILE, n)
        for i in range(rows):
            o = out[i, start:stop]
            o[:] = 0.0
            for j in range(k):
                f = factor[i, j]
                zj = z[j, start:stop]
                for c in range(stop - start):
                    o[c] += f * zj[c]


def combine(factor: FloatArray, z: FloatArray) -> FloatArray:
    """Linear combinations of score rows, ``factor @ z``, in one compiled pass.

    Parameters
    ----------
    factor : array (rows, k)
    z : array (k, paths)

    Returns
    -------
    array (rows, paths)
        Equal, bit for bit, to ``np.einsum("ij,jn->in", factor, z)``; no BLAS call (which,
        this thin, is slower and spins threads under load).
    """
    out = np.empty((factor.shape[0], z.shape[1]))
    compiled(_combine)(np.ascontiguousarray(factor), np.ascontiguousarray(z), out)
    return out
