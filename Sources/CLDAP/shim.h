#pragma once
#define LDAP_DEPRECATED 0
#include <lber.h>
#include <ldap.h>
#include <stdlib.h>
#include <string.h>

/// A berval over bytes the caller keeps alive.
static inline struct berval cldap_berval(const char *bytes, unsigned long length) {
    struct berval b;
    b.bv_val = (char *)bytes;
    b.bv_len = length;
    return b;
}

/// The server's diagnostic message for the last operation, or NULL; free with ldap_memfree.
static inline char *cldap_diagnostic(LDAP *ld) {
    char *msg = NULL;
    ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg);
    return msg;
}

static inline int cldap_set_timeout(LDAP *ld, int option, double seconds) {
    struct timeval tv;
    tv.tv_sec = (long)seconds;
    tv.tv_usec = (long)((seconds - (double)(long)seconds) * 1e6);
    return ldap_set_option(ld, option, &tv);
}

static inline int cldap_set_int(LDAP *ld, int option, int value) { return ldap_set_option(ld, option, &value); }

/// Replaces (or with op LDAP_MOD_DELETE/ADD changes) one attribute with one binary value.
static inline int cldap_modify_one(LDAP *ld, const char *dn, int op, const char *attr, struct berval *value,
                                   int op2, struct berval *value2) {
    struct berval *vals[2] = { value, NULL };
    struct berval *vals2[2] = { value2, NULL };
    LDAPMod mod, mod2;
    mod.mod_op = op | LDAP_MOD_BVALUES;
    mod.mod_type = (char *)attr;
    mod.mod_bvalues = vals;
    mod2.mod_op = op2 | LDAP_MOD_BVALUES;
    mod2.mod_type = (char *)attr;
    mod2.mod_bvalues = vals2;
    LDAPMod *mods[3] = { &mod, value2 ? &mod2 : NULL, NULL };
    return ldap_modify_ext_s(ld, dn, mods, NULL, NULL);
}
