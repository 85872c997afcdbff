"""Compiled models kept per process (and on disk, :mod:`risk.volatility.compiled`).

A compiled model is kept per process, keyed by model and shape, and reused with new data and new
priors through ``pm.Data``; compiling costs seconds, a warm estimate of a 40-point series well
under one. Compiled models are also kept on disk, so the first estimate in a new process loads
machine code instead of compiling, without importing PyMC.

PyTensor's own compile cache goes to ``$IPVALUE_CACHE_DIR/pytensor`` (unless ``PYTENSOR_FLAGS``
already names a ``base_compiledir``): set when a model is first compiled, before PyTensor is
imported, never when this package is imported.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ipvalue.risk.volatility import compiled as disk_cache
from ipvalue.risk.volatility import signed_files
from ipvalue.risk.volatility.diagnostics import TRACKED
from ipvalue.risk.volatility.problem import Problem
from ipvalue.risk.volatility.starting import InitialPoint, free_variables, initial_centre

log = logging.getLogger(__name__)

CACHE_SIZE = 32
"""Compiled models kept per process."""
CACHE: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
"""This process's compiled models by shape (`Problem.key`), least recently used first."""
_CACHE_LOCK = threading.Lock()
MODEL_SOURCE = (Path(__file__).with_name("models.py")).read_bytes()
"""Source of the model factories: part of the key of every on-disk compiled model."""


def use_disk_cache() -> bool:
    """Whether compiled models are kept on disk (``IPVALUE_NUTPIE_DISK_CACHE``, default on)."""
    setting = os.environ.get("IPVALUE_NUTPIE_DISK_CACHE", "1").strip().lower()
    return setting not in {"0", "false", "no", "off"}


def configure_pytensor() -> None:
    """Point PyTensor's compile folder into the cache root, before PyTensor is imported.

    Left alone when ``PYTENSOR_FLAGS`` names a compile folder already, when PyTensor is imported
    already, or when the cache root is not private to this user (PyTensor's cache holds compiled
    modules too; it then keeps its default folder).
    """
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "compiledir" in flags or "pytensor" in sys.modules:
        return
    root = disk_cache.cache_root()
    try:
        signed_files.private_folder(root)
    except (OSError, signed_files.UntrustedError) as exc:
        log.warning("PyTensor keeps its default compile folder: %s", exc)
        return
    setting = f"base_compiledir={root / 'pytensor'}"
    os.environ["PYTENSOR_FLAGS"] = f"{flags},{setting}" if flags else setting


def var_names(model: str) -> list[str]:
    """The variables nutpie keeps for ``model``."""
    names = list(TRACKED[model])
    if model == "stochastic_volatility":
        names.append("sigma_path")
    return names


def entry_path(problem: Problem) -> Path:
    """The on-disk entry of ``problem``'s compiled shape in this environment."""
    key = disk_cache.entry_key(problem.key, var_names(problem.model), MODEL_SOURCE)
    return disk_cache.cache_dir() / f"{key}.pkl"


def load_or_compile(problem: Problem) -> Any:
    """The compiled model of ``problem``'s shape from the disk cache, else compiled (and saved).

    The disk cache rests on numba internals (see `risk.volatility.compiled`); setting
    ``IPVALUE_NUTPIE_DISK_CACHE=0`` turns it off, and every new process compiles again.
    """
    use_disk = use_disk_cache()
    path = entry_path(problem)
    compiled = disk_cache.load(path) if use_disk else None
    if compiled is None:
        configure_pytensor()
        import nutpie

        compiled = nutpie.compile_pymc_model(problem.build(), var_names=var_names(problem.model))
        if use_disk:
            disk_cache.save(path, compiled)
    return compiled


def compiled_for(problem: Problem) -> Any:
    """The nutpie-compiled model for ``problem``'s model and shape, with its data and start.

    Compiled (or loaded from disk) at most once per process and shape; the starting points
    follow the request's prior (:class:`risk.volatility.starting.InitialPoint`).
    """
    with _CACHE_LOCK:
        if problem.key in CACHE:
            CACHE.move_to_end(problem.key)
            compiled = CACHE[problem.key]
        else:
            compiled = load_or_compile(problem)
            CACHE[problem.key] = compiled
            while len(CACHE) > CACHE_SIZE:
                CACHE.popitem(last=False)
    known = compiled.shared_data
    compiled = compiled.with_data(**{k: v for k, v in problem.data.items() if k in known})
    names, sizes = free_variables(compiled)
    start = InitialPoint(initial_centre(names, sizes, problem.prior))
    return dataclasses.replace(compiled, initial_point_func=start)


def clear_cache() -> None:
    """Forget this process's compiled models (the on-disk compile cache stays)."""
    with _CACHE_LOCK:
        CACHE.clear()
