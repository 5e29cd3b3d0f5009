"""Schemathesis hooks for Tests/conformance/run.sh (loaded through SCHEMATHESIS_HOOKS).

- after_validate: appends one JSON line per checked response to $CONFORMANCE_TALLY
  (operation, status, each check's outcome), so run.sh can count checks per
  operation and see which statuses a run reached.
- filter_failure: drops exactly one kind of failure, positive_data_acceptance on
  GET /integrations answered 400 invalid_cursor for a cursor the server never issued.
  The document types cursor as an opaque string (that is all the vendor says); only
  cursors a previous page gave back are meaningful, which no schema can say, so a
  made-up cursor being refused is not a deviation. Every other 400 still fails.
  Each drop is tallied too (run.sh prints how many).
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


def _status_name(status):
    return getattr(status, "name", str(status)).lower()


@schemathesis.hook
def after_validate(context, case, response, results):
    _tally({
        "operation": _operation(case),
        "status": response.status_code,
        "checks": {result.name: _status_name(result.status) for result in results},
    })


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if type(failure).__name__ != "RejectedPositiveData":
        return True
    if case.operation.path != "/integrations" or response.status_code != 400:
        return True
    if "cursor" not in (case.query or {}):
        return True
    try:
        key = json.loads(response.content).get("key")
    except (ValueError, AttributeError):
        return True
    if key != "invalid_cursor":
        return True
    _tally({"dropped": "positive_data_acceptance: 400 invalid_cursor for a cursor the server never issued",
            "operation": _operation(case), "cursor": case.query.get("cursor")})
    return False
