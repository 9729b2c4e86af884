#ifndef CLIBSSH2_SHIM_H
#define CLIBSSH2_SHIM_H
#include <stdlib.h>
#include <string.h>
#include <libssh2.h>

/* Function-like macros and constants that Swift cannot import. */
static inline int custody_ssh2_eagain(void) { return LIBSSH2_ERROR_EAGAIN; }
static inline int custody_ssh2_inbound(void) { return LIBSSH2_SESSION_BLOCK_INBOUND; }
static inline int custody_ssh2_outbound(void) { return LIBSSH2_SESSION_BLOCK_OUTBOUND; }
static inline int custody_ssh2_hash_sha256(void) { return LIBSSH2_HOSTKEY_HASH_SHA256; }
static inline int custody_ssh2_method_kex(void) { return LIBSSH2_METHOD_KEX; }
static inline int custody_ssh2_method_hostkey(void) { return LIBSSH2_METHOD_HOSTKEY; }
static inline int custody_ssh2_method_crypt_cs(void) { return LIBSSH2_METHOD_CRYPT_CS; }
static inline int custody_ssh2_method_crypt_sc(void) { return LIBSSH2_METHOD_CRYPT_SC; }
static inline int custody_ssh2_error_auth_failed(void) { return LIBSSH2_ERROR_AUTHENTICATION_FAILED; }
static inline int custody_ssh2_error_pubkey_unverified(void) { return LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED; }
static inline int custody_ssh2_error_password_expired(void) { return LIBSSH2_ERROR_PASSWORD_EXPIRED; }

static inline LIBSSH2_SESSION *custody_ssh2_session_new(void *abstract) {
    return libssh2_session_init_ex(NULL, NULL, NULL, abstract);
}
static inline LIBSSH2_CHANNEL *custody_ssh2_channel_session(LIBSSH2_SESSION *s) {
    return libssh2_channel_open_ex(s, "session", sizeof("session") - 1, LIBSSH2_CHANNEL_WINDOW_DEFAULT,
                                   LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

typedef void (*custody_kbdint_cb)(const char *, int, const char *, int, int, const LIBSSH2_USERAUTH_KBDINT_PROMPT *,
                                  LIBSSH2_USERAUTH_KBDINT_RESPONSE *, void **);

/* Keyboard-interactive answers are malloc'd copies; libssh2 frees them. */
static inline void custody_ssh2_set_response(LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses, int index, const char *text, unsigned int len) {
    char *copy = (char *)malloc(len + 1);
    if (!copy) { responses[index].text = NULL; responses[index].length = 0; return; }
    memcpy(copy, text, len);
    copy[len] = 0;
    responses[index].text = copy;
    responses[index].length = len;
}
#endif
