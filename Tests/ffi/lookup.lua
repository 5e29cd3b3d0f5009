-- LuaJIT's ffi.cdef takes membrane.cdef verbatim and looks an integration up.
--
-- Run by Tests/ffi/run.sh, which sets MEMBRANE_CDEF, MEMBRANE_LIBRARY,
-- MEMBRANE_API_URL (the stand-in server), TEST_TOKEN, EXPECT_VERSION and
-- hubspot's fixture values EXPECT_ID, EXPECT_NAME, EXPECT_STATE. jansson is
-- loaded too, to read the json_t that membrane_integration_get hands out.
-- Prints ok/FAIL per check; exits 1 on any failure.
local ffi = require("ffi")

local failures = 0
local function check(name, condition)
  print((condition and "ok    " or "FAIL  ") .. "luajit: " .. name)
  if not condition then failures = failures + 1 end
end

local env = os.getenv
local file = assert(io.open(env("MEMBRANE_CDEF")))
local declarations = file:read("*a")
file:close()
local accepted, problem = pcall(ffi.cdef, declarations) -- verbatim
check("ffi.cdef accepts membrane.cdef unchanged" .. (accepted and "" or ": " .. tostring(problem)), accepted)
if not accepted then os.exit(1) end
-- jansson's own functions, to look inside a json_t (not part of membrane.cdef).
ffi.cdef [[
json_t *json_object_get(const json_t *object, const char *key);
const char *json_string_value(const json_t *json);
]]
local lib = ffi.load(env("MEMBRANE_LIBRARY"))
local jansson = ffi.load("jansson")

check("membrane_version() is the header's version", ffi.string(lib.membrane_version()) == env("EXPECT_VERSION"))
check("membrane_version_num() == MEMBRANE_VERSION_NUM", lib.membrane_version_num() == lib.MEMBRANE_VERSION_NUM)
check("sizeof(membrane_error) == 424", ffi.sizeof("membrane_error") == 424)
local offsets = {}
for _, field in ipairs({"code", "http_status", "type", "key", "message", "error_id"}) do
  offsets[#offsets + 1] = ffi.offsetof("membrane_error", field)
end
check("membrane_error offsets 0 4 8 40 104 360 (got " .. table.concat(offsets, " ") .. ")",
      table.concat(offsets, " ") == "0 4 8 40 104 360")

local lines = {}
local on_log = ffi.cast("void (*)(int, const char *, void *)", function(level, message, payload)
  lines[#lines + 1] = {level, ffi.string(message)}
end)

local client_out = ffi.new("membrane_client *[1]")
local err = ffi.new("membrane_error")
local rc = lib.membrane_client_new(client_out, env("MEMBRANE_API_URL"), env("TEST_TOKEN"), err)
check("membrane_client_new with the stand-in's URL and token: MEMBRANE_OK", rc == lib.MEMBRANE_OK)
local client = client_out[0]
check("membrane_client_set_log with a LuaJIT callback: MEMBRANE_OK",
      lib.membrane_client_set_log(client, on_log, nil) == lib.MEMBRANE_OK)

local body_out, length = ffi.new("char *[1]"), ffi.new("size_t[1]")
rc = lib.membrane_integration_get_text(client, "hubspot", 0, body_out, length, err)
check("membrane_integration_get_text(hubspot): MEMBRANE_OK", rc == lib.MEMBRANE_OK)
if rc == lib.MEMBRANE_OK then
  local body = ffi.string(body_out[0], length[0])
  lib.membrane_free(body_out[0])
  check("the body holds hubspot's id from the fixtures", body:find(env("EXPECT_ID"), 1, true) ~= nil)
end

local integration_out = ffi.new("json_t *[1]")
rc = lib.membrane_integration_get(client, "hubspot", 0, integration_out, err)
check("membrane_integration_get(hubspot): MEMBRANE_OK", rc == lib.MEMBRANE_OK)
if rc == lib.MEMBRANE_OK then
  local integration = integration_out[0]
  local function field(name)
    local value = jansson.json_string_value(jansson.json_object_get(integration, name))
    return value ~= nil and ffi.string(value) or nil
  end
  check("its name and state are the fixture's (read with jansson)",
        field("name") == env("EXPECT_NAME") and field("state") == env("EXPECT_STATE"))
  lib.membrane_json_release(integration)
end
local logged = false
for _, line in ipairs(lines) do
  if line[1] == lib.MEMBRANE_LOG_INFO and line[2]:find("/integrations/hubspot", 1, true) then logged = true end
end
check("the log callback got the requests' lines", logged)

rc = lib.membrane_integration_get_text(client, "nope", 0, body_out, length, err)
check("nope: MEMBRANE_ENOTFOUND, 404, key not_found, *out NULL",
      rc == lib.MEMBRANE_ENOTFOUND and err.code == rc and err.http_status == 404
      and ffi.string(err.key) == "not_found" and body_out[0] == nil)
lib.membrane_client_free(client)
on_log:free()

local bad_token = "ffi-wrong-token-lua"
rc = lib.membrane_client_new(client_out, env("MEMBRANE_API_URL"), bad_token, err)
if rc == lib.MEMBRANE_OK then
  rc = lib.membrane_integration_get_text(client_out[0], "hubspot", 0, body_out, length, err)
  lib.membrane_client_free(client_out[0])
end
local message = ffi.string(err.message) -- up to the first NUL
check("a wrong token: MEMBRANE_EAUTH, 401, a message without the token (" .. message .. ")",
      rc == lib.MEMBRANE_EAUTH and err.http_status == 401 and #message > 0
      and not message:find(bad_token, 1, true))

os.exit(failures == 0 and 0 or 1)
