"""Where jobs run: each in its own child process by default, on a Dask cluster when one is named.

An executor takes ``(function, *args)`` and calls ``on_done(exception_or_None)`` when the call
ends. Both run `api.jobs.execute_job`, which reads and writes the job's state in the database
itself (fenced by its attempt number), so the process that submitted a job does not need to
outlive it, and a stale run writes nothing.

`ChildProcesses` starts one fresh interpreter per job (`CHILD_MAIN`, then `main`), not a
shared pool: a pool that loses one process is broken for every job queued behind it, whereas a
dead child ends only its own job, with its exit status or signal (`JobProcessDied`). On Linux each
child asks the kernel to kill it when its parent dies (``PR_SET_PDEATHSIG``), so no job outlives
the server worker that started it.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

Done = Callable[[BaseException | None], None]

#: ``prctl`` option: the signal the kernel sends this process when its parent thread exits.
PR_SET_PDEATHSIG = 1
#: Exit status of a child whose parent was gone before it could ask to die with it.
EXIT_ORPHANED = 70
#: Exit status of a child that lost its job's lease (another attempt has taken over).
EXIT_LEASE_LOST = 75
#: True in a process started by `ChildProcesses` for one job (it may exit at will).
DEDICATED = False
#: The program of a job's process (``python -c``; ``-m`` would import this module twice).
CHILD_MAIN = "import sys; from ipvalue.api.executors import main; sys.exit(main(sys.argv[1:]))"


class JobProcessDied(RuntimeError):
    """The process running a job ended without finishing it.

    Parameters
    ----------
    returncode : int
        Its exit status; ``-N`` when it was killed by signal ``N``.
    """

    def __init__(self, returncode: int) -> None:
        self.returncode = returncode
        super().__init__(describe_exit(returncode))


def describe_exit(returncode: int) -> str:
    """What an exit status says happened, e.g. ``killed by signal 9 (SIGKILL)``."""
    if returncode == EXIT_LEASE_LOST:
        return "the process running the job lost its lease (it could not renew it in time)"
    if returncode < 0:
        try:
            name = f" ({signal.Signals(-returncode).name})"
        except ValueError:
            name = ""
        return f"the process running the job was killed by signal {-returncode}{name}"
    return f"the process running the job died (exit status {returncode})"


def function_path(fn: Callable[..., Any]) -> str:
    """``module:qualname`` of a module-level function, checked to resolve back to it."""
    path = f"{fn.__module__}:{fn.__qualname__}"
    try:
        found = resolve(path)
    except (ImportError, AttributeError):
        found = None
    if found is not fn:
        raise ValueError(f"{path} is not a module-level function; jobs need one to re-run it")
    return path


def resolve(path: str) -> Callable[..., Any]:
    """The function named by `function_path`."""
    module, _, name = path.partition(":")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent dies; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


class Executor(Protocol):
    """Runs a call somewhere else."""

    def submit(self, fn: Callable[..., Any], *args: Any, on_done: Done) -> None:
        """Start ``fn(*args)``; call ``on_done`` with its exception (or None) when it ends."""
        ...

    def shutdown(self) -> None:
        """Stop taking work; end what runs here (its jobs are re-queued by their runner)."""
        ...


class ChildProcesses:
    """One child process per call: ``fn`` (module-level) and JSON ``args`` on its command line
    (the parent's pid is the last but one argument, so its children can be found by it).

    The parent death signal belongs to the thread that starts the child, so call `submit` from a
    thread that lives as long as the server worker (`api.jobs.JobRunner`'s dispatcher does).
    """

    def __init__(self) -> None:
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._stopping = False

    def submit(self, fn: Callable[..., Any], *args: Any, on_done: Done) -> None:
        if self._stopping:
            raise RuntimeError("the executor is shutting down")
        command = [
            sys.executable,
            "-c",
            CHILD_MAIN,
            function_path(fn),
            json.dumps(list(args)),
            str(os.getpid()),
            json.dumps(sys.path),
        ]
        child = subprocess.Popen(  # own session: a Ctrl-C meant for the server is not its
            command, stdin=subprocess.DEVNULL, close_fds=True, start_new_session=True
        )
        with self._lock:
            self._children[child.pid] = child

        def wait() -> None:
            code = child.wait()
            with self._lock:
                self._children.pop(child.pid, None)
            on_done(None if code == 0 else JobProcessDied(code))

        threading.Thread(target=wait, name=f"ipvalue-job-{child.pid}", daemon=True).start()

    def pids(self) -> list[int]:
        """Process ids of the children running now."""
        with self._lock:
            return list(self._children)

    def shutdown(self) -> None:
        """Kill the children still running (their jobs are fenced: they write nothing more)."""
        with self._lock:
            self._stopping = True
            children = list(self._children.values())
        for child in children:
            if child.poll() is None:
                child.kill()
        for child in children:
            child.wait()


class DaskExecutor:
    """A Dask ``distributed`` cluster at ``address`` (``tcp://host:8786``).

    Its workers must be able to import ipvalue and reach the database.
    """

    def __init__(self, address: str) -> None:
        self.address = address
        self._client: Any = None
        self._futures: set[Any] = set()
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._client is None:
                from distributed import Client

                self._client = Client(self.address, set_as_default=False, timeout=10)
            return self._client

    def submit(self, fn: Callable[..., Any], *args: Any, on_done: Done) -> None:
        from distributed import fire_and_forget

        future = self._get().submit(fn, *args, pure=False)
        fire_and_forget(future)
        with self._lock:
            self._futures.add(future)

        def _done(f: Any) -> None:
            with self._lock:
                self._futures.discard(f)
            try:
                exc = f.exception() if f.status == "error" else None
            except Exception as err:  # cancelled or lost
                exc = err
            if f.status == "cancelled" and exc is None:
                exc = RuntimeError("the Dask task was cancelled")
            on_done(exc)

        future.add_done_callback(_done)

    def shutdown(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def make_executor(dask_scheduler: str | None) -> Executor:
    """The Dask executor when a scheduler is named, else a child process per job."""
    if dask_scheduler:
        return DaskExecutor(dask_scheduler)
    return ChildProcesses()


def main(argv: list[str]) -> int:
    """Child process: ``<module:function> <JSON args> <parent pid> <JSON sys.path>``.

    The parent's import path is taken over (as ``multiprocessing``'s spawn does), so a job
    function the parent could import, this process can.
    """
    global DEDICATED
    path, args, parent, search = argv
    sys.path[:] = json.loads(search)
    die_with_parent()
    if os.getppid() != int(parent):  # the parent died before we asked to die with it
        return EXIT_ORPHANED
    DEDICATED = True
    resolve(path)(*json.loads(args))
    return 0
