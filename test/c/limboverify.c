/*
 * Reference verifier for the x509-limbo conformance test: libcrypto's X509_verify_cert set up as
 * libssl's ssl_verify_cert_chain sets it up for a TLS client (purpose and trust "ssl_server", the
 * peer's whole list as untrusted, the SSL security level as auth_level), with the verify callback
 * of one of two callers:
 *   first: curl (SSL_VERIFY_PEER, OpenSSL's default callback): the first error stops verification;
 *   last:  Node (its callback always returns 1): verification runs on, the last error is reported.
 * The name is checked afterwards, as both callers do it outside X509_verify_cert, with
 * X509_check_ip_asc, or X509_check_host with X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS (curl's own
 * matcher and Python's ssl module accept only whole-label wildcards).
 *
 * usage: limboverify first|last LEVEL PARTIAL(0|1) < cases
 * input, one item per line:  T <id> | N <unix time> | R <hex DER> (trusted) | I <hex DER>
 *   (untrusted, leaf first) | H <dns name> | A <ip> | E (run the testcase)
 * output, one line per testcase: <id> <error code> <error depth> <name ok 0|1|-1>
 *   (code -1: a presented certificate did not decode, which fails the handshake before verifying)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/opensslv.h>
#include <openssl/crypto.h>

static int last_mode;

static int node_like_callback(int ok, X509_STORE_CTX *ctx) {
    (void)ok;
    (void)ctx;
    return 1;
}

/* d2i_X509 over the whole buffer; a peer certificate with bytes after it fails libssl's length check. */
static X509 *from_hex(const char *hex, int whole) {
    size_t n = strlen(hex) / 2;
    unsigned char *buf = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        unsigned int b;
        sscanf(hex + 2 * i, "%2x", &b);
        buf[i] = (unsigned char)b;
    }
    const unsigned char *p = buf;
    X509 *x = d2i_X509(NULL, &p, (long)n);
    if (x != NULL && whole && p != buf + n) {
        X509_free(x);
        x = NULL;
    }
    free(buf);
    return x;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: limboverify first|last LEVEL PARTIAL\n");
        return 2;
    }
    last_mode = strcmp(argv[1], "last") == 0;
    int level = atoi(argv[2]);
    int partial = atoi(argv[3]);
    printf("# %s\n", OpenSSL_version(OPENSSL_VERSION));

    static char line[1 << 20];
    char id[512] = "";
    long now = 0;
    char host[1024] = "";
    int host_is_ip = 0, bad_peer = 0;
    X509_STORE *store = NULL;
    STACK_OF(X509) *untrusted = sk_X509_new_null();

    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        char kind = line[0];
        const char *arg = line[1] ? line + 2 : "";
        if (kind == 'T') {
            snprintf(id, sizeof id, "%s", arg);
            store = X509_STORE_new();
            host[0] = 0;
            bad_peer = 0;
        } else if (kind == 'N') {
            now = atol(arg);
        } else if (kind == 'R') {
            X509 *x = from_hex(arg, 0);
            if (x != NULL) { /* a root that does not decode is not in the store */
                X509_STORE_add_cert(store, x);
                X509_free(x);
            }
        } else if (kind == 'I') {
            X509 *x = from_hex(arg, 1);
            if (x == NULL) bad_peer = 1;
            else sk_X509_push(untrusted, x);
        } else if (kind == 'H' || kind == 'A') {
            snprintf(host, sizeof host, "%s", arg);
            host_is_ip = kind == 'A';
        } else if (kind == 'E') {
            int code = -1, depth = -1, name_ok = -1;
            if (!bad_peer && sk_X509_num(untrusted) > 0) {
                X509 *leaf = sk_X509_value(untrusted, 0);
                X509_STORE_CTX *ctx = X509_STORE_CTX_new();
                X509_STORE_CTX_init(ctx, store, leaf, untrusted);
                /* ssl_verify_cert_chain: a client verifies a server */
                X509_STORE_CTX_set_default(ctx, "ssl_server");
                X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
                X509_VERIFY_PARAM_set_auth_level(param, level);
                X509_VERIFY_PARAM_set_time(param, (time_t)now);
                if (partial) X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
                if (last_mode) X509_STORE_CTX_set_verify_cb(ctx, node_like_callback);
                X509_verify_cert(ctx);
                code = X509_STORE_CTX_get_error(ctx);
                depth = X509_STORE_CTX_get_error_depth(ctx);
                X509_STORE_CTX_free(ctx);
                if (host[0]) {
                    name_ok = host_is_ip ? X509_check_ip_asc(leaf, host, 0) == 1
                                         : X509_check_host(leaf, host, strlen(host), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
                }
            }
            printf("%s %d %d %d\n", id, code, depth, name_ok);
            fflush(stdout);
            X509_STORE_free(store);
            store = NULL;
            sk_X509_pop_free(untrusted, X509_free);
            untrusted = sk_X509_new_null();
        }
    }
    return 0;
}
