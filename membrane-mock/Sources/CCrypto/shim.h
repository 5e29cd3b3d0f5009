/* OpenSSL's libcrypto, for checking the signatures of the tokens the stand-in
   accepts: HMAC-SHA256/512 (HS256, HS512), ECDSA P-256 (ES256) and RSA PKCS#1
   v1.5 (RS256). The static inline helpers wrap what Swift cannot reach
   directly (macros, constants defined through other macros). */
#define OPENSSL_API_COMPAT 30000
#include <string.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

/* What kind of public key: 1 EC on P-256, 2 RSA, 0 anything else. */
static inline int mbcrypto_key_kind(const EVP_PKEY *key) {
    int id = EVP_PKEY_get_base_id(key);
    if (id == EVP_PKEY_RSA) return 2;
    if (id != EVP_PKEY_EC) return 0;
    char group[64] = {0};
    size_t length = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &length) != 1) return 0;
    return (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) ? 1 : 0;
}

/* A JWS ECDSA signature is r || s, each `half` bytes, big-endian; OpenSSL
   verifies the DER form (SEQUENCE of two INTEGERs). Writes it to `out` and
   returns its length, or 0 if it does not fit or cannot be built. */
static inline size_t mbcrypto_ecdsa_raw_to_der(const unsigned char *raw, int half,
                                               unsigned char *out, size_t capacity) {
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, half, NULL);
    BIGNUM *s = BN_bin2bn(raw + half, half, NULL);
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return 0;
    }
    size_t written = 0;
    int needed = i2d_ECDSA_SIG(sig, NULL);
    if (needed > 0 && (size_t)needed <= capacity) {
        unsigned char *cursor = out;
        int length = i2d_ECDSA_SIG(sig, &cursor);
        if (length == needed) written = (size_t)length;
    }
    ECDSA_SIG_free(sig); /* frees r and s too */
    return written;
}
