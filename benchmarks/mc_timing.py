"""Timing for the benchmarks: CPU-time ratios from alternating rounds, the machine's idleness,
and the verdict line each goal prints."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Timing:
    """Best wall and CPU seconds of one timed side."""

    wall: float = float("inf")
    cpu: float = float("inf")

    def over(self, base: Timing) -> str:
        """``cpu ratio (wall ratio)`` of this side over ``base``."""
        return f"{self.cpu / base.cpu:5.2f}x cpu ({self.wall / base.wall:.2f}x wall)"

    @property
    def ms(self) -> str:
        return f"{self.cpu * 1e3:8.1f} ms cpu ({self.wall * 1e3:7.1f} wall)"


def alternating(
    fns: list[Callable[[], Any]], rounds: int = 5, budget: float = 60.0
) -> list[Timing]:
    """Best wall and CPU time of each function over ``rounds`` rounds that run them in turn.

    Rounds stop early once ``budget`` wall seconds have passed (after the first round).
    """
    best = [Timing() for _ in fns]
    start = time.perf_counter()
    for done in range(rounds):
        if done and time.perf_counter() - start > budget:
            break
        for i, fn in enumerate(fns):
            w, c = time.perf_counter(), time.process_time()
            fn()
            best[i].cpu = min(best[i].cpu, time.process_time() - c)
            best[i].wall = min(best[i].wall, time.perf_counter() - w)
    return best


def _cpu_times() -> list[int]:
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:]]


def idle_share(seconds: float = 0.5) -> float:
    """Share of CPU time idle over the next ``seconds`` (all cores; nan off Linux)."""
    try:
        a = _cpu_times()
        time.sleep(seconds)
        b = _cpu_times()
    except OSError:
        return float("nan")
    d = [y - x for x, y in zip(a, b, strict=False)]
    return (d[3] + d[4]) / max(sum(d), 1)


def wait_for_idle(threshold: float = 0.9, timeout: float = 10.0) -> str:
    """Wait a little for idle CPUs; describe the machine's state."""
    deadline = time.monotonic() + timeout
    share = idle_share()
    while share < threshold and time.monotonic() < deadline:
        share = idle_share()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    note = "" if share >= threshold else " (busy: judge by the cpu ratios)"
    return f"    [load average {load} on {os.cpu_count()} cores; {share:.0%} idle]{note}"


VERDICTS: list[str] = []


def verdict(name: str, value: float, goal: float, at_most: bool = True) -> str:
    met = value <= goal if at_most else value >= goal
    sign = "<=" if at_most else ">="
    line = f"{name}: {value:.2f} (goal {sign} {goal:g}) {'met' if met else 'NOT met'}"
    VERDICTS.append(line)
    return "met" if met else "NOT met"


def draw_normals(count: int, n: int) -> Callable[[], Any]:
    rng = np.random.Generator(np.random.PCG64(1))
    return lambda: rng.standard_normal((count, n))
