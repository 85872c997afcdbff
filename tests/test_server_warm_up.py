"""Each gunicorn worker loads the Monte Carlo sampler's compiled kernels before it serves
(`ipvalue.api.server.warm_up_worker`); under a real server, `tests/test_ops_server.py` checks one
warm-up per worker process in the log."""

from __future__ import annotations

import os
from typing import Any

import pytest

from ipvalue.api import server
from ipvalue.risk.montecarlo import normals, sampling


class FakeWorker:
    alive = True
    wsgi = None

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls
        self.ppid = os.getppid()

    def notify(self) -> None:
        self.calls.append("notify")


def test_a_worker_warms_the_sampler_before_it_dispatches_jobs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(sampling, "warm_up", lambda: calls.append("warm up"))
    monkeypatch.setattr(server, "start_sweeper", lambda *_a: calls.append("dispatch"))
    server._post_worker_init(FakeWorker(calls))
    # alive for the master around the warm-up, then jobs
    assert calls == ["notify", "warm up", "notify", "dispatch"]


def test_warming_a_worker_leaves_every_sampler_kernel_compiled() -> None:
    calls: list[str] = []
    seconds = server.warm_up_worker(FakeWorker(calls))
    kernels: tuple[Any, ...] = (normals._fill_normals, normals._combine, sampling._inverse_cdf)
    assert seconds >= 0 and calls == ["notify", "notify"]
    assert all(kernel.signatures for kernel in kernels)
