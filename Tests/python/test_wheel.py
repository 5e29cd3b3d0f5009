"""The wheel `make wheel` builds (python/build_wheel.py): libmembrane.so inside, no RPATH,
tagged for the platform; installed into a fresh virtual environment, offline, it looks an
integration up with nothing set in the environment, and says which system library is
missing when one is."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, NamedTuple

import pytest

import membrane
from conftest import PACKAGE_DIR, REPO, TOKEN, MockServer, find_fixture

pytestmark = pytest.mark.package

BUNDLED = "membrane/_lib/libmembrane.so.0"


class Installed(NamedTuple):
    wheel: Path
    python: Path      # the virtual environment's interpreter
    package: Path     # <venv>/lib/python3.X/site-packages/membrane
    workdir: Path     # a folder outside the checkout to run from


def run(command: List[Any], **kwargs: Any) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                            timeout=300, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def bare_env() -> Dict[str, str]:
    """No MEMBRANE_*, PYTHON*, LD_LIBRARY_PATH, VIRTUAL_ENV, proxies: only a PATH."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def library_under_test() -> Path:
    return Path(os.environ.get("MEMBRANE_LIBRARY") or REPO / ".build" / "release" / "libmembrane.so")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    built = run([sys.executable, PACKAGE_DIR / "build_wheel.py", library_under_test(), base / "dist"])
    wheel = Path(built.stdout.strip().splitlines()[-1])
    venv = base / "venv"
    run([sys.executable, "-m", "venv", venv], env=bare_env())
    python = venv / "bin" / "python"
    workdir = base / "work"
    workdir.mkdir()
    run([python, "-m", "pip", "install", "-q", "--no-index", wheel], cwd=workdir, env=bare_env())
    found = run([python, "-c", "import membrane, os; print(os.path.dirname(membrane.__file__))"],
                cwd=workdir, env=bare_env())
    yield Installed(wheel, python, Path(found.stdout.strip()), workdir)


def dynamic_section(library: Path) -> str:
    return run(["readelf", "-d", library]).stdout


def test_the_wheel_is_for_this_platform_and_carries_the_library(installed: Installed) -> None:
    machine = platform.machine()
    assert re.fullmatch(rf"libmembrane-{re.escape(membrane.__version__)}-py3-none-linux_{machine}\.whl",
                        installed.wheel.name), installed.wheel.name
    with zipfile.ZipFile(installed.wheel) as archive:
        names = set(archive.namelist())
        wheel_info = archive.read(f"libmembrane-{membrane.__version__}.dist-info/WHEEL").decode()
    assert BUNDLED in names and "membrane/py.typed" in names and "membrane/_native.py" in names
    assert "Root-Is-Purelib: false" in wheel_info
    assert f"Tag: py3-none-linux_{machine}" in wheel_info
    # The build used a copy: the source folder still makes a wheel without the library.
    assert not (PACKAGE_DIR / "membrane" / "_lib").exists()
    print(f"wheel: {installed.wheel.name}, {installed.wheel.stat().st_size} bytes")


def test_the_bundled_library_has_no_rpath(installed: Installed) -> None:
    bundled = installed.package / "_lib" / "libmembrane.so.0"
    dynamic = dynamic_section(bundled)
    assert "(SONAME)" in dynamic and "[libmembrane.so.0]" in dynamic
    assert "(RPATH)" not in dynamic and "(RUNPATH)" not in dynamic, dynamic
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic))
    assert {"libjansson.so.4", "libcurl.so.4"} <= needed
    assert not [name for name in needed if "swift" in name.lower()], needed  # the runtime is inside
    # The copy differs from the build only by the removed entries: same size, same symbols.
    assert bundled.stat().st_size == library_under_test().resolve().stat().st_size


LOOKUP = r"""
import json, sys
import membrane
client = membrane.Client(sys.argv[1], sys.argv[2])
hubspot = client.integration("hubspot")
with open("/proc/self/maps") as maps:
    mapped = sorted({line.split()[-1] for line in maps if "libmembrane" in line})
print(json.dumps({"integration": hubspot, "library": membrane.library_path(),
                  "mapped": mapped, "file": membrane.__file__}))
"""


def test_lookup_with_nothing_in_the_environment(installed: Installed, mock: MockServer,
                                                fixtures: List[Dict[str, Any]]) -> None:
    result = subprocess.run([str(installed.python), "-c", LOOKUP, mock.url, TOKEN],
                            capture_output=True, text=True, timeout=120, cwd=installed.workdir,
                            env=bare_env())
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    info = json.loads(result.stdout)
    expected = find_fixture(fixtures, "hubspot")
    got = info["integration"]
    assert {k: v for k, v in got.items() if k != "parameters"} == \
        {k: v for k, v in expected.items() if k != "parameters"}
    assert got["parameters"]["clientSecret"] != expected["parameters"]["clientSecret"]  # masked
    assert Path(info["file"]).parent == installed.package
    bundled = str(installed.package / "_lib" / "libmembrane.so.0")
    assert info["library"] == bundled
    assert info["mapped"] == [bundled]  # the bundled file, and no other libmembrane
    assert [r["path"] for r in mock.requests()] == ["/integrations/hubspot"]


def test_a_missing_system_library_is_named(installed: Installed, tmp_path: Path) -> None:
    """The installed package, with its bundled library needing a jansson the system lacks."""
    copy = tmp_path / "membrane"
    shutil.copytree(installed.package, copy)
    bundled = copy / "_lib" / "libmembrane.so.0"
    data = bundled.read_bytes()
    assert data.count(b"libjansson.so.4\0") == 1
    bundled.write_bytes(data.replace(b"libjansson.so.4\0", b"libjansson.so.9\0"))
    script = ("import membrane\n"                      # importing never loads the library
              "try:\n"
              "    membrane.Client('http://127.0.0.1:9', 't')\n"
              "except OSError as e:\n"
              "    print(type(e).__name__, e)\n")
    result = subprocess.run([str(installed.python), "-c", script], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path, env=bare_env())
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert message.startswith(f"OSError cannot load libmembrane ({bundled}): it needs libjansson.so.9 "
                              "(jansson, the JSON library), which this system does not have."), message
    assert "apt-get install libjansson9" in message and "dnf install jansson" in message


@pytest.mark.parametrize("missing, install", [
    ("libjansson.so.4", "apt-get install libjansson4 (Debian, Ubuntu)"),
    ("libcurl.so.4", "apt-get install libcurl4 (libcurl4t64 on Debian 13"),
    ("libfoo.so.2", "Install the package that provides libfoo.so.2"),
])
def test_the_message_for_each_system_library(missing: str, install: str) -> None:
    error = f"{missing}: cannot open shared object file: No such file or directory"
    message = membrane._native.missing_dependency("/x/libmembrane.so.0", error)
    assert message is not None and f"it needs {missing}" in message and install in message
    # The library itself missing, or another failure, is not a missing dependency.
    assert membrane._native.missing_dependency(
        "/x/libmembrane.so.0", "/x/libmembrane.so.0: cannot open shared object file: No such file") is None
    assert membrane._native.missing_dependency("libmembrane.so.0", error.replace(missing, "libmembrane.so.0")) is None
    assert membrane._native.missing_dependency("/x/l.so", "/x/l.so: invalid ELF header") is None
