#!/usr/bin/env python3
"""Look up a few Membrane integrations concurrently with asyncio; print each one's name and state.

The asyncio twin of lookup.py: one membrane.AsyncClient, every lookup in flight
at once (asyncio.gather), no thread per lookup. It imports the membrane package:
in a checkout of libmembrane, the one in python/ (two folders up); otherwise the
installed one.

    MEMBRANE_TOKEN=... python3 async_lookup.py [SELECTOR...]

MEMBRANE_API_URL is the API's base URL (default https://api.getmembrane.com).
Prints "SELECTOR: NAME (STATE)" for each integration found, in the order
given, and a line on stderr for each lookup that failed; exits 1 if any did.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, List, Optional

_CHECKOUT_PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python")
if os.path.isfile(os.path.join(_CHECKOUT_PACKAGE, "membrane", "__init__.py")):
    sys.path.insert(0, os.path.normpath(_CHECKOUT_PACKAGE))

import membrane  # noqa: E402

PROG = "async_lookup.py"
DEFAULT_SELECTORS = ["hubspot", "salesforce", "pipedrive"]


async def lookup_all(selectors: List[str]) -> int:
    # api_url and token None: MEMBRANE_API_URL and MEMBRANE_TOKEN from the environment.
    async with membrane.AsyncClient(timeout_ms=10_000) as client:
        results: List[Any] = await asyncio.gather(
            *(client.integration(selector) for selector in selectors), return_exceptions=True)
    status = 0
    for selector, result in zip(selectors, results):
        if isinstance(result, membrane.MembraneError):
            print(f"{PROG}: {selector}: {result}", file=sys.stderr)
            status = 1
        elif isinstance(result, BaseException):
            raise result
        else:
            print(f"{selector}: {result['name']} ({result.get('state', 'no state')})")
    return status


def main(argv: Optional[List[str]] = None) -> int:
    selectors = (sys.argv[1:] if argv is None else argv) or DEFAULT_SELECTORS
    try:
        return asyncio.run(lookup_all(selectors))
    except membrane.MembraneError as e:  # e.g. no token: the client could not be made
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # libmembrane could not be loaded
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
