# Ruby's fiddle takes membrane.cdef's declarations and looks an integration up.
#
# Fiddle::Importer has no C parser for whole files: each prototype line of
# the file goes to `extern` unchanged, the struct's field lines to `struct`,
# and the enum lines are read as NAME = value. Run by Tests/ffi/run.sh, which
# sets MEMBRANE_CDEF, MEMBRANE_LIBRARY, MEMBRANE_API_URL (the stand-in
# server), TEST_TOKEN, EXPECT_VERSION and EXPECT_FIXTURES. Prints ok/FAIL
# per check; exits 1 on any failure.
require 'fiddle'
require 'fiddle/import'
require 'json'

$failures = 0
def check(name, condition)
  puts "#{condition ? 'ok    ' : 'FAIL  '}fiddle: #{name}"
  $failures += 1 unless condition
end

declarations = File.read(ENV.fetch('MEMBRANE_CDEF')).gsub(%r{/\*.*?\*/}m, '')
prototypes = declarations.lines.map(&:strip).grep(/\A[^\s{}]+.*\(.*\);\z/).grep_v(/\Atypedef\b/)
fields = declarations[/typedef struct membrane_error \{(.*?)\} membrane_error;/m, 1].to_s
                     .lines.map(&:strip).reject(&:empty?).map { |f| f.chomp(';') }
constants = declarations.scan(/^\s*(MEMBRANE_\w+) = (-?\d+),?$/).to_h { |name, value| [name, Integer(value)] }

module Membrane
  extend Fiddle::Importer
  dlload ENV.fetch('MEMBRANE_LIBRARY')
end
rejected = prototypes.reject do |line|
  Membrane.extern(line) # the line as it is in the file
  true
rescue Fiddle::DLError, RuntimeError => e
  puts "      #{line}: #{e.message}"
  false
end
check("extern accepts all #{prototypes.size} prototype lines unchanged", !prototypes.empty? && rejected.empty?)
Error = Membrane.struct(fields)
check("membrane_error from the file's #{fields.size} field lines: 424 bytes", Error.size == 424)
offsets = %w[code http_status type key message error_id].map { |f| Error.offsetof(f) }
check("membrane_error offsets 0 4 8 40 104 360 (got #{offsets.join(' ')})", offsets == [0, 4, 8, 40, 104, 360])
exit 1 unless rejected.empty?

# A char array of membrane_error, up to its first NUL.
def text(array)
  array.pack('c*').split("\0", 2).first.to_s.force_encoding('UTF-8')
end

ok = constants.fetch('MEMBRANE_OK')
check("membrane_version() is the header's version", Membrane.membrane_version.to_s == ENV.fetch('EXPECT_VERSION'))
check('membrane_version_num() == MEMBRANE_VERSION_NUM',
      Membrane.membrane_version_num == constants.fetch('MEMBRANE_VERSION_NUM'))

hubspot = JSON.parse(File.read(ENV.fetch('EXPECT_FIXTURES')))['integrations'].find { |i| i['key'] == 'hubspot' }
url = ENV.fetch('MEMBRANE_API_URL')
client_out = Fiddle::Pointer.malloc(Fiddle::SIZEOF_VOIDP, Fiddle::RUBY_FREE)
err = Error.malloc(Fiddle::RUBY_FREE)
rc = Membrane.membrane_client_new(client_out, url, ENV.fetch('TEST_TOKEN'), err)
check("membrane_client_new with the stand-in's URL and token: MEMBRANE_OK", rc == ok)
client = client_out.ptr

body_out = Fiddle::Pointer.malloc(Fiddle::SIZEOF_VOIDP, Fiddle::RUBY_FREE)
length = Fiddle::Pointer.malloc(Fiddle::SIZEOF_SIZE_T, Fiddle::RUBY_FREE)
rc = Membrane.membrane_integration_get_text(client, 'hubspot', 0, body_out, length, err)
check('membrane_integration_get_text(hubspot): MEMBRANE_OK', rc == ok)
if rc == ok
  size = length[0, Fiddle::SIZEOF_SIZE_T].unpack1('J')
  body = body_out.ptr.to_s(size).force_encoding('UTF-8')
  Membrane.membrane_free(body_out.ptr)
  integration = JSON.parse(body)
  check("the body is hubspot's JSON from the fixtures (id, key, name, state)",
        %w[id key name state].all? { |k| integration[k] == hubspot[k] })
end

rc = Membrane.membrane_integration_get_text(client, 'nope', 0, body_out, length, err)
check('nope: MEMBRANE_ENOTFOUND, 404, key not_found, *out NULL',
      rc == constants.fetch('MEMBRANE_ENOTFOUND') && err.code == rc && err.http_status == 404 &&
      text(err.key) == 'not_found' && body_out.ptr.null?)
Membrane.membrane_client_free(client)

bad_token = 'ffi-wrong-token-ruby'
rc = Membrane.membrane_client_new(client_out, url, bad_token, err)
if rc == ok
  rc = Membrane.membrane_integration_get_text(client_out.ptr, 'hubspot', 0, body_out, length, err)
  Membrane.membrane_client_free(client_out.ptr)
end
message = text(err.message)
check("a wrong token: MEMBRANE_EAUTH, 401, a message without the token (#{message})",
      rc == constants.fetch('MEMBRANE_EAUTH') && err.http_status == 401 && !message.empty? &&
      !message.include?(bad_token))

exit($failures.zero? ? 0 : 1)
