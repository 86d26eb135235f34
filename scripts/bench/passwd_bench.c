/* passwd_bench.c — the baseline for `writeback-bench directory`: Password Modify (RFC 3062)
 * with the ppolicy request control over libldap, one connection per thread, each thread
 * resetting its share of users. Compiled at bench time:
 *   cc -O2 -o passwd_bench passwd_bench.c -lldap -llber -lpthread
 * Usage: passwd_bench URI BIND_DN BIND_PASSWORD_FILE USER_DN_FORMAT FIRST COUNT THREADS TAG
 *   USER_DN_FORMAT has one %05d (e.g. "uid=bench%05d,ou=bench,dc=example,dc=org").
 * New passwords are made here ("Cb9-<TAG>-<n>-x"); no secret is on the command line.
 * Prints: resets=<n> failures=<n> seconds=<s> rate=<resets/s>
 */
#define _GNU_SOURCE
#include <ldap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *uri, *binddn, *dnfmt, *tag;
static char bindpw[512];
static int first, count, threads;

struct slice { int from, to, ok, failed; };

static void *worker(void *arg) {
    struct slice *s = arg;
    LDAP *ld = NULL;
    int version = LDAP_VERSION3;
    if (ldap_initialize(&ld, uri) != LDAP_SUCCESS) { s->failed = s->to - s->from; return NULL; }
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    struct berval cred = { strlen(bindpw), bindpw };
    if (ldap_sasl_bind_s(ld, binddn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL) != LDAP_SUCCESS) {
        s->failed = s->to - s->from; ldap_unbind_ext(ld, NULL, NULL); return NULL;
    }
    LDAPControl ppolicy = { LDAP_CONTROL_PASSWORDPOLICYREQUEST, { 0, NULL }, 0 };
    LDAPControl *ctrls[] = { &ppolicy, NULL };
    for (int i = s->from; i < s->to; i++) {
        char dn[512], pw[128];
        snprintf(dn, sizeof dn, dnfmt, i);
        snprintf(pw, sizeof pw, "Cb9-%s-%d-x", tag, i);
        struct berval user = { strlen(dn), dn }, newpw = { strlen(pw), pw };
        struct berval gen = { 0, NULL };
        int rc = ldap_passwd_s(ld, &user, NULL, &newpw, &gen, ctrls, NULL);
        if (gen.bv_val) ber_memfree(gen.bv_val);
        if (rc == LDAP_SUCCESS) s->ok++; else s->failed++;
    }
    ldap_unbind_ext(ld, NULL, NULL);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 9) { fprintf(stderr, "usage: %s URI BIND_DN PWFILE DN_FORMAT FIRST COUNT THREADS TAG\n", argv[0]); return 2; }
    uri = argv[1]; binddn = argv[2]; dnfmt = argv[4]; tag = argv[8];
    first = atoi(argv[5]); count = atoi(argv[6]); threads = atoi(argv[7]);
    FILE *f = fopen(argv[3], "r");
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
