/*
 * layout.c: membrane_error's layout, which membrane.h states and FFIs rely
 * on, checked at compile time. Compiling this file is the test:
 *   cc -std=c11 -Wall -Wextra -Werror -pedantic -I Include -c layout.c
 */
#include <stddef.h>

#include <membrane.h>

_Static_assert(sizeof(membrane_error) == 424, "membrane_error is 424 bytes");
_Static_assert(offsetof(membrane_error, code) == 0, "code at 0");
_Static_assert(offsetof(membrane_error, http_status) == 4, "http_status at 4");
_Static_assert(offsetof(membrane_error, type) == 8, "type at 8");
_Static_assert(offsetof(membrane_error, key) == 40, "key at 40");
_Static_assert(offsetof(membrane_error, message) == 104, "message at 104");
_Static_assert(offsetof(membrane_error, error_id) == 360, "error_id at 360");
_Static_assert(sizeof(((membrane_error *)0)->type) == 32, "type holds 32 bytes");
_Static_assert(sizeof(((membrane_error *)0)->key) == 64, "key holds 64 bytes");
_Static_assert(sizeof(((membrane_error *)0)->message) == 256, "message holds 256 bytes");
_Static_assert(sizeof(((membrane_error *)0)->error_id) == 64, "error_id holds 64 bytes");

/* ISO C wants at least one declaration that is not an assertion. */
typedef int membrane_layout_checked;
