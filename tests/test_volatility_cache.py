"""The compiled-model cache runs no code it did not write itself.

An entry holds machine code and a pickle, so a planted file is code execution. Each test plants
something and checks that nothing ran, that the entry was refused with a WARNING, and that no
pickle was read before the check.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ipvalue.risk.volatility import compiled, signed_files


class _Boom:
    """Unpickling this touches ``marker``: the proof that a pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache folder and a key file outside it."""
    monkeypatch.setenv("IPVALUE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("IPVALUE_CACHE_KEY_FILE", str(tmp_path / "secret" / "cache-key"))
    folder = signed_files.private_folder(compiled.cache_dir())
    return folder


def _refused(caplog: pytest.LogCaptureFixture, path: Path) -> str:
    messages = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and str(path) in r.getMessage()
    ]
    assert messages, [r.getMessage() for r in caplog.records]
    return messages[0]


def test_a_planted_pickle_does_not_run(
    cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "pwned"
    entry = cache / "0123abcd.pkl"
    entry.write_bytes(pickle.dumps(_Boom(marker)))
    with caplog.at_level(logging.WARNING):
        assert compiled.load(entry) is None
    assert not marker.exists()
    assert "HMAC" in _refused(caplog, entry)


def test_a_pickle_behind_a_forged_or_foreign_tag_does_not_run(
    cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Boom(marker))
    forged = cache / "forged.pkl"
    forged.write_bytes(signed_files.MAGIC + b"\0" * signed_files.TAG_BYTES + payload)
    foreign = cache / "foreign.pkl"  # signed, but with another key
    signed_files.write_signed(foreign, b"k" * 32, payload)
    renamed = cache / "renamed.pkl"  # a genuine entry under another entry's name
    signed_files.write_signed(cache / "original.pkl", signed_files.load_key(), payload)
    (cache / "original.pkl").rename(renamed)
    with caplog.at_level(logging.WARNING):
        for path in (forged, foreign, renamed):
            assert compiled.load(path) is None
            _refused(caplog, path)
    assert not marker.exists()


def test_a_tampered_payload_is_refused(cache: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = signed_files.load_key()
    path = cache / "entry.pkl"
    signed_files.write_signed(path, key, pickle.dumps({"format": compiled.FORMAT}))
    assert signed_files.read_signed(path, key) == pickle.dumps({"format": compiled.FORMAT})
    data = bytearray(path.read_bytes())
    data[-2] ^= 0x01
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        assert signed_files.read_signed(path, key) is None
    _refused(caplog, path)


def test_a_folder_others_can_write_is_refused_even_with_a_valid_entry(
    cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "pwned"
    key = signed_files.load_key()
    path = cache / "entry.pkl"
    signed_files.write_signed(path, key, pickle.dumps(_Boom(marker)))
    cache.chmod(0o777)
    with caplog.at_level(logging.WARNING):
        assert compiled.load(path) is None
        assert "writable by other users" in _refused(caplog, path)
        with pytest.raises(signed_files.UntrustedError):
            signed_files.write_signed(path, key, b"x")
    assert not marker.exists()


def test_a_file_others_can_write_or_a_link_is_refused(
    cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = signed_files.load_key()
    path = cache / "entry.pkl"
    signed_files.write_signed(path, key, b"payload")
    path.chmod(0o666)
    link = cache / "link.pkl"
    link.symlink_to(path)
    with caplog.at_level(logging.WARNING):
        assert signed_files.read_signed(path, key) is None
        assert signed_files.read_signed(link, key) is None
    _refused(caplog, path)
    _refused(caplog, link)
    path.chmod(0o600)
    assert signed_files.read_signed(path, key) == b"payload"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_a_file_or_folder_of_another_user_is_refused(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = signed_files.load_key()
    path = cache / "entry.pkl"
    signed_files.write_signed(path, key, b"payload")
    os.chown(path, 12345, 12345)
    with caplog.at_level(logging.WARNING):
        assert signed_files.read_signed(path, key) is None
    assert "owned by uid 12345" in _refused(caplog, path)
    os.chown(path, 0, 0)
    os.chown(cache, 12345, 12345)
    with caplog.at_level(logging.WARNING):
        assert signed_files.read_signed(path, key) is None
    os.chown(cache, 0, 0)


def test_the_key_is_made_private_and_refused_when_open_to_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret" / "cache-key"
    monkeypatch.setenv("IPVALUE_CACHE_KEY_FILE", str(path))
    key = signed_files.load_key()
    assert len(key) == signed_files.KEY_BYTES and signed_files.load_key() == key
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    path.chmod(0o644)  # readable by others: anyone could sign entries
    with pytest.raises(signed_files.UntrustedError, match="open to other users"):
        signed_files.load_key()


def test_an_unsafe_key_means_no_cache_not_a_failed_estimate(
    cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = signed_files.load_key()
    path = cache / "entry.pkl"
    signed_files.write_signed(path, key, pickle.dumps(_Boom(tmp_path / "pwned")))
    signed_files.key_file().chmod(0o640)
    with caplog.at_level(logging.WARNING):
        assert compiled.load(path) is None
    assert any("cache key is not safe" in r.getMessage() for r in caplog.records)
    assert not (tmp_path / "pwned").exists()


def test_importing_the_volatility_package_changes_no_environment_variable() -> None:
    code = (
        "import json, os; before = dict(os.environ); import ipvalue.risk.volatility; "
        "import ipvalue.risk; print(json.dumps(dict(os.environ) == before))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTENSOR_FLAGS"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) is True


_PLANT_AND_ESTIMATE = """
import json, pickle, sys
from pathlib import Path
import numpy as np
from ipvalue.risk.volatility import estimate_volatility, model_cache
from ipvalue.risk.volatility.priors import DEFAULT_PRIOR
from ipvalue.risk.volatility.problem import make_problem

marker = Path(sys.argv[1])
class Boom:
    def __reduce__(self):
        return (Path.touch, (marker,))
path = model_cache.entry_path(make_problem("student_t", np.zeros(40), [], 12.0, DEFAULT_PRIOR))
path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
path.write_bytes(pickle.dumps(Boom()))  # planted where the estimate will look
z = np.random.default_rng(1).standard_normal(40)
est = estimate_volatility({"series": list(z * 0.3 / np.sqrt(12)), "kind": "returns",
                           "periods_per_year": 12, "seed": 5, "draws": 300, "tune": 300})
print(json.dumps({"model": est.model, "sigma": float(np.median(est.sigma_draws)),
                  "entry_signed": path.read_bytes().startswith(b"IPVSIG1")}))
"""


@pytest.mark.slow
def test_an_estimate_never_runs_a_pickle_planted_at_its_entry(tmp_path: Path) -> None:
    """End to end in a new process: refused (WARNING), compiled afresh, replaced by a signed one."""
    from ipvalue.risk.volatility import compiled as disk

    marker = tmp_path / "pwned"
    env = {
        **os.environ,
        "IPVALUE_CACHE_DIR": str(tmp_path / "cache"),
        "IPVALUE_CACHE_KEY_FILE": str(tmp_path / "secret" / "cache-key"),
        # share the (slow to fill) PyTensor cache; only the nutpie entries start empty
        "PYTENSOR_FLAGS": f"base_compiledir={disk.cache_root() / 'pytensor'}",
    }
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _PLANT_AND_ESTIMATE, str(marker)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert not marker.exists()
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["model"] == "student_t" and 0.05 < answer["sigma"] < 1.5
    assert answer["entry_signed"] is True
    assert "refused cache entry" in out.stderr and "HMAC" in out.stderr


def test_numba_machine_code_is_not_cached_in_a_folder_others_can_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """numba's own cache (the Monte Carlo sampler's) unpickles its index: same folder rule."""
    import numba

    from ipvalue.risk.montecarlo.normals import compiled as with_disk_cache

    root = tmp_path / "shared"
    (root / "numba").mkdir(parents=True)
    root.chmod(0o777)
    (root / "numba").chmod(0o777)
    monkeypatch.setenv("IPVALUE_CACHE_DIR", str(root))

    @numba.njit
    def four_times(x):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
        return 4 * x

    with caplog.at_level(logging.WARNING):
        assert with_disk_cache(four_times)(2) == 8
    assert not list(root.rglob("*.nbi")) and not list(root.rglob("*.nbc"))
    assert any("writable by other users" in r.getMessage() for r in caplog.records)
