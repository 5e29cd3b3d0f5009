"""setuptools hook: a wheel that carries libmembrane.so is tagged for its platform.

``pip install ./python`` builds a pure-Python wheel: the library then comes
from the system (or MEMBRANE_LIBRARY). ``make wheel`` (build_wheel.py) builds
from a copy of this folder with ``membrane/_lib/libmembrane.so.0`` added; that
wheel holds machine code, so it is not pure, and its tag is
``py3-none-<platform>``: any Python 3 (the binding is ctypes, tied to no
Python ABI), one platform. Everything else is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.dist import Distribution

BUNDLED = any((Path(__file__).resolve().parent / "membrane" / "_lib").glob("libmembrane.so*"))


class _Distribution(Distribution):
    def has_ext_modules(self) -> bool:  # type: ignore[override]
        return BUNDLED or super().has_ext_modules()


cmdclass = {}
if BUNDLED:
    try:  # setuptools >= 70.1 has the command; before, the wheel package does
        from setuptools.command.bdist_wheel import bdist_wheel
    except ImportError:
        try:
            from wheel.bdist_wheel import bdist_wheel
        except ImportError:  # only asked what the build needs: no wheel is made now
            bdist_wheel = None

    if bdist_wheel is not None:

        class _PlatformWheel(bdist_wheel):  # type: ignore[misc, valid-type]
            def get_tag(self):  # type: ignore[no-untyped-def]
                _python, _abi, platform = super().get_tag()
                return "py3", "none", platform

        cmdclass["bdist_wheel"] = _PlatformWheel

setup(distclass=_Distribution, cmdclass=cmdclass)
