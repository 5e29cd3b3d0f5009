# libmembrane: build, test and demo.
#
#   make          build libmembrane.so (release) with membrane.cdef (FFI declarations) and an
#                 uninstalled membrane.pc beside it, and the C examples; fetches no package
#   make mock     build the stand-in API server (its own package, membrane-mock/, Hummingbird)
#   make demo     look integrations up from C and Python against the stand-in server
#   make test     the whole test suite (Swift, C under valgrind, Python, TLS against
#                 nginx, ThreadSanitizer, helgrind and DRD, 30 s of fuzzing, library shape,
#                 cffi/LuaJIT/fiddle/C++/pkg-config, the SQLite extension, Schemathesis
#                 against the stand-in server)
#   make fuzz     fuzz the response-to-model path (FUZZ_SECONDS, default 300)
#   make bench    benchmarks against the alternatives (~1.5 min) -> .build/bench/results.md;
#                 never part of make test
#   make wheel    the Python package as a wheel with libmembrane.so inside -> .build/wheel/
#
# On a fresh Debian machine with Swift, run as root, it installs the system
# packages it needs (after one apt-get update) and pytest, cffi, schemathesis and wheel
# from PyPI.

SWIFT        ?= swift
PYTHON       ?= python3
CC           ?= cc
RELEASE_DIR  := .build/release
LIBRARY      := $(RELEASE_DIR)/libmembrane.so
LIBRARY_DEBUG := $(LIBRARY).debug
# The stand-in server is a package of its own, built in its own folder under .build.
MOCK_PACKAGE := membrane-mock
MOCK_BUILD   := .build/mock
MOCK         := $(MOCK_BUILD)/debug/membrane-mock
EXAMPLES_DIR := .build/examples
MEMBRANE_GET := $(EXAMPLES_DIR)/membrane-get
SQLITE_EXTENSION := $(EXAMPLES_DIR)/membrane_sqlite.so
# For FFIs (cffi, LuaJIT, fiddle): membrane.h as plain declarations.
CDEF         := $(RELEASE_DIR)/membrane.cdef
# pkg-config file for the build folder: PKG_CONFIG_PATH=$(CURDIR)/$(RELEASE_DIR).
UNINSTALLED_PC := $(RELEASE_DIR)/membrane.pc
FIXTURES     := examples/fixtures/integrations.json
WHEEL_DIR    := .build/wheel

# Schemathesis (PyPI) for Tests/conformance; this version checked with Python 3.11.
SCHEMATHESIS_VERSION := 4.32.5

# What building needs, and what only the tests need on top.
BUILD_PACKAGES := libjansson-dev libcurl4-openssl-dev pkg-config libsqlite3-dev libssl-dev
TEST_PACKAGES  := valgrind gdb nginx-light openssl cmake luajit ruby sqlite3

# make install PREFIX=/usr/local DESTDIR=
PREFIX       ?= /usr/local
DESTDIR      ?=
LIBDIR       := $(DESTDIR)$(PREFIX)/lib
INCLUDEDIR   := $(DESTDIR)$(PREFIX)/include
PKGCONFIGDIR := $(LIBDIR)/pkgconfig
CMAKEDIR     := $(LIBDIR)/cmake/membrane
DATADIR      := $(DESTDIR)$(PREFIX)/share/membrane
# gdb looks for the debuglink's file in .debug/ beside the library.
DEBUGDIR     := $(LIBDIR)/.debug
VERSION      := $(shell sed -n 's/^\#define MEMBRANE_VERSION_STRING "\(.*\)"/\1/p' Include/membrane.h)
MAJOR        := $(firstword $(subst ., ,$(VERSION)))
INSTALLED    := $(LIBDIR)/libmembrane.so.$(VERSION) $(LIBDIR)/libmembrane.so.$(MAJOR) \
                $(LIBDIR)/libmembrane.so $(INCLUDEDIR)/membrane.h $(PKGCONFIGDIR)/membrane.pc \
                $(CMAKEDIR)/membraneConfig.cmake $(CMAKEDIR)/membraneConfigVersion.cmake \
                $(DATADIR)/membrane.cdef $(DATADIR)/membrane.supp $(DEBUGDIR)/libmembrane.so.debug
FUZZ_DIR     := .build-fuzz
FUZZ_SECONDS ?= 300

export MEMBRANE_LIBRARY := $(CURDIR)/$(LIBRARY)
export MEMBRANE_MOCK    := $(CURDIR)/$(MOCK)
export MEMBRANE_LIB_DIR := $(CURDIR)/$(RELEASE_DIR)

.PHONY: all build library debug-symbols ffi mock examples deps test-deps apt-packages install uninstall bench wheel wheel-tools test fuzz demo clean

# The library alone (with what hosts use beside it): no third-party package.
all: library ffi examples

build: library ffi mock examples

deps:
	@$(MAKE) --no-print-directory apt-packages PACKAGES="$(BUILD_PACKAGES)"

# Everything at once, so a fresh machine needs one apt-get update.
test-deps:
	@$(MAKE) --no-print-directory apt-packages PACKAGES="$(BUILD_PACKAGES) $(TEST_PACKAGES)"
	@$(PYTHON) -c 'import pytest' 2>/dev/null || $(PYTHON) -m pip install -q pytest
	@$(PYTHON) -c 'import cffi' 2>/dev/null || $(PYTHON) -m pip install -q cffi
	@$(PYTHON) -c 'import jwt, cryptography' 2>/dev/null || $(PYTHON) -m pip install -q pyjwt cryptography
	@$(PYTHON) -c 'import uvloop' 2>/dev/null || $(PYTHON) -m pip install -q uvloop
	@$(PYTHON) -c 'import importlib.metadata as m, sys; sys.exit(m.version("schemathesis") != "$(SCHEMATHESIS_VERSION)")' \
	  2>/dev/null || $(PYTHON) -m pip install -q 'schemathesis==$(SCHEMATHESIS_VERSION)'
	@$(MAKE) --no-print-directory wheel-tools

# Installs the Debian packages in PACKAGES that are missing (as root), or says which.
apt-packages:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing system packages:" $$missing "(run make as root, or apt-get install them)"; exit 1; \
	  fi; \
	fi

# The C library: the Swift runtime inside, SONAME libmembrane.so.0 (see Package.swift).
library: deps
	$(SWIFT) build -c release --product membrane
	ln -sf libmembrane.so $(RELEASE_DIR)/libmembrane.so.0
	@$(MAKE) --no-print-directory debug-symbols

# The linker leaves the symbols in; move them to libmembrane.so.debug (found by
# gdb and valgrind through the GNU debuglink and the build id) and ship the
# library stripped. Only when the link is new: a stripped file has none to move.
debug-symbols:
	@if readelf -S $(LIBRARY) | grep -q '\.debug_info'; then \
	  objcopy --only-keep-debug $(LIBRARY) $(LIBRARY_DEBUG) && \
	  objcopy --strip-all --add-gnu-debuglink=$(LIBRARY_DEBUG) $(LIBRARY) && \
	  echo "debug symbols: $(LIBRARY_DEBUG)"; \
	fi

# What FFIs and pkg-config users of the build folder need, beside the library
# (after it: SwiftPM makes .build/release, a link).
ffi: $(CDEF) $(UNINSTALLED_PC)

$(CDEF): Include/membrane.h packaging/ffi-declarations.py | library
	$(PYTHON) packaging/ffi-declarations.py Include/membrane.h $@

# Absolute paths to this checkout; no rpath (run with LD_LIBRARY_PATH).
$(UNINSTALLED_PC): packaging/membrane-uninstalled.pc.in Include/membrane.h | library
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@ROOT@|$(CURDIR)|g' $< > $@

mock:
	$(SWIFT) build --package-path $(MOCK_PACKAGE) --scratch-path $(MOCK_BUILD) --product membrane-mock

examples: library
	@mkdir -p $(EXAMPLES_DIR)
	for example in membrane-get membrane-status membrane-watch; do \
	  $(CC) -std=c99 -Wall -Wextra -Werror -IInclude examples/c/$$example.c -L$(RELEASE_DIR) -lmembrane \
	    -ljansson -Wl,-rpath,$(CURDIR)/$(RELEASE_DIR) -o $(EXAMPLES_DIR)/$$example || exit 1; \
	done
	$(CC) -std=c99 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden -Wl,-z,defs -Wl,-z,nodelete \
	  -IInclude examples/sqlite/membrane_sqlite.c -L$(RELEASE_DIR) -lmembrane \
	  -Wl,-rpath,$(CURDIR)/$(RELEASE_DIR) -o $(SQLITE_EXTENSION)

test: test-deps build
	bash Tests/run-all.sh

# Schemathesis against the stand-in server (Tests/conformance): needs only the stand-in.
test-conformance: mock
	bash Tests/run-all.sh conformance

# One suite of Tests/suites, e.g. make test-c, make test-python, make test-threadcheck.
test-%: build
	bash Tests/run-all.sh $*

# libFuzzer over the response-to-model path, from the seed corpus in Tests/fuzz/corpus;
# new inputs it finds go to $(FUZZ_DIR)/corpus, crashes to $(FUZZ_DIR)/crash-*.
fuzz: deps
	@mkdir -p $(FUZZ_DIR)/corpus
	swiftc -sanitize=fuzzer,address -parse-as-library -module-name MembraneFuzz -package-name membrane -g -use-ld=lld \
	  -I Sources/CJansson -I Sources/CCurl -I Sources/CCrypto $$(find Sources/Membrane -name '*.swift' | sort) \
	  Tests/fuzz/FuzzResponse.swift -ljansson -lcurl -lcrypto -o $(FUZZ_DIR)/fuzz-response
	$(FUZZ_DIR)/fuzz-response -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	  -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/corpus Tests/fuzz/corpus

# Installs what `make` built: build as yourself, then `sudo make install`.
install:
	@test -f $(LIBRARY) || { echo "make install: no $(LIBRARY): run 'make' first" >&2; exit 1; }
	@test -f $(CDEF) || { echo "make install: no $(CDEF): run 'make' first" >&2; exit 1; }
	install -d $(LIBDIR) $(INCLUDEDIR) $(PKGCONFIGDIR) $(CMAKEDIR) $(DATADIR)
	install -m 0755 $(LIBRARY) $(LIBDIR)/libmembrane.so.$(VERSION)
	ln -sfn libmembrane.so.$(VERSION) $(LIBDIR)/libmembrane.so.$(MAJOR)
	ln -sfn libmembrane.so.$(MAJOR) $(LIBDIR)/libmembrane.so
	install -m 0644 Include/membrane.h $(INCLUDEDIR)/membrane.h
	install -m 0644 $(CDEF) $(DATADIR)/membrane.cdef
	install -m 0644 packaging/membrane.supp $(DATADIR)/membrane.supp
	@if [ -f $(LIBRARY_DEBUG) ]; then \
	  install -d $(DEBUGDIR) && install -m 0644 $(LIBRARY_DEBUG) $(DEBUGDIR)/libmembrane.so.debug && \
	  echo "install $(LIBRARY_DEBUG) -> $(DEBUGDIR)/libmembrane.so.debug"; \
	fi
	sed -e 's/@VERSION@/$(VERSION)/g' packaging/membrane.pc.in > $(PKGCONFIGDIR)/membrane.pc
	for f in membraneConfig membraneConfigVersion; do \
	  sed -e 's/@VERSION@/$(VERSION)/g' -e 's/@MAJOR@/$(MAJOR)/g' packaging/$$f.cmake.in > $(CMAKEDIR)/$$f.cmake; \
	done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then ldconfig; fi

# Removes exactly what install wrote and the folder that is ours. In a DESTDIR
# tree, the folders install made are removed when left empty (and no others),
# so the tree ends as it began.
uninstall:
	rm -f $(INSTALLED)
	-rmdir $(CMAKEDIR) 2>/dev/null
	-rmdir $(DATADIR) 2>/dev/null
	-rmdir $(DEBUGDIR) 2>/dev/null
	@if [ -n "$(DESTDIR)" ] && [ -d "$(DESTDIR)" ]; then \
	  cd "$(DESTDIR)" && rmdir -p --ignore-fail-on-non-empty \
	    .$(PREFIX)/lib/cmake .$(PREFIX)/lib/pkgconfig .$(PREFIX)/share .$(PREFIX)/include 2>/dev/null || true; \
	fi

# The Python package as a wheel that carries libmembrane.so (no RPATH; the system
# provides jansson and libcurl): pip install .build/wheel/libmembrane-*.whl.
wheel: library wheel-tools
	$(PYTHON) python/build_wheel.py $(LIBRARY) $(WHEEL_DIR)

# setuptools, and before setuptools 70.1 the wheel package, to build wheels offline.
wheel-tools:
	@$(PYTHON) -c 'import setuptools.command.bdist_wheel' 2>/dev/null || \
	  $(PYTHON) -c 'import setuptools, wheel' 2>/dev/null || $(PYTHON) -m pip install -q setuptools wheel

bench: build
	@$(PYTHON) -c 'import aiohttp, httpx' 2>/dev/null || $(PYTHON) -m pip install -q aiohttp httpx uvloop
	bash bench/run.sh

demo: build
	bash examples/demo.sh

clean:
	rm -rf .build .build-*
