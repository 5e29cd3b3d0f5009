"""Reads one Schemathesis run's JSON and NDJSON reports and prints its figures and checks.

    python3 summarize.py KIND REPORT.json REPORT.ndjson

KIND is what the run must show:
  main     with the token: every (operation, check) pair that ran has no failure, and
           each operation was answered 200 at least once (the run reached the fixtures).
  no-token without the token: Schemathesis found no failure, and every answer to a
           documented GET was 401 with key not_authenticated.
  control  against a deliberately wrong document: response_schema_conformance must
           fail on both operations (else the suite could not see a wrong schema).

Prints "ok: ..." / "FAIL: ..." per check and, last, "checks: N passed, M failed".
"""

import base64
import collections
import json
import sys

OPERATIONS = ("GET /integrations", "GET /integrations/{selector}")


def label(case):
    """"GET /integrations"; the unsupported_method probes (POST, TRACE, ...) fold into
    "/integrations (undeclared methods)", so each path's probes count as one pair per check."""
    method, path = case.get("method", "?"), case.get("path", "?")
    return f"{method} {path}" if method == "GET" else f"{path} (undeclared methods)"


def load_ndjson(path):
    """(operation, check) -> Counter of statuses; operation -> Counter of response statuses;
    list of (operation, check, failure) seen; 401 bodies' keys."""
    checks = collections.defaultdict(collections.Counter)
    statuses = collections.defaultdict(collections.Counter)
    failures = []
    keys_401 = collections.Counter()
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished["recorder"]
            cases = recorder.get("cases", {})
            for case_id, results in recorder.get("checks", {}).items():
                case = cases.get(case_id, {}).get("value", {})
                operation = label(case)
                for result in results:
                    checks[(operation, result["name"])][result["status"]] += 1
                    if result["status"] == "failure":
                        failures.append((operation, result["name"], result.get("failure") or {}))
            for case_id, interaction in recorder.get("interactions", {}).items():
                response = interaction.get("response") or {}
                case = cases.get(case_id, {}).get("value", {})
                operation = label(case)
                status = response.get("status_code")
                statuses[operation][status] += 1
                if status == 401:
                    content = response.get("content") or {}
                    try:
                        raw = base64.b64decode(content["$base64"]) if "$base64" in content else b""
                        keys_401[json.loads(raw).get("key")] += 1
                    except (ValueError, KeyError, AttributeError):
                        keys_401["<not JSON>"] += 1
    return checks, statuses, failures, keys_401


def main():
    kind, json_path, ndjson_path = sys.argv[1:4]
    with open(json_path, encoding="utf-8") as handle:
        report = json.load(handle)
    checks, statuses, failures, keys_401 = load_ndjson(ndjson_path)
    results = []

    def check(ok, what):
        results.append(ok)
        print(f"{'ok' if ok else 'FAIL'}: {kind}: {what}")

    cases = report["test_cases"]
    print(f"figures: {kind}: {cases['generated']} cases generated, {cases['unique_failures']} unique "
          f"failures, {report['filtered']} failures dropped by the invalid_cursor filter, "
          f"{len(report['errors'])} errors, {report['running_time']:.1f} s, seed {report['seed']}")
    for operation in sorted(statuses):
        answered = ", ".join(f"{status}: {count}" for status, count in sorted(statuses[operation].items(), key=str))
        print(f"figures: {kind}: {operation} answered {answered}")
    for failure in report["failures"]:
        print(f"figures: {kind}: failure {failure['code']} {failure['title']} ({failure['type']}) "
              f"x{failure['count']} on {', '.join(failure['operations'])}")
    for error in report["errors"]:
        print(f"figures: {kind}: error {json.dumps(error)[:300]}")

    if kind == "main":
        ran = sorted(pair for pair in checks if sum(checks[pair].values()) > checks[pair]["skip"])
        for operation, name in ran:
            counts = checks[(operation, name)]
            check(counts["failure"] == 0,
                  f"{operation} {name} ({counts['success']} passed, {counts['failure']} failed)")
        for operation in OPERATIONS:
            check(statuses[operation][200] > 0, f"{operation} answered 200 at least once")
        check(not report["errors"], "no errors (crashes, network failures, schema problems)")
    elif kind == "no-token":
        documented = sum(sum(statuses[operation].values()) for operation in OPERATIONS)
        other = {op: dict(statuses[op]) for op in OPERATIONS if set(statuses[op]) - {401}}
        check(documented > 0 and not other,
              f"all {documented} answers to a documented GET were 401" + (f"; others: {other}" if other else ""))
        check(set(keys_401) == {"not_authenticated"}, f"every 401 body has key not_authenticated ({dict(keys_401)})")
        check(not report["failures"] and not report["errors"], "Schemathesis found no failure without the token")
    elif kind == "control":
        wrong = {operation for operation, name, _ in failures if name == "response_schema_conformance"}
        for operation in OPERATIONS:
            check(operation in wrong, f"the wrong document (name: integer) fails response_schema_conformance on {operation}")
    else:
        raise SystemExit(f"unknown kind {kind}")

    passed = sum(results)
    print(f"checks: {passed} passed, {len(results) - passed} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
