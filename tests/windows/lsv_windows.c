/*
 * lsv_windows: drives linkedsrv.dll through every function of include/linkedsrv.h the way a
 * Windows C caller would (built with mingw, run under Wine by tests/windows/run.sh; it runs
 * unchanged on Windows).
 *
 * Usage: lsv_windows CONNECTION_STRING PEER [UNTRUSTED_CONNECTION_STRING]
 *   CONNECTION_STRING  a sysadmin login on an instance with no linked servers
 *   PEER               the network name under which that instance reaches a second instance
 *                      that has the login "bts_remote"
 *   UNTRUSTED_...      the same instance without any certificate trust: must fail with
 *                      LSV_ERR_TLS
 *   LSV_TEST_REMOTE_PASSWORD (environment): bts_remote's password; it must never be printed,
 *                      and the program checks that no message or JSON of the library holds it.
 *   LSV_TEST_STALL_CONNECTION (environment): a connection string (no command timeout) to an
 *                      instance that never answers sp_dropserver, for lsv_cancel.
 *   LSV_TEST_ENCRYPTION (environment): what lsv_connection_info must report as "encryption"
 *                      (none, login_only, full, strict).
 *
 * Prints one line per check; exits 0 only if every check passed. Under Wine it needs
 * tests/windows/wine_compat.c built as bcryptprimitives.dll beside linkedsrv.dll.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "linkedsrv.h"

static int failures = 0;
static const char *remote_password = "";

static void check(bool ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok)
        failures++;
}

static bool contains(const char *text, const char *part)
{
    return text != NULL && strstr(text, part) != NULL;
}

/* Every string the library hands out passes here before anything else looks at it. */
static const char *no_secret(const char *text)
{
    if (contains(text, remote_password)) {
        printf("FAIL: the remote password appears in a string from the library\n");
        failures++;
        return "<withheld: held the remote password>";
    }
    return text;
}

/* Checks that a call succeeded; on failure prints the error and frees it. `err` is passed by
 * address: its value must be read only after the call that sets it. */
static bool succeeded(int32_t status, lsv_error **err, const char *what)
{
    check(status == LSV_OK && *err == NULL, what);
    if (status != LSV_OK) {
        printf("      status %d: %s\n", (int)status, no_secret(lsv_error_message(*err)));
        lsv_error_free(*err);
        *err = NULL;
        return false;
    }
    return true;
}

/* Checks a failed call's status and SQL error number through every accessor, then frees it.
 * expected_number: a server error's number, 0 for none, -1 for not checked here. */
static void failed_with(int32_t status, lsv_error **err, int32_t expected_status,
                        int32_t expected_number, const char *expected_procedure, const char *what)
{
    const lsv_error *e = *err;
    check(status == expected_status && lsv_error_code(e) == status, what);
    const char *message = no_secret(lsv_error_message(e));
    const char *json = no_secret(lsv_error_json(e));
    printf("      status %d, SQL %d, severity %d, state %d, line %d, procedure '%s': %s\n",
           (int)status, (int)lsv_error_sql_number(e), (int)lsv_error_sql_severity(e),
           (int)lsv_error_sql_state(e), (int)lsv_error_sql_line(e),
           no_secret(lsv_error_sql_procedure(e)), message);
    if (expected_number > 0) {
        check(lsv_error_sql_number(e) == expected_number, "  SQL error number as expected");
        check(lsv_error_sql_severity(e) >= 11 && lsv_error_sql_state(e) >= 1
                  && lsv_error_sql_line(e) >= 1,
              "  severity, state and line of a server error");
        char number[32];
        snprintf(number, sizeof number, "\"sql_number\":%d", (int)expected_number);
        check(contains(json, number) && contains(json, "\"server_messages\":[{"),
              "  error JSON holds the number and the server messages");
    } else if (expected_number == 0) {
        check(lsv_error_sql_number(e) == 0 && lsv_error_sql_severity(e) == 0,
              "  not a server error: SQL number and severity 0");
    }
    if (expected_procedure != NULL)
        check(strcmp(lsv_error_sql_procedure(e), expected_procedure) == 0,
              "  procedure as expected");
    check(message[0] != '\0' && json[0] == '{', "  message and JSON present");
    lsv_error_free(*err);
    *err = NULL;
}

/* The link under test: quotes, brackets, a comment dash, a double quote and non-ASCII text
 * (UTF-8 in this file). In JSON the double quote comes back escaped. */
static const char *LINK = "BTS'];--\"\xC3\x9Cn\xC3\xAF" "c\xC3\xB8" "d\xC3\xA9 \xE6\x95\xB0\xE6\x8D\xAE";
static const char *LINK_IN_JSON =
    "\"name\":\"BTS'];--\\\"\xC3\x9Cn\xC3\xAF" "c\xC3\xB8" "d\xC3\xA9 \xE6\x95\xB0\xE6\x8D\xAE\"";
/* Enough further links that lsv_list's answer spans several TDS packets and TLS records. */
#define EXTRA_LINKS 12

static void extra_link_name(char *buffer, size_t size, int i)
{
    snprintf(buffer, size, "LS_%02d_\xC3\x9C'x", i);
}

static void cycle(lsv_client *client, const char *peer)
{
    lsv_error *err = NULL;
    char *json = NULL;
    char spec[512];
    snprintf(spec, sizeof spec,
             "{\"product\":\"\",\"provider\":\"MSOLEDBSQL\",\"data_source\":\"%s\","
             "\"options\":{\"data access\":true}}",
             peer);

    if (!succeeded(lsv_create(client, LINK, spec, &err), &err, "lsv_create (quotes, unicode)"))
        return;
    failed_with(lsv_create(client, LINK, spec, &err), &err, LSV_ERR_ALREADY_EXISTS, 15028,
                "sys.sp_addlinkedserver", "creating it again: LSV_ERR_ALREADY_EXISTS");

    succeeded(lsv_map_login(client, LINK, NULL, 0, "bts_remote", remote_password, &err), &err,
              "lsv_map_login: every login to bts_remote");
    succeeded(lsv_map_login(client, LINK, "sa", 1, NULL, NULL, &err), &err,
              "lsv_map_login: sa to itself");
    succeeded(lsv_unmap_login(client, LINK, "sa", &err), &err, "lsv_unmap_login sa");
    succeeded(lsv_set_rpc(client, LINK, 1, 1, &err), &err, "lsv_set_rpc rpc=on rpc_out=on");
    succeeded(lsv_set_option(client, LINK, "query timeout", "30", &err), &err,
              "lsv_set_option query timeout 30");
    succeeded(lsv_set_option(client, LINK, "collation name", NULL, &err), &err,
              "lsv_set_option collation name NULL");
    failed_with(lsv_set_option(client, LINK, "no such option", "1", &err), &err,
                LSV_ERR_INVALID_ARGUMENT, 0, "", "an unknown option: LSV_ERR_INVALID_ARGUMENT");

    if (succeeded(lsv_get(client, LINK, &json, &err), &err, "lsv_get")) {
        no_secret(json);
        check(contains(json, LINK_IN_JSON), "JSON holds the name literally");
        check(contains(json, "\"rpc\":true") && contains(json, "\"rpc_out\":true"),
              "JSON shows rpc and rpc out on");
        check(contains(json, "\"query_timeout\":30"), "JSON shows the query timeout");
        check(contains(json, "\"remote_user\":\"bts_remote\"")
                  && !contains(json, "\"local_login\":\"sa\""),
              "JSON shows the default mapping and not the removed one");
        lsv_string_free(json);
        json = NULL;
    }

    succeeded(lsv_test(client, LINK, &err), &err, "lsv_test through the second instance");

    char name[64];
    for (int i = 0; i < EXTRA_LINKS; i++) {
        extra_link_name(name, sizeof name, i);
        succeeded(lsv_create(client, name, "{\"product\":\"SQL Server\"}", &err), &err,
                  "lsv_create a further link");
        succeeded(lsv_map_login(client, name, NULL, 0, "bts_remote", remote_password, &err),
                  &err, "lsv_map_login on it");
    }
    if (succeeded(lsv_list(client, &json, &err), &err, "lsv_list")) {
        no_secret(json);
        int servers = 0;
        for (const char *at = json; (at = strstr(at, "\"server_id\":")) != NULL; at++)
            servers++;
        printf("      %d linked servers, %u bytes of JSON\n", servers, (unsigned)strlen(json));
        check(json[0] == '[' && servers == EXTRA_LINKS + 1 && contains(json, LINK_IN_JSON),
              "list holds every link");
        lsv_string_free(json);
        json = NULL;
    }

    /* A wrong remote password is refused by the second instance; the message must not show it. */
    char wrong[256];
    snprintf(wrong, sizeof wrong, "%s-wrong", remote_password);
    succeeded(lsv_map_login(client, LINK, NULL, 0, "bts_remote", wrong, &err), &err,
              "lsv_map_login with a wrong remote password");
    failed_with(lsv_test(client, LINK, &err), &err, LSV_ERR_SQL, 18456, NULL,
                "lsv_test with the wrong password: LSV_ERR_SQL 18456");

    failed_with(lsv_drop(client, LINK, 0, &err), &err, LSV_ERR_HAS_LOGINS, 15190, "sys.sp_dropserver",
                "lsv_drop without its logins: LSV_ERR_HAS_LOGINS");
    succeeded(lsv_drop(client, LINK, 1, &err), &err, "lsv_drop with its logins");
    for (int i = 0; i < EXTRA_LINKS; i++) {
        extra_link_name(name, sizeof name, i);
        succeeded(lsv_drop(client, name, 1, &err), &err, "lsv_drop a further link");
    }

    json = (char *)"untouched";
    int32_t missing = lsv_get(client, LINK, &json, &err);
    /* Not raised by a procedure (line 0, no procedure), but numbered as one would: 15015. */
    check(lsv_error_sql_number(err) == 15015, "lsv_get of a missing link carries SQL number 15015");
    failed_with(missing, &err, LSV_ERR_NOT_FOUND, -1, "",
                "lsv_get of the dropped link: LSV_ERR_NOT_FOUND");
    check(strcmp(json, "untouched") == 0, "a failed lsv_get leaves out_json untouched");
    failed_with(lsv_drop(client, LINK, 0, &err), &err, LSV_ERR_NOT_FOUND, 15015, "sys.sp_dropserver",
                "dropping it again: LSV_ERR_NOT_FOUND 15015");
    json = NULL;
    if (succeeded(lsv_list(client, &json, &err), &err, "lsv_list of an empty catalog")) {
        check(strcmp(json, "[]") == 0, "the catalog is empty again");
        lsv_string_free(json);
    }
}

struct stalled_call {
    lsv_client *client;
    int32_t status;
    lsv_error *err;
};

static DWORD WINAPI drop_on_stalled_server(LPVOID argument)
{
    struct stalled_call *call = argument;
    call->status = lsv_drop(call->client, "NOWHERE", 1, &call->err);
    return 0;
}

/* lsv_connection_info: the encryption the mode gives (LSV_TEST_ENCRYPTION) and the server. */
static void connection_info(lsv_client *client, const char *expected_encryption)
{
    lsv_error *err = NULL;
    char *json = NULL;
    if (!succeeded(lsv_connection_info(client, &json, &err), &err, "lsv_connection_info"))
        return;
    char expected[64];
    snprintf(expected, sizeof expected, "\"encryption\":\"%s\"", expected_encryption);
    check(contains(json, expected), "lsv_connection_info reports the mode's encryption");
    check(contains(json, "\"server_name\":\"MGMT\""), "lsv_connection_info names the server");
    printf("      %s\n", json);
    lsv_string_free(json);
}

/* Desired state: one ensure creates a link to the peer with a remote-user mapping, a second
 * finds it converged, the probe calls a procedure through it, the export re-creates it. */
static void desired_state(lsv_client *client, const char *peer)
{
    lsv_error *err = NULL;
    char *json = NULL;
    char desired[1024];
    snprintf(desired, sizeof desired,
             "{\"name\":\"ENSURE_W\",\"product\":\"\",\"provider\":\"MSOLEDBSQL\","
             "\"data_source\":\"%s\",\"options\":{\"rpc out\":true,\"data access\":true},"
             "\"logins\":[{\"local_login\":null,\"uses_self_credential\":false,"
             "\"remote_user\":\"bts_remote\",\"remote_password\":\"%s\"}]}",
             peer, remote_password);

    if (succeeded(lsv_ensure(client, desired, LSV_ENSURE_EXACT_LOGINS, &json, &err), &err,
                  "lsv_ensure ENSURE_W")) {
        no_secret(json);
        check(contains(json, "\"action\":\"created\"") && contains(json, "\"requests\":2"),
              "created in one read and one write");
        lsv_string_free(json);
        json = NULL;
    }
    if (succeeded(lsv_ensure(client, desired, LSV_ENSURE_EXACT_LOGINS, &json, &err), &err,
                  "lsv_ensure ENSURE_W again")) {
        check(contains(json, "\"action\":\"unchanged\"") && contains(json, "\"requests\":1"),
              "converged: unchanged in one request");
        lsv_string_free(json);
        json = NULL;
    }
    if (succeeded(lsv_probe(client, "ENSURE_W", &json, &err), &err, "lsv_probe ENSURE_W")) {
        check(contains(no_secret(json), "\"ok\":true")
                  && contains(json, "\"remote_server_name\":\"BTS01\""),
              "a procedure called through the link answers from BTS01");
        lsv_string_free(json);
        json = NULL;
    }
    if (succeeded(lsv_export(client, "ENSURE_W", &json, &err), &err, "lsv_export ENSURE_W")) {
        check(contains(no_secret(json), "N'ENSURE_W'"), "the script names the server");
        lsv_string_free(json);
        json = NULL;
    }
    int32_t status = lsv_biztalk_sync(client, NULL, LSV_ENSURE_DRY_RUN, &json, &err);
    check(status == LSV_ERR_SQL && json == NULL && contains(no_secret(lsv_error_message(err)),
                                                             "BizTalkMgmtDb"),
          "lsv_biztalk_sync without BizTalkMgmtDb: LSV_ERR_SQL naming it");
    lsv_error_free(err);
    err = NULL;
    succeeded(lsv_drop(client, "ENSURE_W", 1, &err), &err, "lsv_drop ENSURE_W");
}

/* lsv_cancel from another thread than the one blocked in a call the server never answers. */
static void cancellation(const char *stalling_connection)
{
    lsv_client *client = NULL;
    lsv_error *err = NULL;
    if (!succeeded(lsv_connect(stalling_connection, &client, &err), &err,
                   "lsv_connect to a server that never answers sp_dropserver"))
        return;
    check(lsv_cancel(client) == LSV_OK, "lsv_cancel without a call running");
    struct stalled_call call = {client, -1, NULL};
    HANDLE thread = CreateThread(NULL, 0, drop_on_stalled_server, &call, 0, NULL);
    check(thread != NULL, "CreateThread");
    if (thread == NULL)
        return;
    /* A cancel that comes before the call has started does not affect it: repeat until the
     * call returns. */
    while (WaitForSingleObject(thread, 50) == WAIT_TIMEOUT)
        lsv_cancel(client);
    CloseHandle(thread);
    failed_with(call.status, &call.err, LSV_ERR_CANCELLED, 0, "",
                "a stalled lsv_drop cancelled from another thread: LSV_ERR_CANCELLED");
    char *json = NULL;
    if (succeeded(lsv_list(client, &json, &err), &err, "the client is usable after the cancel"))
        lsv_string_free(json);
    lsv_client_free(client);
    check(lsv_cancel(client) == LSV_ERR_INVALID_HANDLE,
          "lsv_cancel on a freed client: LSV_ERR_INVALID_HANDLE");
}

static void argument_errors(lsv_client *client)
{
    lsv_error *err = NULL;
    failed_with(lsv_create(client, NULL, "{}", &err), &err, LSV_ERR_INVALID_ARGUMENT, 0, "",
                "NULL name: LSV_ERR_INVALID_ARGUMENT");
    failed_with(lsv_create(client, "X", "{\"colour\":1}", &err), &err, LSV_ERR_INVALID_ARGUMENT,
                0, "", "unknown spec member: LSV_ERR_INVALID_ARGUMENT");
    failed_with(lsv_map_login(client, "X", NULL, 1, "u", remote_password, &err), &err,
                LSV_ERR_INVALID_ARGUMENT, 0, "", "a self mapping with a password is refused");
    check(lsv_set_rpc(client, "X", 2, 1, NULL) == LSV_ERR_INVALID_ARGUMENT,
          "rpc=2 is rejected; out_err may be NULL");
    check(lsv_list(client, NULL, NULL) == LSV_ERR_INVALID_ARGUMENT, "NULL out_json is rejected");
    check(lsv_error_code(NULL) == 0 && strcmp(lsv_error_message(NULL), "") == 0
              && lsv_error_sql_number(NULL) == 0 && lsv_error_sql_severity(NULL) == 0
              && lsv_error_sql_state(NULL) == 0 && lsv_error_sql_line(NULL) == 0
              && strcmp(lsv_error_sql_procedure(NULL), "") == 0
              && strcmp(lsv_error_json(NULL), "") == 0,
          "every accessor on NULL gives 0 or \"\"");
    lsv_error_free(NULL);
    lsv_string_free(NULL);
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s CONNECTION_STRING PEER [UNTRUSTED_CONNECTION_STRING]\n",
                argv[0]);
        return 2;
    }
    remote_password = getenv("LSV_TEST_REMOTE_PASSWORD");
    const char *stalling_connection = getenv("LSV_TEST_STALL_CONNECTION");
    if (remote_password == NULL || strlen(remote_password) < 8 || stalling_connection == NULL) {
        fprintf(stderr, "set LSV_TEST_REMOTE_PASSWORD and LSV_TEST_STALL_CONNECTION\n");
        return 2;
    }
    /* Under Wine, tests/windows/wine_compat.c (as bcryptprimitives.dll) corrects DecryptMessage
     * answers and counts them; on Windows the system's bcryptprimitives.dll has no counter. */
    typedef LONG(WINAPI * corrections_fn)(void);
    HMODULE compat = GetModuleHandleA("bcryptprimitives.dll");
    corrections_fn corrections =
        compat ? (corrections_fn)(void (*)(void))GetProcAddress(compat, "wine_compat_decrypt_corrections")
               : NULL;
    printf("library: %s\n", lsv_version());
    check(lsv_abi_version() >> 16 == LSV_ABI_VERSION_MAJOR, "ABI major version matches the header");

    lsv_client *client = NULL;
    lsv_error *err = NULL;
    if (argc == 4) {
        failed_with(lsv_connect(argv[3], &client, &err), &err, LSV_ERR_TLS, 0, "",
                    "an untrusted certificate: LSV_ERR_TLS");
    }
    /* The management login with a wrong password: the remote password serves as that. */
    char wrong_login[4096];
    snprintf(wrong_login, sizeof wrong_login, "%s;Password=%s", argv[1], remote_password);
    failed_with(lsv_connect(wrong_login, &client, &err), &err, LSV_ERR_AUTHENTICATION, 18456, NULL,
                "a wrong password: LSV_ERR_AUTHENTICATION 18456");
    check(client == NULL, "a failed lsv_connect leaves out_client untouched");
    if (!succeeded(lsv_connect(argv[1], &client, &err), &err, "lsv_connect"))
        return 1;

    const char *encryption = getenv("LSV_TEST_ENCRYPTION");
    if (encryption != NULL)
        connection_info(client, encryption);
    else
        check(false, "LSV_TEST_ENCRYPTION names the expected encryption");
    cycle(client, argv[2]);
    desired_state(client, argv[2]);
    argument_errors(client);
    cancellation(stalling_connection);

    lsv_client_free(client);
    char *json = NULL;
    check(lsv_list(client, &json, NULL) == LSV_ERR_INVALID_HANDLE && json == NULL,
          "a freed client gives LSV_ERR_INVALID_HANDLE");
    lsv_client_free(client); /* a second free is ignored */
    lsv_client_free(NULL);

    if (corrections != NULL)
        printf("wine: %ld DecryptMessage answer(s) corrected\n", (long)corrections());
    printf("%s: %d check(s) failed\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
