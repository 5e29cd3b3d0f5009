# libmembrane: build, test and demo.
#
#   make          build libmembrane.so (release) and the stand-in server
#   make demo     look integrations up from C and Python against the stand-in server
#   make test     the whole test suite (Swift, C under valgrind, Python, library shape)
#
# On a fresh Debian machine with Swift, run as root, it installs the system
# packages it needs (after one apt-get update) and pytest from PyPI.

SWIFT        ?= swift
PYTHON       ?= python3
CC           ?= cc
RELEASE_DIR  := .build/release
DEBUG_DIR    := .build/debug
LIBRARY      := $(RELEASE_DIR)/libmembrane.so
MOCK         := $(DEBUG_DIR)/membrane-mock
EXAMPLES_DIR := .build/examples
MEMBRANE_GET := $(EXAMPLES_DIR)/membrane-get
FIXTURES     := examples/fixtures/integrations.json

DEB_PACKAGES := libjansson-dev libcurl4-openssl-dev pkg-config valgrind

export MEMBRANE_LIBRARY := $(CURDIR)/$(LIBRARY)
export MEMBRANE_MOCK    := $(CURDIR)/$(MOCK)
export MEMBRANE_LIB_DIR := $(CURDIR)/$(RELEASE_DIR)

.PHONY: all build library mock examples deps test test-swift test-c test-python test-shape demo clean

all: build

build: library mock examples

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing system packages:" $$missing "(run make as root, or apt-get install them)"; exit 1; \
	  fi; \
	fi
	@$(PYTHON) -c 'import pytest' 2>/dev/null || $(PYTHON) -m pip install -q pytest

# The C library: the Swift runtime inside, SONAME libmembrane.so.0 (see Package.swift).
library: deps
	$(SWIFT) build -c release --product membrane
	ln -sf libmembrane.so $(RELEASE_DIR)/libmembrane.so.0

mock: deps
	$(SWIFT) build --product membrane-mock

examples: library
	@mkdir -p $(EXAMPLES_DIR)
	$(CC) -std=c99 -Wall -Wextra -Werror -IInclude examples/c/membrane-get.c \
	  -L$(RELEASE_DIR) -lmembrane -ljansson -Wl,-rpath,$(CURDIR)/$(RELEASE_DIR) -o $(MEMBRANE_GET)

test: build
	bash Tests/run-all.sh

test-swift: mock
	bash Tests/with-mock.sh $(SWIFT) test

test-c: build
	bash Tests/c/run.sh

test-python: build
	$(PYTHON) -m pytest -q Tests/python

test-shape: library
	bash Tests/shape.sh $(LIBRARY)

demo: build
	bash examples/demo.sh

clean:
	rm -rf .build .build-*
