#!/usr/bin/env python3
"""Look up one Membrane integration and print it as JSON.

The Python twin of examples/c/membrane-get.c. It imports the membrane package: in a
checkout of libmembrane, the one in python/ (two folders up); otherwise the installed one.

    MEMBRANE_TOKEN=... python3 lookup.py [--include-secrets] [--api-url URL] SELECTOR
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Dict, List, Optional, Type

_CHECKOUT_PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python")
if os.path.isfile(os.path.join(_CHECKOUT_PACKAGE, "membrane", "__init__.py")):
    sys.path.insert(0, os.path.normpath(_CHECKOUT_PACKAGE))

import membrane  # noqa: E402

PROG = "lookup.py"

EXIT_OK = 0
EXIT_USAGE = 2

#: Exit status for each error class (most specific first; ClientClosed is an InvalidArgument).
EXIT_CODES: Dict[Type[membrane.MembraneError], int] = {
    membrane.InvalidArgument: 2,
    membrane.NotAuthenticated: 3,
    membrane.AccessDenied: 4,
    membrane.NotFound: 5,
    membrane.RateLimited: 6,
    membrane.BadRequest: 7,
    membrane.ServerError: 8,
    membrane.NetworkError: 9,
    membrane.Timeout: 10,
    membrane.TLSError: 11,
    membrane.ProtocolError: 12,
    membrane.InternalError: 13,
    membrane.Canceled: 14,
}
EXIT_INTERNAL = 13

EPILOG = """\
environment:
  MEMBRANE_TOKEN    the API token (required)
  MEMBRANE_API_URL  the API's base URL when --api-url is not given
                    (default https://api.getmembrane.com)
  MEMBRANE_LIBRARY  path of libmembrane.so to load
  http_proxy, HTTPS_PROXY, NO_PROXY
                    proxies, as in curl (for http:// only the lowercase
                    http_proxy is read)

exit status:
  0   success: the integration was printed
  2   usage error or invalid argument
  3   not authenticated (HTTP 401, or no token)
  4   access denied (HTTP 403)
  5   not found (HTTP 404)
  6   rate limited (HTTP 429)
  7   other bad request (other HTTP 4xx)
  8   server error (HTTP 5xx)
  9   network error (DNS, refused, reset, closed early)
  10  timeout
  11  TLS error (certificate or handshake)
  12  protocol error (not JSON, wrong shape, too large)
  13  internal error (or libmembrane could not be loaded)
  14  canceled (the lookup was canceled while it ran)
"""


def exit_code(error: membrane.MembraneError) -> int:
    """The exit status for a failure, by its class."""
    for cls, status in EXIT_CODES.items():
        if isinstance(error, cls):
            return status
    return EXIT_INTERNAL


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Look up one Membrane integration by id, uuid or key and print it as JSON.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--include-secrets",
        action="store_true",
        help="ask the API for secret values (e.g. parameters.clientSecret)",
    )
    parser.add_argument(
        "--api-url",
        metavar="URL",
        help="the API's base URL (default: $MEMBRANE_API_URL, then https://api.getmembrane.com)",
    )
    parser.add_argument(
        "selector",
        metavar="SELECTOR",
        help="the integration's id, uuid or key (catalog keys start with '~')",
    )
    return parser.parse_args(argv)


def fail(message: str, status: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return status


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    # Arguments come from the OS as str; give the library back the exact bytes
    # (surrogateescape), so an invalid UTF-8 selector reaches it and is refused there.
    selector = os.fsencode(args.selector)
    try:
        with membrane.Client(args.api_url) as client:  # the token comes from MEMBRANE_TOKEN
            integration = client.integration(selector, include_secrets=args.include_secrets)
    except membrane.MembraneError as e:
        return fail(str(e), exit_code(e))
    except OSError as e:  # libmembrane could not be loaded
        return fail(str(e), EXIT_INTERNAL)
    try:
        text = json.dumps(integration, indent=2, ensure_ascii=False) + "\n"
        sys.stdout.buffer.write(text.encode("utf-8"))  # UTF-8 whatever the locale
        sys.stdout.flush()
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away: nothing more to say
        return EXIT_OK
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
