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

/// One page of a paged search (RFC 2696, which AD needs past its MaxPageSize): the entries in
/// *res (free with ldap_msgfree), the cookie for the next page in *cookie (bv_len 0: the last
/// page; free bv_val with ber_memfree). Returns the search's result code.
static inline int cldap_search_page(LDAP *ld, const char *base, int scope, const char *filter, char **attrs, int pagesize,
                                    struct berval *cookie, LDAPMessage **res) {
    LDAPControl *ctrl = NULL;
    int rc = ldap_create_page_control(ld, pagesize, cookie->bv_len ? cookie : NULL, 0, &ctrl);
    if (rc != LDAP_SUCCESS) return rc;
    LDAPControl *ctrls[2] = { ctrl, NULL };
    rc = ldap_search_ext_s(ld, base, scope, filter, attrs, 0, ctrls, NULL, NULL, 0, res);
    ldap_control_free(ctrl);
    if (cookie->bv_val) ber_memfree(cookie->bv_val);
    cookie->bv_val = NULL;
    cookie->bv_len = 0;
    if (rc != LDAP_SUCCESS) return rc;
    int err = LDAP_SUCCESS;
    LDAPControl **returned = NULL;
    rc = ldap_parse_result(ld, *res, &err, NULL, NULL, NULL, &returned, 0);
    if (rc != LDAP_SUCCESS) return rc;
    if (returned) {
        LDAPControl *page = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, returned, NULL);
        if (page) {
            ber_int_t count = 0;
            ldap_parse_pageresponse_control(ld, page, &count, cookie);
        }
        ldap_controls_free(returned);
    }
    return err;
}
