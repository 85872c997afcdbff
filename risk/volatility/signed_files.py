"""Files only this service's user can have written, authenticated with an HMAC before use.

The compiled-model cache stores machine code and pickles: whoever can write an entry runs code
in the process that loads it. So an entry is trusted only when

- its folder and every folder above it are owned by this user (or root) and writable by nobody
  else (a folder writable by others is accepted only with the sticky bit, like ``/tmp``);
- the file itself is a regular file (not a symbolic link) owned by this user, writable by
  nobody else;
- it starts with `MAGIC` and an HMAC-SHA256 tag of its name and payload under a key kept
  outside the cache (`key_file`), and the tag matches.

Only then are the payload bytes returned, so nothing is unpickled before the check. A refused
entry is logged at WARNING with the reason; a missing one is not.

The key is read from ``IPVALUE_CACHE_KEY_FILE``, else ``$XDG_CONFIG_HOME/ipvalue/cache-key``
(``~/.config/ipvalue/cache-key``); ``ipvalue serve --production`` sets the variable to
``cache-key`` in its instance folder. A missing key file is created with 32 random bytes, mode
0600; one readable or writable by others is refused (and nothing is cached or loaded).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

MAGIC = b"IPVSIG1\n"
"""First bytes of a signed file (format version 1)."""
TAG_BYTES = hashlib.sha256().digest_size
KEY_BYTES = 32
KEY_FILE_ENV = "IPVALUE_CACHE_KEY_FILE"


class UntrustedError(Exception):
    """A file, folder or key that someone else could have written."""


def key_file() -> Path:
    """Where the HMAC key lives: ``$IPVALUE_CACHE_KEY_FILE``, else the user's config folder."""
    given = os.environ.get(KEY_FILE_ENV)
    if given:
        return Path(given)
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "ipvalue" / "cache-key"


def _owner_ok(st: os.stat_result) -> bool:
    return st.st_uid in {os.geteuid(), 0}


def check_folder(folder: Path) -> None:
    """Raise `UntrustedError` unless ``folder`` and its parents are writable by this user only.

    A parent writable by others passes only with the sticky bit (``/tmp``): then nobody else can
    rename or remove what this user put in it.
    """
    path = folder.absolute()
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise UntrustedError(f"{path} is not a folder (a symbolic link or a file)")
    if st.st_uid != os.geteuid():
        raise UntrustedError(f"{path} is owned by uid {st.st_uid}, not this user")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UntrustedError(f"{path} is writable by other users (mode {st.st_mode & 0o777:o})")
    for parent in path.parents:
        pst = os.stat(parent)
        if not _owner_ok(pst):
            raise UntrustedError(f"{parent} is owned by uid {pst.st_uid}")
        if pst.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not pst.st_mode & stat.S_ISVTX:
            raise UntrustedError(f"{parent} is writable by other users without the sticky bit")


def private_folder(folder: Path) -> Path:
    """``folder``, created with mode 0700 if missing, checked with `check_folder`."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    check_folder(folder)
    return folder


def _check_file(path: Path, st: os.stat_result, secret: bool = False) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise UntrustedError(f"{path} is not a regular file")
    if st.st_uid != os.geteuid():
        raise UntrustedError(f"{path} is owned by uid {st.st_uid}, not this user")
    bad = 0o077 if secret else (stat.S_IWGRP | stat.S_IWOTH)
    if st.st_mode & bad:
        raise UntrustedError(f"{path} is open to other users (mode {st.st_mode & 0o777:o})")


def _read(path: Path, secret: bool = False) -> bytes:
    """The bytes of ``path`` after checking the opened file (no symbolic link followed)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        _check_file(path, os.fstat(f.fileno()), secret)
        return f.read()


def load_key(path: Path | None = None) -> bytes:
    """The HMAC key in ``path`` (default `key_file`), made (0600, in a 0700 folder) if missing.

    Raises
    ------
    UntrustedError
        When the key file or its folder could have been read or written by someone else.
    """
    path = key_file() if path is None else path
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(KEY_BYTES))
    key = _read(path, secret=True)
    if len(key) < KEY_BYTES:  # being written by another process right now, or cut short
        raise UntrustedError(f"{path} holds {len(key)} bytes; a key has {KEY_BYTES}")
    return key


def _tag(key: bytes, name: str, payload: bytes) -> bytes:
    return hmac.new(key, name.encode() + b"\0" + payload, hashlib.sha256).digest()


def read_signed(path: Path, key: bytes) -> bytes | None:
    """The payload of the signed file ``path``, or None when it is missing or not trusted.

    Nothing of the payload is interpreted before the folder, the file and the tag are checked;
    a refused file is logged at WARNING.
    """
    try:
        check_folder(path.parent)
        data = _read(path)
    except FileNotFoundError:
        return None
    except (OSError, UntrustedError) as exc:
        log.warning("refused cache entry %s: %s", path, exc)
        return None
    head, tag = data[: len(MAGIC)], data[len(MAGIC) : len(MAGIC) + TAG_BYTES]
    payload = data[len(MAGIC) + TAG_BYTES :]
    if head != MAGIC or not hmac.compare_digest(tag, _tag(key, path.name, payload)):
        log.warning(
            "refused cache entry %s: its HMAC does not match (not written by this service "
            "with this key)",
            path,
        )
        return None
    return payload


def write_signed(path: Path, key: bytes, payload: bytes) -> None:
    """Write ``payload`` to ``path`` with its tag, atomically, mode 0600, in a private folder."""
    private_folder(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + _tag(key, path.name, payload) + payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
