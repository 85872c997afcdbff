"""On-disk cache of nutpie-compiled models: where entries live, their names, save and load.

Why this exists: numba refuses to disk-cache nutpie's wrappers of PyTensor's log density, so
every new process spent about five seconds re-typing and re-optimising them (nutpie issue #115;
the unmerged nutpie PR #334 attempts the same fix inside nutpie). An entry holds their finished
machine code (:mod:`risk.volatility.machine_code`), so a new process needs neither PyMC nor
PyTensor for a model it has seen before.

Entries live in ``$IPVALUE_CACHE_DIR/nutpie`` (default ``~/.cache/ipvalue/nutpie``), one file
per model shape, named by a hash of the model source, the sampled variables, the versions of
every package that shapes the machine code, the CPU and the numba/PyTensor settings. A stale or
unreadable entry is ignored (and overwritten by the next compile). An entry holds machine code
and a pickle, so whoever writes one runs code in the service: entries are signed files
(:mod:`risk.volatility.signed_files`), refused (at WARNING) unless the folder and file belong to
the service's user, nobody else can write them, and their HMAC under a key kept outside the
cache matches; nothing is unpickled before that check.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from ipvalue.risk.volatility import machine_code, signed_files
from ipvalue.risk.volatility.machine_code import FORMAT

log = logging.getLogger(__name__)

_VERSIONED = ("nutpie", "numba", "llvmlite", "pytensor", "pymc", "numpy", "scipy")


def cache_root() -> Path:
    """``$IPVALUE_CACHE_DIR``, else ``~/.cache/ipvalue`` (not created here)."""
    root = os.environ.get("IPVALUE_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "ipvalue"


def cache_dir() -> Path:
    """Folder of the compiled-model entries (not created here)."""
    return cache_root() / "nutpie"


def entry_key(model_key: tuple[Any, ...], var_names: list[str], model_source: bytes) -> str:
    """Hex digest naming the entry of one model shape in this environment."""
    from numba.core import registry

    versions: list[tuple[str, str | None]] = []
    for package in _VERSIONED:
        try:
            versions.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            versions.append((package, None))
    flags = ",".join(
        part for part in os.environ.get("PYTENSOR_FLAGS", "").split(",") if "compiledir" not in part
    )
    numba_env = sorted((k, v) for k, v in os.environ.items() if k.startswith("NUMBA_"))
    parts = (
        FORMAT,
        repr(model_key),
        tuple(var_names),
        hashlib.sha256(model_source).hexdigest(),
        tuple(versions),
        sys.version,
        platform.machine(),
        registry.cpu_target.target_context.codegen().magic_tuple(),
        flags,
        tuple(numba_env),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def save(path: Path, compiled: Any) -> bool:
    """Write ``compiled`` (a nutpie ``CompiledPyMCModel``) to ``path``; False if it cannot be.

    Best effort: a model whose machine code refers to something that cannot be re-pointed in
    another process leaves no entry (logged at debug); a cache folder or key that others could
    write leaves none either (logged at WARNING). The entry is signed (`signed_files`).
    """
    try:
        key = signed_files.load_key()
    except (OSError, signed_files.UntrustedError) as exc:
        log.warning("not caching compiled models: the cache key is not safe to use: %s", exc)
        return False
    try:
        from numba.core.compiler_lock import global_compiler_lock

        with global_compiler_lock:
            entry = machine_code.entry_of(path, compiled)
        if entry is None:
            return False
        payload = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a cache must never break an estimate
        log.debug("could not serialise a compiled model for %s", path, exc_info=True)
        return False
    try:
        signed_files.write_signed(path, key, payload)
    except signed_files.UntrustedError as exc:
        log.warning("not caching compiled models in %s: %s", path.parent, exc)
        return False
    except OSError:
        log.debug("could not write compiled-model entry %s", path, exc_info=True)
        return False
    return True


def load(path: Path) -> Any | None:
    """The nutpie ``CompiledPyMCModel`` stored at ``path``, or None (missing, refused, stale).

    The entry is unpickled only after `signed_files.read_signed` has checked its folder, owner,
    mode and HMAC; a refused one is logged at WARNING and compiled afresh by the caller.
    """
    if not path.exists():
        return None
    try:
        key = signed_files.load_key()
    except (OSError, signed_files.UntrustedError) as exc:
        log.warning("refused compiled-model cache: the cache key is not safe to use: %s", exc)
        return None
    payload = signed_files.read_signed(path, key)
    if payload is None:
        return None
    try:
        entry = pickle.loads(payload)  # authenticated: written by this service with this key
        if entry.get("format") != machine_code.FORMAT:
            return None
        from numba.core.compiler_lock import global_compiler_lock

        with global_compiler_lock:  # numba's code generator is not thread-safe
            return machine_code.rebuild(path, entry)
    except Exception:
        log.debug("could not load compiled-model entry %s", path, exc_info=True)
        return None
