"""The built wheel is the product: one ``ipvalue`` namespace, every package in it, usable outside
the source tree.

The wheel is built without build isolation's network use beyond setuptools itself, installed
with ``--no-deps`` into a fresh virtual environment that borrows this environment's dependencies
through a path file (so no download of PyMC and friends), and run from a folder that is not the
source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from ipvalue.api.cli import main

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("models", "valuation", "risk", "api")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    warnings = [
        line
        for line in (build.stdout + build.stderr).splitlines()
        if "Warning" in line and "Location" not in line and "Editable" not in line
    ]
    assert not warnings, "setuptools warns on build:\n" + "\n".join(warnings)
    (found,) = out.glob("ipvalue-*.whl")
    return found


def _tree_packages() -> set[str]:
    """Every folder of the four layers that holds Python files or package data."""
    found = set()
    for layer in LAYERS:
        for folder in [ROOT / layer, *(ROOT / layer).rglob("*")]:
            if not folder.is_dir() or folder.name == "__pycache__":
                continue
            if any(f.is_file() for f in folder.iterdir()):
                found.add(str(folder.relative_to(ROOT)))
    return found


def test_the_wheel_holds_every_package_under_one_namespace(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"ipvalue"}, f"the wheel installs other top-level names: {sorted(top)}"
    folders = {
        str(Path(n).parent.relative_to("ipvalue")) for n in names if n.startswith("ipvalue/")
    }
    missing = _tree_packages() - folders
    assert not missing, f"folders of the tree missing from the wheel: {sorted(missing)}"
    assert "ipvalue/api/migrations/versions/0001_initial.py" in names
    assert "ipvalue/api/documents/templates/valuation.html" in names
    assert "ipvalue/api/documents/fonts/ipvalue-cjk-sc.ttf" in names


def _fresh_env(tmp: Path, wheel: Path) -> Path:
    """A new venv with the wheel installed, dependencies borrowed from this environment."""
    env_dir = tmp / "env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Only the dependencies: this environment's editable ipvalue is a finder that a plain path
    # entry does not activate, so the wheel's copy is the one imported.
    Path(site, "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return env_dir


def test_the_installed_wheel_values_the_example_outside_the_tree(
    wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_dir = _fresh_env(tmp_path, wheel)
    example = tmp_path / "work" / "patent.json"
    example.parent.mkdir()
    example.write_text((ROOT / "examples" / "patent.json").read_text())
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run = subprocess.run(
        [str(env_dir / "bin" / "ipvalue"), "value", str(example), "--json"],
        capture_output=True,
        text=True,
        cwd=example.parent,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    where = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", "import ipvalue.api; print(ipvalue.api.__file__)"],
        capture_output=True,
        text=True,
        cwd=example.parent,
        env=env,
        check=True,
    ).stdout
    assert str(env_dir) in where and str(ROOT) not in where
    assert main(["value", str(ROOT / "examples" / "patent.json"), "--json"]) == 0
    in_tree = json.loads(capsys.readouterr().out)
    assert json.loads(run.stdout) == in_tree
