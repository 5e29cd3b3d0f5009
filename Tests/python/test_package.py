"""The package as a user gets it: `make install` the library, `pip install ./python`
into a fresh virtual environment, and look an integration up from outside the checkout,
with the library found by the dynamic loader (LD_LIBRARY_PATH), not MEMBRANE_LIBRARY."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, NamedTuple

import pytest

import membrane
from conftest import PACKAGE_DIR, REPO, TOKEN, MockServer

pytestmark = pytest.mark.package

PREFIX = "usr/local"


class Installed(NamedTuple):
    root: Path      # the DESTDIR
    libdir: Path    # <root>/usr/local/lib
    python: Path    # the virtual environment's interpreter
    workdir: Path   # a folder outside the checkout to run from
    timings: Dict[str, float]


def run(command: List[str], timeout: float = 300, **kwargs: Any) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def clean_env(**extra: str) -> Dict[str, str]:
    """The environment of a user's shell: nothing of the test run's library or Python settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MEMBRANE_", "PYTHON", "VIRTUAL_ENV", "LD_LIBRARY_PATH", "PIP_REQUIRE"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def pip_install_command(python: Path, source: Path) -> List[str]:
    """--no-build-isolation (offline, quick) when the venv can build a wheel by itself."""
    probe = subprocess.run(
        [str(python), "-c",
         "import setuptools, importlib.util as u\n"
         "v = tuple(int(p) for p in setuptools.__version__.split('.')[:2])\n"
         "ok = v >= (61, 0) and (v >= (70, 1) or u.find_spec('wheel') is not None)\n"
         "print('yes' if ok else 'no')\n"],
        capture_output=True, text=True, env=clean_env())
    command = [str(python), "-m", "pip", "install", "-q"]
    if probe.stdout.strip() == "yes":
        command += ["--no-build-isolation", "--no-index"]
    # Otherwise pip fetches setuptools (and wheel) for the build from the package index.
    return command + [str(source)]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("package")
    root = base / "root"
    timings: Dict[str, float] = {}

    began = time.monotonic()
    run(["make", "--no-print-directory", "install", f"DESTDIR={root}"], cwd=REPO)
    timings["make install"] = time.monotonic() - began
    libdir = root / PREFIX / "lib"

    began = time.monotonic()
    venv = base / "venv"
    run([sys.executable, "-m", "venv", str(venv)], env=clean_env())
    python = venv / "bin" / "python"
    timings["venv"] = time.monotonic() - began

    # pip builds in the source folder (build/, *.egg-info): give it a copy, which
    # also proves the package needs nothing from outside python/.
    source = base / "src"
    shutil.copytree(PACKAGE_DIR, source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".*"))
    began = time.monotonic()
    workdir = base / "work"
    workdir.mkdir()
    run(pip_install_command(python, source), cwd=workdir, env=clean_env(), timeout=600)
    timings["pip install"] = time.monotonic() - began
    yield Installed(root, libdir, python, workdir, timings)


def run_in_venv(installed: Installed, script: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(installed.python), "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=installed.workdir, env=clean_env(**env))


def test_make_install_layout(installed: Installed) -> None:
    version = membrane.__version__
    major = version.split(".")[0]
    lib = installed.libdir
    assert (lib / f"libmembrane.so.{version}").is_file()
    assert os.readlink(lib / f"libmembrane.so.{major}") == f"libmembrane.so.{version}"
    assert os.readlink(lib / "libmembrane.so") == f"libmembrane.so.{major}"
    assert (installed.root / PREFIX / "include" / "membrane.h").is_file()
    assert (lib / "pkgconfig" / "membrane.pc").is_file()
    print("timings:", {k: round(v, 2) for k, v in installed.timings.items()})


LOOKUP = r"""
import importlib.metadata, json, os, sys
from pathlib import Path
import membrane
from membrane.views import IntegrationView, State

package = Path(membrane.__file__).parent
with membrane.Client() as client:            # MEMBRANE_API_URL / MEMBRANE_TOKEN
    hubspot = IntegrationView(client.integration("hubspot"))
    batch = client.integrations(["salesforce", "no-such-integration"])
    listed = [item["key"] for item in client.list_integrations(limit=5)]
print(json.dumps({
    "file": membrane.__file__,
    "prefix": sys.prefix,
    "library": membrane.library_path(),
    "version": membrane.version(),
    "version_num": membrane.version_num(),
    "package_version": membrane.__version__,
    "distribution_version": importlib.metadata.version("libmembrane"),
    "py_typed": (package / "py.typed").is_file(),
    "files": sorted(str(f) for f in importlib.metadata.files("libmembrane") or []),
    "key": hubspot.key,
    "ready": hubspot.state == State.READY,
    "batch": [r["key"] if isinstance(r, dict) else type(r).__name__ for r in batch],
    "listed": len(listed),
}))
"""


def test_lookup_from_the_installed_package(installed: Installed, mock: MockServer,
                                           fixtures: List[Dict[str, Any]]) -> None:
    result = run_in_venv(installed, LOOKUP, LD_LIBRARY_PATH=str(installed.libdir),
                         MEMBRANE_API_URL=mock.url, MEMBRANE_TOKEN=TOKEN)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    info = json.loads(result.stdout)
    # The installed copy, not the checkout's ...
    assert Path(info["file"]).is_relative_to(Path(info["prefix"]))  # type: ignore[attr-defined]
    assert not Path(info["file"]).resolve().is_relative_to(REPO)  # type: ignore[attr-defined]
    # ... with the installed library, found through LD_LIBRARY_PATH.
    assert Path(info["library"]).resolve().is_relative_to(installed.libdir.resolve())  # type: ignore[attr-defined]
    assert Path(info["library"]).name == "libmembrane.so.0"
    assert info["version"] == membrane.version() == info["package_version"]
    assert info["version_num"] == membrane.version_num()
    assert info["distribution_version"] == membrane.__version__
    assert info["py_typed"] is True
    assert "membrane/py.typed" in info["files"] and "membrane/views.py" in info["files"]
    assert info["key"] == "hubspot" and info["ready"] is True
    assert info["batch"] == ["salesforce", "NotFound"]
    assert info["listed"] == len([f for f in fixtures if not f.get("archivedAt")])
    assert len(mock.requests()) >= 4


def test_without_the_library_on_the_loader_path(installed: Installed) -> None:
    """No MEMBRANE_LIBRARY, no LD_LIBRARY_PATH, no checkout: a clear error, unless the
    machine has a libmembrane.so.0 of its own (then it must be a major-0 one)."""
    script = ("import membrane\n"
              "try:\n"
              "    print('loaded', membrane.library_path())\n"
              "except OSError as e:\n"
              "    print('error', e)\n")
    result = run_in_venv(installed, script)
    assert result.returncode == 0, result.stderr
    if result.stdout.startswith("loaded "):
        assert not result.stdout.split(" ", 1)[1].startswith(str(REPO))
    else:
        assert result.stdout.startswith("error cannot load libmembrane"), result.stdout
        assert "libmembrane.so.0" in result.stdout and "MEMBRANE_LIBRARY" in result.stdout
