"""Python cffi takes membrane.cdef verbatim and looks an integration up.

Run by Tests/ffi/run.sh, which sets MEMBRANE_CDEF, MEMBRANE_LIBRARY,
MEMBRANE_API_URL (the stand-in server), TEST_TOKEN, EXPECT_VERSION and
EXPECT_FIXTURES. Prints ok/FAIL per check; exits 1 on any failure.
"""
import json
import os
import sys

import cffi

failures = 0


def check(name, condition):
    global failures
    print(("ok    " if condition else "FAIL  ") + "cffi: " + name)
    failures += 0 if condition else 1


def text(array):
    """A membrane_error char array, up to its first NUL."""
    return ffi.string(array).decode("utf-8")


fixtures = json.load(open(os.environ["EXPECT_FIXTURES"]))["integrations"]
hubspot = next(item for item in fixtures if item.get("key") == "hubspot")
url, token = os.environ["MEMBRANE_API_URL"], os.environ["TEST_TOKEN"]

ffi = cffi.FFI()
try:
    with open(os.environ["MEMBRANE_CDEF"]) as f:
        ffi.cdef(f.read())  # verbatim: this is what the file is for
except Exception as e:  # CDefError, FFIError, a pycparser error
    check(f"ffi.cdef() accepts membrane.cdef unchanged: {e}", False)
    sys.exit(1)
check("ffi.cdef() accepts membrane.cdef unchanged", True)
lib = ffi.dlopen(os.environ["MEMBRANE_LIBRARY"])

check("membrane_version() is the header's version",
      ffi.string(lib.membrane_version()).decode() == os.environ["EXPECT_VERSION"])
check("membrane_version_num() == MEMBRANE_VERSION_NUM", lib.membrane_version_num() == lib.MEMBRANE_VERSION_NUM)
check("sizeof(membrane_error) == 424", ffi.sizeof("membrane_error") == 424)
offsets = {f: ffi.offsetof("membrane_error", f) for f in ("code", "http_status", "type", "key", "message", "error_id")}
check(f"membrane_error offsets 0 4 8 40 104 360 (got {list(offsets.values())})",
      list(offsets.values()) == [0, 4, 8, 40, 104, 360])

log_lines = []


@ffi.callback("void (*)(int, const char *, void *)")
def on_log(level, message, payload):
    log_lines.append((level, ffi.string(message).decode()))


client_out = ffi.new("membrane_client **")
err = ffi.new("membrane_error *")
rc = lib.membrane_client_new(client_out, url.encode(), token.encode(), err)
check("membrane_client_new with the stand-in's URL and token: MEMBRANE_OK", rc == lib.MEMBRANE_OK)
client = client_out[0]
check("membrane_client_set_log with a cffi callback: MEMBRANE_OK",
      lib.membrane_client_set_log(client, on_log, ffi.NULL) == lib.MEMBRANE_OK)

body_out, length = ffi.new("char **"), ffi.new("size_t *")
rc = lib.membrane_integration_get_text(client, b"hubspot", 0, body_out, length, err)
check("membrane_integration_get_text(hubspot): MEMBRANE_OK", rc == lib.MEMBRANE_OK)
if rc == lib.MEMBRANE_OK:
    body = ffi.string(body_out[0], length[0]).decode("utf-8")
    lib.membrane_free(body_out[0])
    integration = json.loads(body)
    check("the body is hubspot's JSON from the fixtures (id, key, name, state)",
          all(integration.get(k) == hubspot.get(k) for k in ("id", "key", "name", "state")))
check("the log callback got the request's line",
      any(level == lib.MEMBRANE_LOG_INFO and "/integrations/hubspot" in line for level, line in log_lines))

rc = lib.membrane_integration_get_text(client, b"nope", 0, body_out, length, err)
check("nope: MEMBRANE_ENOTFOUND, 404, key not_found, *out NULL",
      rc == lib.MEMBRANE_ENOTFOUND and err.code == rc and err.http_status == 404
      and text(err.key) == "not_found" and body_out[0] == ffi.NULL)
lib.membrane_client_free(client)

bad_token = "ffi-wrong-token-" + str(os.getpid())
rc = lib.membrane_client_new(client_out, url.encode(), bad_token.encode(), err)
if rc == lib.MEMBRANE_OK:
    rc = lib.membrane_integration_get_text(client_out[0], b"hubspot", 0, body_out, length, err)
    lib.membrane_client_free(client_out[0])
message = text(err.message)
check(f"a wrong token: MEMBRANE_EAUTH, 401, a message without the token ({message!r})",
      rc == lib.MEMBRANE_EAUTH and err.http_status == 401 and message and bad_token not in message)

sys.exit(1 if failures else 0)
