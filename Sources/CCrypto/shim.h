/* OpenSSL's libcrypto, for signing tokens (HMAC-SHA256/512, ECDSA P-256,
   RSA PKCS#1 v1.5). libcurl already loads it. */
#define OPENSSL_API_COMPAT 30000
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
