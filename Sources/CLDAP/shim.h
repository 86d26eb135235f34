#ifndef WRITEBACKD_CLDAP_SHIM_H
#define WRITEBACKD_CLDAP_SHIM_H
#include <lber.h>
#include <ldap.h>
#include <sasl/sasl.h>

/* Macros Swift cannot import (directories.md): exposed as inline functions. */
static inline void *cldap_opt_on(void) { return LDAP_OPT_ON; }
static inline void *cldap_opt_off(void) { return LDAP_OPT_OFF; }
static inline const char *cldap_sasl_simple(void) { return LDAP_SASL_SIMPLE; }

/* SASL interaction for GSSAPI/EXTERNAL: every prompt takes its default (or empty).
   Kept in C because sasl_interact_t arrays are walked by pointer arithmetic. */
static inline int cldap_sasl_interact_defaults(LDAP *ld, unsigned flags, void *defaults, void *in) {
    (void)ld; (void)flags; (void)defaults;
    sasl_interact_t *interact = (sasl_interact_t *)in;
    for (; interact && interact->id != SASL_CB_LIST_END; interact++) {
        const char *v = interact->defresult ? interact->defresult : "";
        interact->result = v;
        interact->len = (unsigned)__builtin_strlen(v);
    }
    return LDAP_SUCCESS;
}

static inline int cldap_sasl_interactive_bind(LDAP *ld, const char *mech, LDAPControl **sctrls) {
    return ldap_sasl_interactive_bind_s(ld, NULL, mech, sctrls, NULL, LDAP_SASL_QUIET,
                                        cldap_sasl_interact_defaults, NULL);
}
#endif
