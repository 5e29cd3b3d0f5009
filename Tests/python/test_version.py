"""Versions: version_num(), and refusing a library of another major version."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

import membrane
from conftest import PACKAGE_DIR, PYTHON_EXAMPLES, REPO

HEADER = REPO / "Include" / "membrane.h"


def header_macro(name: str) -> str:
    match = re.search(rf"^#define {name}\s+(\S+)", HEADER.read_text(), re.MULTILINE)
    assert match, name
    return match.group(1).strip('"')


def test_version_num_matches_the_version_string() -> None:
    num = membrane.version_num()
    major, minor, patch = (int(part) for part in membrane.version().split("."))
    assert num == (major << 16) | (minor << 8) | patch
    assert num >> 16 == membrane.REQUIRED_MAJOR == 0
    assert num >= membrane.MINIMUM_VERSION_NUM == 0x000200


def test_the_package_matches_the_header() -> None:
    assert int(header_macro("MEMBRANE_VERSION_MAJOR")) == membrane.REQUIRED_MAJOR
    assert header_macro("MEMBRANE_VERSION_STRING") == membrane.__version__
    assert membrane.version() == membrane.__version__  # the library built from this checkout


def test_library_path() -> None:
    path = Path(membrane.library_path())
    assert path.is_absolute() and path.exists()
    expected = os.environ.get("MEMBRANE_LIBRARY") or REPO / ".build" / "release" / "libmembrane.so"
    assert path.resolve() == Path(expected).resolve()


def test_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMBRANE_LIBRARY", "/somewhere/libmembrane.so")
    assert membrane._native._candidates() == ["/somewhere/libmembrane.so"]  # the only one
    monkeypatch.delenv("MEMBRANE_LIBRARY")
    assert membrane._native._candidates() == [str(REPO / ".build" / "release" / "libmembrane.so"),
                                      "libmembrane.so.0"]
    monkeypatch.setattr(membrane._native, "_source_checkout_library", lambda: None)  # as when installed
    assert membrane._native._candidates() == ["libmembrane.so.0"]


def test_the_bundled_copy_comes_before_the_checkout_and_the_system(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MEMBRANE_LIBRARY", raising=False)
    assert membrane._native._bundled_library() is None  # the source folder carries none
    lib_dir = tmp_path / "_lib"
    lib_dir.mkdir()
    (lib_dir / "libmembrane.so.0").write_bytes(b"")
    monkeypatch.setattr(membrane._native, "_PACKAGE_DIR", tmp_path)  # as in an installed wheel
    monkeypatch.setattr(membrane._native, "_source_checkout_library", lambda: Path("/checkout.so"))
    assert membrane._native._candidates() == [str(lib_dir / "libmembrane.so.0"), "/checkout.so",
                                              "libmembrane.so.0"]
    monkeypatch.setenv("MEMBRANE_LIBRARY", "/mine.so")
    assert membrane._native._candidates() == ["/mine.so"]


# -- the check, on stand-ins ----------------------------------------------------------


class Stub:
    """Something with the library's version functions as attributes, as a CDLL has."""

    def __init__(self, num: Optional[int], text: Optional[str]) -> None:
        if num is not None:
            def version_num() -> int:
                return num
            self.membrane_version_num = version_num
        if text is not None:
            def version() -> bytes:
                return text.encode()
            self.membrane_version = version


def test_check_accepts_this_major() -> None:
    assert membrane._native._check_version(Stub(0x000200, "0.2.0"), "stub.so") == 0x000200
    assert membrane._native._check_version(Stub(0x000307, "0.3.7"), "stub.so") == 0x000307
    assert membrane._native._check_version(Stub(0x0002FF, None), "stub.so") == 0x0002FF


def test_check_refuses_another_major() -> None:
    with pytest.raises(membrane.LibraryVersionError) as caught:
        membrane._native._check_version(Stub(0x010000, "1.0.0"), "/x/libmembrane.so.1")
    message = str(caught.value)
    assert "/x/libmembrane.so.1" in message
    assert "1.0.0" in message and "major version 1" in message
    assert "major version 0" in message and membrane.__version__ in message
    assert isinstance(caught.value, OSError)
    with pytest.raises(membrane.LibraryVersionError, match=r"libmembrane 2\.1\.3 \(major version 2\)"):
        membrane._native._check_version(Stub(0x020103, None), "stub.so")


def test_check_refuses_a_library_too_old() -> None:
    with pytest.raises(membrane.LibraryVersionError, match="no membrane_version_num"):
        membrane._native._check_version(Stub(None, "0.1.0"), "old.so")
    with pytest.raises(membrane.LibraryVersionError, match="0.1.5, too old"):
        membrane._native._check_version(Stub(0x000105, "0.1.5"), "old.so")


# -- the check, on real shared libraries --------------------------------------------


FAKES = {
    "major1": 'unsigned membrane_version_num(void) { return 0x010000; }\n'
              'const char *membrane_version(void) { return "1.0.0"; }\n',
    "old": 'const char *membrane_version(void) { return "0.1.0"; }\n',
    "partial": 'unsigned membrane_version_num(void) { return 0x000300; }\n'
               'const char *membrane_version(void) { return "0.3.0"; }\n',
}


@pytest.fixture(scope="module")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the stand-in libraries")
    folder = tmp_path_factory.mktemp("fake-libs")
    built = {}
    for name, code in FAKES.items():
        source = folder / f"{name}.c"
        source.write_text(code)
        library = folder / f"libmembrane-{name}.so"
        subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
        built[name] = library
    return built


def run_with_library(library: Path, code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["MEMBRANE_LIBRARY"] = str(library)
    env["PYTHONPATH"] = str(PACKAGE_DIR)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=60)


SHOW = ("import membrane\n"
        "try:\n"
        "    membrane.version()\n"
        "except membrane.LibraryVersionError as e:\n"
        "    print('refused:', e)\n"
        "else:\n"
        "    print('accepted')\n")


def test_another_major_is_refused(fakes: Dict[str, Path]) -> None:
    result = run_with_library(fakes["major1"], SHOW)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("refused: "), out
    assert str(fakes["major1"]) in out
    assert "libmembrane 1.0.0 (major version 1)" in out
    assert f"(membrane {membrane.__version__}) is built for major version 0" in out


def test_every_entry_point_refuses(fakes: Dict[str, Path]) -> None:
    code = ("import membrane\n"
            "for call in (membrane.version, membrane.version_num, membrane.library_path,\n"
            "             lambda: membrane.strerror(0), lambda: membrane.Client('http://x', 't')):\n"
            "    try:\n"
            "        call()\n"
            "    except membrane.LibraryVersionError:\n"
            "        print('refused')\n")
    result = run_with_library(fakes["major1"], code)
    assert result.stdout.split() == ["refused"] * 5, (result.stdout, result.stderr)


def test_a_library_without_version_num_is_refused(fakes: Dict[str, Path]) -> None:
    result = run_with_library(fakes["old"], SHOW)
    assert "refused: " in result.stdout and "too old" in result.stdout, result
    assert "membrane_version_num" in result.stdout


def test_a_library_missing_functions_is_refused(fakes: Dict[str, Path]) -> None:
    result = run_with_library(fakes["partial"], SHOW)
    assert "refused: " in result.stdout and "lacks a function" in result.stdout, result
    assert "0.3.0" in result.stdout


def test_lookup_py_reports_the_refusal(fakes: Dict[str, Path]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(MEMBRANE_LIBRARY=str(fakes["major1"]), MEMBRANE_TOKEN="t")
    result = subprocess.run([sys.executable, str(PYTHON_EXAMPLES / "lookup.py"), "hubspot"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 13
    assert result.stderr.startswith("lookup.py: ") and "1.0.0" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_library(tmp_path: Path) -> None:
    result = run_with_library(tmp_path / "nothing.so", "import membrane\nmembrane.version()\n")
    assert result.returncode != 0
    assert "cannot load libmembrane" in result.stderr and "nothing.so" in result.stderr


def test_loading_is_lazy(fakes: Dict[str, Path]) -> None:
    """import membrane works whatever the library: it is loaded on first use."""
    result = run_with_library(fakes["major1"], "import membrane, membrane.views\nprint('ok')\n")
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr
