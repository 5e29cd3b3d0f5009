"""Schemathesis hooks for Tests/conformance/run.sh (loaded through SCHEMATHESIS_HOOKS).

- after_call: remembers every cursor the server gives back on GET /integrations,
  with the filters it was given for.
- filter_failure: drops exactly one kind of failure, positive_data_acceptance on
  GET /integrations answered 400 invalid_cursor for a cursor the server never issued.
  The document types cursor as an opaque string (that is all the vendor says); only
  cursors a previous page gave back are meaningful, which no schema can say, so a
  made-up cursor (or one reused with other filters) being refused is not a deviation.
  A cursor the server issued for the same filters and then refused, and every other
  400, still fail. Each drop is written to
  $CONFORMANCE_TALLY (one JSON line) when that is set.
"""

import json
import os

import schemathesis


def _tally(record):
    path = os.environ.get("CONFORMANCE_TALLY")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


def _operation(case):
    return f"{case.method.upper()} {case.operation.path}"


# Every cursor the server has given back in this run, with the filters it was given for
# (a cursor means something only for the query that produced it; limit may change from
# page to page). One process: run.sh uses one worker.
_issued_cursors = set()


def _cursor_context(cursor, query):
    return (cursor, tuple(sorted((name, str(value)) for name, value in (query or {}).items()
                                 if name not in ("cursor", "limit"))))


@schemathesis.hook
def after_call(context, case, response):
    if case.operation.path != "/integrations" or response.status_code != 200:
        return
    try:
        cursor = json.loads(response.content).get("cursor")
    except (ValueError, AttributeError):
        return
    if isinstance(cursor, str):
        _issued_cursors.add(_cursor_context(cursor, case.query))


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if type(failure).__name__ != "RejectedPositiveData":
        return True
    if case.operation.path != "/integrations" or response.status_code != 400:
        return True
    if "cursor" not in (case.query or {}):
        return True
    if _cursor_context(case.query["cursor"], case.query) in _issued_cursors:
        return True  # a cursor the server issued for these filters: a real failure
    try:
        key = json.loads(response.content).get("key")
    except (ValueError, AttributeError):
        return True
    if key != "invalid_cursor":
        return True
    _tally({"dropped": "positive_data_acceptance: 400 invalid_cursor for a cursor the server never issued",
            "operation": _operation(case), "cursor": case.query.get("cursor")})
    return False
