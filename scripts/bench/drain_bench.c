/* drain_bench.c — the baselines for `writeback-bench drain`, and a bind checker for `faults`.
 * One StartTLS connection per thread (certificate verified against CA_FILE), each thread
 * working through its share of users. Compiled at bench time:
 *   cc -O2 -o drain_bench drain_bench.c -lldap -llber -lpthread
 *
 * Usage: drain_bench MODE URI CA_FILE BIND_DN BIND_PASSWORD_FILE BASE_DN FIRST COUNT THREADS TAG
 *   MODE full: per user what writebackd does for a reset of an OpenLDAP user that is not
 *              locked: one subtree search with the daemon's filter and attributes
 *              ((&(objectClass=inetOrgPerson)(|(uid=U)(mail=U))), size limit 2), then the
 *              Password Modify extended operation (RFC 3062) with the ppolicy request control.
 *   MODE pm:   the Password Modify alone (the raw limit).
 *   Users are uid=benchNNNNN (five digits) under ou=bench,BASE_DN, FIRST … FIRST+COUNT-1.
 *   New passwords are made here ("Cd9-<TAG>-<n>-x"); no secret is on the command line.
 *   Prints: resets=<n> failures=<n> seconds=<s> rate=<resets/s>
 *
 * Usage: drain_bench bind URI CA_FILE
 *   Reads "DN<TAB>PASSWORD" lines on stdin and simple-binds each over one StartTLS
 *   connection; prints binds=<ok> failures=<n>, and the DNs that failed on stderr.
 */
#define _GNU_SOURCE
#include <ldap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *mode, *uri, *cafile, *binddn, *basedn, *tag;
static char bindpw[512];
static int first, count, threads;

struct slice { int from, to, ok, failed; };

/* A StartTLS connection that verifies the server against CA_FILE. */
static LDAP *open_tls(void) {
    LDAP *ld = NULL;
    int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
    if (ldap_initialize(&ld, uri) != LDAP_SUCCESS) return NULL;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cafile);
    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    /* ldap.conf(5): a per-handle CA takes effect once a new TLS context is made. */
    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
    if (ldap_start_tls_s(ld, NULL, NULL) != LDAP_SUCCESS) { ldap_unbind_ext(ld, NULL, NULL); return NULL; }
    return ld;
}

static void *worker(void *arg) {
    struct slice *s = arg;
    LDAP *ld = open_tls();
    if (!ld) { s->failed = s->to - s->from; return NULL; }
    struct berval cred = { strlen(bindpw), bindpw };
    if (ldap_sasl_bind_s(ld, binddn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL) != LDAP_SUCCESS) {
        s->failed = s->to - s->from; ldap_unbind_ext(ld, NULL, NULL); return NULL;
    }
    LDAPControl ppolicy = { LDAP_CONTROL_PASSWORDPOLICYREQUEST, { 0, NULL }, 0 };
    LDAPControl *ctrls[] = { &ppolicy, NULL };
    char *attrs[] = { "uid", "cn", "displayName", "mail", "pwdAccountLockedTime", "pwdChangedTime",
                      "pwdHistory", "pwdReset", "memberOf", "adminCount", NULL };
    int full = strcmp(mode, "full") == 0;
    for (int i = s->from; i < s->to; i++) {
        char uid[32], dnbuf[512], pw[128], filter[256];
        snprintf(uid, sizeof uid, "bench%05d", i);
        snprintf(pw, sizeof pw, "Cd9-%s-%d-x", tag, i);
        const char *dn = dnbuf;
        char *found = NULL;
        if (full) {
            /* The identity needs no RFC 4515 escaping: it is [a-z0-9] only. */
            snprintf(filter, sizeof filter, "(&(objectClass=inetOrgPerson)(|(uid=%s)(mail=%s)))", uid, uid);
            LDAPMessage *res = NULL;
            int rc = ldap_search_ext_s(ld, basedn, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, NULL, 2, &res);
            LDAPMessage *e = rc == LDAP_SUCCESS ? ldap_first_entry(ld, res) : NULL;
            if (!e || ldap_count_entries(ld, res) != 1) { s->failed++; if (res) ldap_msgfree(res); continue; }
            found = ldap_get_dn(ld, e);   /* ldap_get_dn(3): free with ldap_memfree */
            /* Read the state attributes the daemon decides on (lock, history, flags). */
            struct berval **vals = ldap_get_values_len(ld, e, "pwdHistory");
            if (vals) ldap_value_free_len(vals);
            vals = ldap_get_values_len(ld, e, "pwdAccountLockedTime");
            if (vals) ldap_value_free_len(vals);
            ldap_msgfree(res);
            dn = found;
        } else {
            snprintf(dnbuf, sizeof dnbuf, "uid=%s,ou=bench,%s", uid, basedn);
        }
        struct berval user = { strlen(dn), (char *)dn }, newpw = { strlen(pw), pw };
        struct berval gen = { 0, NULL };
        int rc = ldap_passwd_s(ld, &user, NULL, &newpw, &gen, ctrls, NULL);
        if (gen.bv_val) ber_memfree(gen.bv_val);
        if (found) ldap_memfree(found);
        if (rc == LDAP_SUCCESS) s->ok++; else s->failed++;
    }
    ldap_unbind_ext(ld, NULL, NULL);
    return NULL;
}

/* bind mode: DN<TAB>PASSWORD per line on stdin, one simple bind each. */
static int check_binds(void) {
    LDAP *ld = open_tls();
    if (!ld) { fprintf(stderr, "drain_bench: cannot connect with StartTLS\n"); return 2; }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int ok = 0, failed = 0;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n') line[--n] = 0;
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        struct berval cred = { strlen(tab + 1), tab + 1 };
        int rc = ldap_sasl_bind_s(ld, line, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
        if (rc == LDAP_SUCCESS) ok++; else { failed++; fprintf(stderr, "bind failed (%d): %s\n", rc, line); }
        memset(tab + 1, 0, strlen(tab + 1));
        if (rc == LDAP_SERVER_DOWN) { ldap_unbind_ext(ld, NULL, NULL); ld = open_tls(); if (!ld) return 2; }
    }
    if (line) { memset(line, 0, cap); free(line); }
    ldap_unbind_ext(ld, NULL, NULL);
    printf("binds=%d failures=%d\n", ok, failed);
    return failed ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "bind") == 0) { uri = argv[2]; cafile = argv[3]; return check_binds(); }
    if (argc != 11) {
        fprintf(stderr, "usage: %s full|pm URI CA_FILE BIND_DN PWFILE BASE_DN FIRST COUNT THREADS TAG\n"
                        "       %s bind URI CA_FILE < dn-tab-password-lines\n", argv[0], argv[0]);
        return 2;
    }
    mode = argv[1]; uri = argv[2]; cafile = argv[3]; binddn = argv[4]; basedn = argv[6]; tag = argv[10];
    first = atoi(argv[7]); count = atoi(argv[8]); threads = atoi(argv[9]);
    FILE *f = fopen(argv[5], "r");
    if (!f) { perror("password file"); return 2; }
    size_t n = fread(bindpw, 1, sizeof bindpw - 1, f);
    fclose(f);
    bindpw[n] = 0;
    if (n > 0 && bindpw[n - 1] == '\n') bindpw[--n] = 0;
    if (n > 0 && bindpw[n - 1] == '\r') bindpw[--n] = 0;

    pthread_t tids[64];
    struct slice slices[64];
    if (threads < 1 || threads > 64) threads = 4;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int t = 0; t < threads; t++) {
        slices[t].from = first + count * t / threads;
        slices[t].to = first + count * (t + 1) / threads;
        slices[t].ok = slices[t].failed = 0;
        pthread_create(&tids[t], NULL, worker, &slices[t]);
    }
    int ok = 0, failed = 0;
    for (int t = 0; t < threads; t++) { pthread_join(tids[t], NULL); ok += slices[t].ok; failed += slices[t].failed; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    memset(bindpw, 0, sizeof bindpw);
    printf("resets=%d failures=%d seconds=%.3f rate=%.1f\n", ok, failed, secs, ok / secs);
    return failed ? 1 : 0;
}
