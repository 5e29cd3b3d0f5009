#!/usr/bin/env python3
"""Build the wheel of the membrane package with libmembrane.so inside (make wheel).

    python3 python/build_wheel.py LIBRARY OUTDIR

Copies this folder to a temporary one, puts LIBRARY there as
``membrane/_lib/libmembrane.so.0`` without its RPATH/RUNPATH (the bundled copy
must find jansson and libcurl where the system keeps them, never next to a
build folder), and runs ``pip wheel`` on it offline: setuptools and, before
setuptools 70.1, the wheel package must be installed. The source folder is
left as it is, so ``pip install ./python`` still builds a wheel without the
library. Replaces any libmembrane wheel in OUTDIR; prints the new one's path.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Tuple

HERE = Path(__file__).resolve().parent
SONAME = "libmembrane.so.0"

_PT_DYNAMIC = 2
_DT_NULL, _DT_RPATH, _DT_RUNPATH = 0, 15, 29


def _dynamic_section(data: bytes) -> Tuple[int, int]:
    """(file offset, size) of the dynamic section of a 64-bit little-endian ELF file."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for index in range(phnum):
        header = phoff + index * phentsize
        (kind,) = struct.unpack_from("<I", data, header)
        if kind == _PT_DYNAMIC:
            offset, _vaddr, _paddr, size = struct.unpack_from("<QQQQ", data, header + 8)
            return offset, size
    raise ValueError("no dynamic section: not a shared library")


def strip_runpath(path: Path) -> int:
    """Remove the DT_RPATH and DT_RUNPATH entries of a shared library, in place.

    As ``chrpath -d`` does: the entries after them move up and the freed
    slots at the end become DT_NULL. Returns how many entries were removed.
    """
    data = bytearray(path.read_bytes())
    offset, size = _dynamic_section(data)
    entries: List[Tuple[int, int]] = []
    for position in range(offset, offset + size - 15, 16):
        tag, value = struct.unpack_from("<qQ", data, position)
        if tag == _DT_NULL:
            break
        entries.append((tag, value))
    kept = [(tag, value) for tag, value in entries if tag not in (_DT_RPATH, _DT_RUNPATH)]
    removed = len(entries) - len(kept)
    if removed:
        kept += [(_DT_NULL, 0)] * removed
        for index, (tag, value) in enumerate(kept):
            struct.pack_into("<qQ", data, offset + 16 * index, tag, value)
        path.write_bytes(bytes(data))
    return removed


def _can_build_wheels() -> bool:
    """setuptools with its bdist_wheel (70.1 and later), or older with the wheel package."""
    for module in ("setuptools.command.bdist_wheel", "wheel.bdist_wheel"):
        try:
            if importlib.util.find_spec(module) is not None:
                return True
        except ImportError:  # its package is missing
            continue
    return False


def build(library: Path, outdir: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="membrane-wheel.") as temp:
        source = Path(temp) / "python"
        shutil.copytree(HERE, source, ignore=shutil.ignore_patterns(
            "build", "dist", "*.egg-info", "__pycache__", "_lib", ".*", "build_wheel.py"))
        bundled = source / "membrane" / "_lib" / SONAME
        bundled.parent.mkdir()
        shutil.copyfile(library.resolve(), bundled)
        bundled.chmod(0o755)
        strip_runpath(bundled)
        for old in outdir.glob("libmembrane-*.whl"):  # one wheel: the one just built
            old.unlink()
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                        "--no-index", "-w", str(outdir), str(source)], check=True, env=env)
    made = list(outdir.glob("libmembrane-*.whl"))
    if len(made) != 1:
        raise SystemExit(f"build_wheel.py: pip made {len(made)} wheels in {outdir}")
    return made[0]


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    library, outdir = Path(sys.argv[1]), Path(sys.argv[2])
    if not library.is_file():
        print(f"build_wheel.py: {library} does not exist (make library)", file=sys.stderr)
        return 1
    if not _can_build_wheels():
        print("build_wheel.py: needs setuptools 70.1 or later, or the wheel package "
              "(make wheel-tools, or pip install wheel)", file=sys.stderr)
        return 1
    print(build(library, outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
