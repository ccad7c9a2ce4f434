/*
 * lsv_cycle: drives liblinkedsrv through its C header the way a C caller would.
 * Usage: lsv_cycle CONNECTION_STRING   (a sysadmin login on a server with no linked servers)
 * Prints one line per check; exits 0 only if every check passed.
 */
#include <stdio.h>
#include <string.h>

#include "linkedsrv.h"

static int failures = 0;

static void check(bool ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok)
        failures++;
}

/* Checks that a call succeeded; on failure prints the error and frees it. `err` is passed by
 * address because C leaves the order of evaluating arguments open: its value must be read only
 * after the call that sets it. */
static bool succeeded(int32_t status, lsv_error **err, const char *what)
{
    check(status == LSV_OK && *err == NULL, what);
    if (status != LSV_OK) {
        fprintf(stderr, "  status %d: %s\n", (int)status, lsv_error_message(*err));
        lsv_error_free(*err);
        *err = NULL;
        return false;
    }
    return true;
}

static bool contains(const char *text, const char *part)
{
    return text != NULL && strstr(text, part) != NULL;
}

static void cycle(lsv_client *client)
{
    const char *name = "BTS_C";
    lsv_error *err = NULL;
    char *json = NULL;

    if (!succeeded(lsv_create(client, name, "{\"product\":\"SQL Server\"}", &err), &err,
                   "lsv_create BTS_C"))
        return;
    succeeded(lsv_map_login(client, name, NULL, 0, "bts_remote", "Rem0te!Secret", &err), &err,
              "lsv_map_login: every login to bts_remote");
    succeeded(lsv_set_rpc(client, name, 1, 1, &err), &err, "lsv_set_rpc rpc=on rpc_out=on");

    if (succeeded(lsv_get(client, name, &json, &err), &err, "lsv_get BTS_C")) {
        check(contains(json, "\"name\":\"BTS_C\""), "JSON names the server");
        check(contains(json, "\"rpc\":true") && contains(json, "\"rpc_out\":true"),
              "JSON shows rpc and rpc out on");
        check(contains(json, "\"remote_user\":\"bts_remote\""), "JSON shows the login mapping");
        check(!contains(json, "Rem0te!Secret"), "JSON holds no password");
        lsv_string_free(json);
        json = NULL;
    }

    if (succeeded(lsv_list(client, &json, &err), &err, "lsv_list")) {
        check(json[0] == '[' && contains(json, "\"name\":\"BTS_C\""), "list is an array with BTS_C");
        lsv_string_free(json);
        json = NULL;
    }

    succeeded(lsv_drop(client, name, 1, &err), &err, "lsv_drop BTS_C with its logins");
}

/* Desired state: ensure a link, ensure it again (unchanged, one request), export, drop. */
static void desired_state(lsv_client *client)
{
    const char *desired =
        "{\"name\":\"BTS_E\",\"product\":\"SQL Server\","
        "\"options\":{\"rpc\":true,\"rpc out\":true,\"query timeout\":30},"
        "\"logins\":[{\"local_login\":\"sa\",\"uses_self_credential\":false,"
        "\"remote_user\":\"bts_remote\",\"remote_password\":\"Rem0te!Secret\"}]}";
    lsv_error *err = NULL;
    char *report = NULL;
    char *sql = NULL;

    if (succeeded(lsv_ensure(client, desired, LSV_ENSURE_EXACT_LOGINS, &report, &err), &err,
                  "lsv_ensure BTS_E")) {
        check(contains(report, "\"action\":\"created\"") && contains(report, "\"requests\":2"),
              "created in one read and one write");
        check(!contains(report, "Rem0te!Secret"), "the report holds no password");
        lsv_string_free(report);
        report = NULL;
    }
    if (succeeded(lsv_ensure(client, desired, LSV_ENSURE_EXACT_LOGINS, &report, &err), &err,
                  "lsv_ensure BTS_E again")) {
        check(contains(report, "\"action\":\"unchanged\"") && contains(report, "\"requests\":1"),
              "converged: unchanged in one request");
        lsv_string_free(report);
    }
    if (succeeded(lsv_export(client, "BTS_E", &sql, &err), &err, "lsv_export BTS_E")) {
        check(contains(sql, "N'BTS_E'") && !contains(sql, "Rem0te!Secret"),
              "the script names the server and holds no password");
        lsv_string_free(sql);
    }
    check(lsv_ensure(client, desired, 16u, &report, NULL) == LSV_ERR_INVALID_ARGUMENT,
          "an unknown flag bit is rejected");
    succeeded(lsv_drop(client, "BTS_E", 1, &err), &err, "lsv_drop BTS_E");
}

static void error_paths(lsv_client *client)
{
    lsv_error *err = NULL;
    char *json = (char *)"untouched";

    int32_t status = lsv_drop(client, "NO_SUCH_SERVER", 0, &err);
    check(status == LSV_ERR_NOT_FOUND, "dropping a missing server gives LSV_ERR_NOT_FOUND");
    check(lsv_error_code(err) == status, "lsv_error_code matches the status");
    check(lsv_error_sql_number(err) == 15015, "SQL error number 15015");
    check(lsv_error_sql_severity(err) == 16, "severity 16");
    check(contains(lsv_error_message(err), "NO_SUCH_SERVER"), "message names the server");
    check(contains(lsv_error_json(err), "\"status\":\"not_found\""), "JSON status not_found");
    printf("      message: %s\n", lsv_error_message(err));
    lsv_error_free(err);
    err = NULL;

    status = lsv_get(client, "NO_SUCH_SERVER", &json, &err);
    check(status == LSV_ERR_NOT_FOUND && strcmp(json, "untouched") == 0,
          "failed lsv_get leaves out_json untouched");
    lsv_error_free(err);
    err = NULL;

    status = lsv_create(client, NULL, "{}", &err);
    check(status == LSV_ERR_INVALID_ARGUMENT && contains(lsv_error_message(err), "name"),
          "NULL name gives LSV_ERR_INVALID_ARGUMENT naming the parameter");
    lsv_error_free(err);
    err = NULL;

    status = lsv_create(client, "X", "{\"product\":\"SQL Server\",\"colour\":1}", &err);
    check(status == LSV_ERR_INVALID_ARGUMENT && contains(lsv_error_message(err), "colour"),
          "unknown spec member is rejected");
    lsv_error_free(err);

    check(lsv_set_rpc(client, "X", 2, 1, NULL) == LSV_ERR_INVALID_ARGUMENT,
          "rpc=2 is rejected, out_err NULL accepted");
    check(lsv_error_code(NULL) == 0 && strcmp(lsv_error_message(NULL), "") == 0,
          "accessors on NULL give 0 and \"\"");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CONNECTION_STRING\n", argv[0]);
        return 2;
    }
    printf("library: %s\n", lsv_version());
    check(lsv_abi_version() >> 16 == LSV_ABI_VERSION_MAJOR, "ABI major version matches the header");

    lsv_client *client = NULL;
    lsv_error *err = NULL;
    if (!succeeded(lsv_connect(argv[1], &client, &err), &err, "lsv_connect"))
        return 1;

    cycle(client);
    desired_state(client);
    error_paths(client);

    lsv_client_free(client);
    check(lsv_list(client, NULL, NULL) == LSV_ERR_INVALID_ARGUMENT, "NULL out_json is rejected");
    char *json = NULL;
    check(lsv_list(client, &json, NULL) == LSV_ERR_INVALID_HANDLE && json == NULL,
          "a freed client gives LSV_ERR_INVALID_HANDLE");
    lsv_client_free(client); /* a second free is ignored */
    lsv_client_free(NULL);

    printf("%s: %d check(s) failed\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
