"""nutpie's two numba callbacks as bytes and back: machine code, relocations, environments.

nutpie wraps PyTensor's numba-compiled log density in two numba ``cfunc`` callbacks, which numba
refuses to disk-cache (they close over per-process objects and, through the Student-t's
digamma, call ``scipy.special.cython_special.psi`` by its address, a "dynamic global"). This
module turns a compiled model into a picklable entry (numba's own object-code serialisation, as
its ``cache=True`` does, with what nutpie needs to sample: sizes, names, coordinates, the layout
of its shared-data record) and rebuilds one from such an entry. The dynamic globals are recorded
by what they point to and re-pointed on load: a ``cython_special`` function to its address in
the new process, a Python object pointer (which only boxing would read, never the compiled call
path) to NULL; any other dynamic global means the model is not persisted. A rebuilt model must
reproduce, bit for bit, the log density, gradient and expansion recorded at a few points, or it
is discarded.

Rebuilding runs the entry's machine code: only ever call `rebuild` on an entry read through
:mod:`risk.volatility.signed_files`.
"""

from __future__ import annotations

import ctypes
import logging
import pickle
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ipvalue.risk.kernel import seeds
from ipvalue.risk.volatility.starting import InitialPoint

log = logging.getLogger(__name__)

FORMAT = 2
"""Version of the entry layout; bump to invalidate every entry."""
_CYTHON_SPECIAL = "scipy.special.cython_special"


def _capsule_pointers(module_name: str) -> dict[int, str]:
    import importlib

    module = importlib.import_module(module_name)
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = (ctypes.py_object,)
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = (ctypes.py_object, ctypes.c_char_p)
    out = {}
    for name, capsule in getattr(module, "__pyx_capi__", {}).items():
        pointer = get_pointer(capsule, get_name(capsule))
        if pointer:
            out[int(pointer)] = name
    return out


def _capsule_pointer(module_name: str, name: str) -> int:
    for pointer, found in _capsule_pointers(module_name).items():
        if found == name:
            return pointer
    raise KeyError(f"{module_name}.{name}")


def _wrapper_object_ids() -> set[int]:
    """Ids of live numba function-pointer wrappers (their ``py_addr`` is a dynamic global)."""
    import gc

    from numba.core.types import WrapperAddressProtocol

    return {id(o) for o in gc.get_objects() if issubclass(type(o), WrapperAddressProtocol)}


def _relocations(library: Any) -> dict[str, tuple[str, str] | None] | None:
    """What each dynamic global of ``library`` points to, or None if one is not understood."""
    names = list(library._dynamic_globals)
    if not names:
        return {}
    capsules = _capsule_pointers(_CYTHON_SPECIAL)
    wrappers = _wrapper_object_ids()
    out: dict[str, tuple[str, str] | None] = {}
    for name in names:
        address = int(name.rsplit(".", 1)[1], 16)
        if address in capsules:
            out[name] = (_CYTHON_SPECIAL, capsules[address])
        elif address in wrappers:
            out[name] = None
        else:
            return None
    return out


def _environments(library: Any) -> dict[str, list[Any]]:
    """Constants of the numba environments ``library`` refers to, by environment name.

    Environments hold the Python constants nopython code needs to box values. numba's own cache
    rebuilds them by importing the defining module (PyTensor); here they are rebuilt with their
    constants and empty globals, which is all compiled nopython code reads.
    """
    from numba.core.environment import lookup_environment

    out = {}
    for gv in library._final_module.global_variables:
        if gv.name.startswith("_ZN08NumbaEnv"):
            env = lookup_environment(gv.name)
            out[gv.name] = list(env.consts) if env is not None else []
    pickle.dumps(out)  # fail here, not when loading, if a constant cannot be stored
    return out


def _call_logp(func_address: int, user_data: Any, x: NDArray[np.float64]) -> tuple[int, Any]:
    proto = ctypes.CFUNCTYPE(
        ctypes.c_int64,
        ctypes.c_uint64,
        ctypes.POINTER(ctypes.c_double),
        ctypes.POINTER(ctypes.c_double),
        ctypes.POINTER(ctypes.c_double),
        ctypes.c_void_p,
    )
    x = np.ascontiguousarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    logp = np.zeros(())
    code = proto(func_address)(
        x.size,
        x.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        grad.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        logp.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        user_data.ctypes.data,
    )
    return int(code), np.concatenate([logp.reshape(1), grad])


def _call_expand(
    func_address: int, user_data: Any, x: NDArray[np.float64], n_expanded: int
) -> tuple[int, Any]:
    proto = ctypes.CFUNCTYPE(
        ctypes.c_int64,
        ctypes.c_uint64,
        ctypes.c_uint64,
        ctypes.POINTER(ctypes.c_double),
        ctypes.POINTER(ctypes.c_double),
        ctypes.c_void_p,
    )
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.zeros(n_expanded)
    code = proto(func_address)(
        x.size,
        n_expanded,
        x.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        user_data.ctypes.data,
    )
    return int(code), out


def _check_points(n_dim: int) -> NDArray[np.float64]:
    return seeds.child(20240901).uniform(-1.0, 1.0, size=(3, n_dim))


def _fingerprint(
    logp_address: int, expand_address: int, user_data: Any, n_dim: int, n_expanded: int
) -> list[tuple[int, Any, int, Any]]:
    rows = []
    for x in _check_points(n_dim):
        code, value = _call_logp(logp_address, user_data, x)
        ecode, expanded = _call_expand(expand_address, user_data, x, n_expanded)
        rows.append((code, value, ecode, expanded))
    return rows


def _same(a: list[tuple[int, Any, int, Any]], b: list[tuple[int, Any, int, Any]]) -> bool:
    return len(a) == len(b) and all(
        ra[0] == rb[0]
        and ra[2] == rb[2]
        and np.array_equal(ra[1], rb[1], equal_nan=True)
        and np.array_equal(ra[3], rb[3], equal_nan=True)
        for ra, rb in zip(a, b, strict=True)
    )


def entry_of(path: Path, compiled: Any) -> dict[str, Any] | None:
    """The picklable entry of ``compiled``, or None when it cannot be persisted."""
    functions = {}
    for field in ("compiled_logp_func", "compiled_expand_func"):
        cfunc = getattr(compiled, field)
        relocations = _relocations(cfunc._library)
        if relocations is None:
            log.debug("not caching %s: a dynamic global is not understood", path.name)
            return None
        functions[field] = (
            cfunc._wrapper_name,
            cfunc._library.serialize_using_object_code(),
            relocations,
            _environments(cfunc._library),
        )
    entry = {
        "format": FORMAT,
        "functions": functions,
        "n_dim": compiled.n_dim,
        "n_expanded": compiled.n_expanded,
        "shape_info": compiled.shape_info,
        "dims": {str(k): tuple(v) for k, v in (compiled.dims or {}).items()},
        "coords": compiled._coords,
        "shapes": compiled._shapes,
        "user_data_dtype": compiled.user_data.dtype,
        "shared_data": compiled.shared_data,
        "fingerprint": _fingerprint(
            compiled.compiled_logp_func.address,
            compiled.compiled_expand_func.address,
            compiled.user_data,
            compiled.n_dim,
            compiled.n_expanded,
        ),
    }
    return entry


class _LoadedCFunc:
    """What nutpie reads of a numba ``CFunc`` (its address), keeping its code alive."""

    def __init__(self, library: Any, address: int, environments: list[Any]) -> None:
        self._library = library
        self._environments = environments
        self.address = address


def _set_environments(codegen: Any, consts_by_name: dict[str, list[Any]]) -> list[Any] | None:
    from numba.core.environment import Environment, lookup_environment

    kept = []
    for name, consts in consts_by_name.items():
        env = lookup_environment(name)
        if env is None:
            env = Environment({})
            env.consts[:] = consts
            env.env_name = name
            Environment._memo[name] = env
        if not codegen._engine.get_global_value_address(name):
            return None
        codegen.set_env(name, env)
        kept.append(env)
    return kept


def rebuild(path: Path, entry: dict[str, Any]) -> Any | None:
    """A ``CompiledPyMCModel`` from an entry, or None when it does not check out."""
    from numba.core import registry
    from nutpie.compile_pymc import CompiledPyMCModel, update_user_data

    codegen = registry.cpu_target.target_context.codegen()
    engine = codegen._engine
    loaded = {}
    for field, (wrapper_name, libdata, relocations, envs) in entry["functions"].items():
        targets = {
            name: _capsule_pointer(*target) if target is not None else 0
            for name, target in relocations.items()
        }
        for name, address in targets.items():
            # A global of the same name loaded before (another entry saved by the same
            # process) is shared: accept it only if it already holds the same value.
            slot = engine.get_global_value_address(name)
            if slot and (ctypes.c_void_p.from_address(slot).value or 0) != address:
                return None
        library = codegen.unserialize_library(libdata)
        for name, address in targets.items():
            slot = engine.get_global_value_address(name)
            if not slot:
                return None
            ctypes.c_void_p.from_address(slot).value = address or None
        kept = _set_environments(codegen, envs)
        if kept is None:
            return None
        address = library.get_pointer_to_function(wrapper_name)
        loaded[field] = _LoadedCFunc(library, address, kept)
    shared = entry["shared_data"]
    user_data = update_user_data(np.zeros((), dtype=entry["user_data_dtype"]), shared)
    compiled = CompiledPyMCModel(
        _n_dim=entry["n_dim"],
        dims=entry["dims"],
        _coords=entry["coords"],
        _shapes=entry["shapes"],
        compiled_logp_func=loaded["compiled_logp_func"],
        compiled_expand_func=loaded["compiled_expand_func"],
        initial_point_func=InitialPoint(np.zeros(entry["n_dim"])),
        shared_data=shared,
        user_data=user_data,
        n_expanded=entry["n_expanded"],
        shape_info=entry["shape_info"],
        logp_func=None,
        expand_func=None,
    )
    check = _fingerprint(
        compiled.compiled_logp_func.address,
        compiled.compiled_expand_func.address,
        compiled.user_data,
        compiled.n_dim,
        compiled.n_expanded,
    )
    if not _same(check, entry["fingerprint"]):
        log.warning("compiled-model entry %s does not reproduce its log density", path)
        return None
    return compiled
