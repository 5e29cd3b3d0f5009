// lookup.cpp: membrane.h from C++17. Building it with
//   g++ -std=c++17 -Wall -Wextra -Werror -pedantic
// checks the header compiles as C++ without a warning; linking and running it
// checks the extern "C" guards (C++ name mangling would leave every
// membrane_* symbol unresolved). Usage: lookup URL TOKEN SELECTOR EXPECTED_NAME
// Prints ok/FAIL per check; exits 1 on any failure.
#include <membrane.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace {

int failures = 0;

void check(const std::string &name, bool condition)
{
    std::printf("%s c++: %s\n", condition ? "ok   " : "FAIL ", name.c_str());
    if (!condition)
        failures++;
}

struct ClientDeleter {
    void operator()(membrane_client *client) const { membrane_client_free(client); }
};
struct JsonDeleter {
    void operator()(json_t *value) const { membrane_json_release(value); }
};

} // namespace

int main(int argc, char **argv)
{
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s URL TOKEN SELECTOR EXPECTED_NAME\n", argv[0]);
        return 2;
    }
    const char *url = argv[1], *token = argv[2], *selector = argv[3], *expected_name = argv[4];
    static_assert(sizeof(membrane_error) == 424, "membrane_error is 424 bytes in C++ too");

    check(std::string("membrane_version() is MEMBRANE_VERSION_STRING (") + membrane_version() + ")",
          std::strcmp(membrane_version(), MEMBRANE_VERSION_STRING) == 0);

    membrane_error err{};
    membrane_client *raw = nullptr;
    int rc = membrane_client_new(&raw, url, token, &err);
    check("membrane_client_new: MEMBRANE_OK", rc == MEMBRANE_OK);
    std::unique_ptr<membrane_client, ClientDeleter> client(raw);
    if (rc != MEMBRANE_OK)
        return 1;

    json_t *value = nullptr;
    rc = membrane_integration_get(client.get(), selector, 0, &value, &err);
    check(std::string("membrane_integration_get(") + selector + "): MEMBRANE_OK", rc == MEMBRANE_OK);
    std::unique_ptr<json_t, JsonDeleter> integration(value);
    const char *name = json_string_value(json_object_get(integration.get(), "name")); // borrowed
    check(std::string("its name is ") + expected_name, name != nullptr && std::strcmp(name, expected_name) == 0);

    rc = membrane_integration_get(client.get(), "nope", MEMBRANE_INCLUDE_SECRETS, &value, &err);
    check("nope: MEMBRANE_ENOTFOUND and a NULL out", rc == MEMBRANE_ENOTFOUND && value == nullptr &&
                                                     std::strcmp(err.key, "not_found") == 0);
    return failures == 0 ? 0 : 1;
}
