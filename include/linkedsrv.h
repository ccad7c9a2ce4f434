/*
 * linkedsrv.h -- manage SQL Server linked servers through a stable C ABI.
 *
 * OVERVIEW
 *
 *   A client (lsv_client) is one connection to the SQL Server instance that holds the linked
 *   servers. Through it you create and drop linked servers, map local logins to remote
 *   credentials, switch the "rpc"/"rpc out" options and other sp_serveroption settings, read a
 *   linked server's definition as JSON and test that it is reachable. The library never builds
 *   SQL text from your arguments: it calls the documented system procedures with parameters.
 *
 *   Or describe what you want and let one call converge it: lsv_ensure() takes linked servers
 *   as JSON (the shape lsv_get() returns) and brings definition, options and login mappings to
 *   that state in one read and one write, undone as a whole if a call fails, with a dry run
 *   that reports the T-SQL it would run. lsv_export() writes them as a re-runnable script,
 *   lsv_biztalk_sync() does it for every instance the BizTalk backup job needs, and lsv_probe()
 *   checks a link with a real remote procedure call.
 *
 * CONVENTIONS
 *
 *   Strings in:   NUL-terminated UTF-8 (const char *), read only during the call. Invalid
 *                 UTF-8 or NULL where not allowed gives LSV_ERR_INVALID_ARGUMENT.
 *   Strings out:  char * owned by the caller, release with lsv_string_free().
 *   Status:       every fallible function returns an int32_t status code: LSV_OK (0) or one of
 *                 the LSV_ERR_* codes below. Codes are never renumbered; new ones may be added,
 *                 so treat unknown nonzero values as failures.
 *   Errors:       the last parameter, lsv_error **out_err, may be NULL. When it is not, it is set
 *                 to NULL on success and to a new error object on failure; read it with the
 *                 lsv_error_* accessors and release it with lsv_error_free(). Error messages and
 *                 JSON never contain passwords.
 *   Outputs:      out-parameters are written only on success; on failure nothing was changed on
 *                 your side (and, for lsv_create(), nothing is left behind on the server, except
 *                 when sp_addlinkedserver itself times out or loses the connection: it may have
 *                 completed, the error message says so; check with lsv_get() before retrying).
 *   Handles:      lsv_client and lsv_error pointers are opaque ids (slot, generation, type),
 *                 never addresses: a freed, unknown or other-type handle gives
 *                 LSV_ERR_INVALID_HANDLE (or a neutral value) instead of a crash, also after
 *                 later objects took its slot; freeing NULL, or freeing twice, is harmless.
 *                 char * strings are real addresses: free each once, as with free().
 *   Threads:      every function may be called from any thread. A client may be shared by
 *                 several threads; its calls run one at a time (one TDS connection). Do not
 *                 free a client while another thread is using it. Calls block the calling
 *                 thread, also inside an async runtime (from an async task, prefer the
 *                 runtime's way of running blocking work, e.g. tokio's spawn_blocking).
 *   Deadlines:    a call on a client returns within Connect Timeout (all reconnects it needs,
 *                 together) + Command Timeout (waiting for a busy client and all its requests
 *                 together) + a small constant (the library's own work, well under a second),
 *                 with LSV_ERR_TIMEOUT when the time runs out. A write that fails part-way
 *                 (a later step of lsv_create()) gets one more Command Timeout for its undo,
 *                 so that a slow server still ends in the old state. A timeout of 0 in the connection string is unbounded. TCP keepalive
 *                 (30 s idle, probes every 10 s) finds a connection that died while idle.
 *                 lsv_cancel() ends a call sooner, from another thread.
 *   Processes:    the library starts two I/O threads on first use and keeps them for the life
 *                 of the process; from then on it cannot be unloaded (ELF: linked -z nodelete;
 *                 Windows: the DLL pins itself), so dlclose()/FreeLibrary() leave it loaded.
 *                 A child fork()ed after that point has no such threads: its calls fail at once
 *                 with LSV_ERR_UNSUPPORTED, and lsv_client_free() there leaves the parent's
 *                 connection open. Use the library in the parent, or exec() in the child.
 *   Versions:     check lsv_abi_version() >> 16 == LSV_ABI_VERSION_MAJOR at load time.
 *
 * EXAMPLE: create a linked server, map logins, enable RPC, read it back, drop it
 *
 *   lsv_client *client = NULL;
 *   lsv_error *err = NULL;
 *   char *json = NULL;
 *   if (lsv_connect("Server=tcp:mgmt01,1433;User ID=admin;Password=...;Encrypt=true",
 *                   &client, &err) != LSV_OK)
 *       goto fail;
 *   if (lsv_create(client, "BTS_DB", "{\"product\":\"SQL Server\"}", &err) != LSV_OK
 *       || lsv_map_login(client, "BTS_DB", NULL, 1, NULL, NULL, &err) != LSV_OK
 *       || lsv_set_rpc(client, "BTS_DB", 1, 1, &err) != LSV_OK
 *       || lsv_get(client, "BTS_DB", &json, &err) != LSV_OK)
 *       goto fail;
 *   puts(json);                                     // {"server_id":1,"name":"BTS_DB",...}
 *   lsv_string_free(json);
 *   if (lsv_drop(client, "BTS_DB", 1, &err) != LSV_OK)
 *       goto fail;
 *   lsv_client_free(client);
 *   return 0;
 * fail:
 *   fprintf(stderr, "error %d (SQL %d): %s\n", lsv_error_code(err),
 *           lsv_error_sql_number(err), lsv_error_message(err));
 *   lsv_error_free(err);
 *   lsv_client_free(client);                        // NULL is fine
 *   return 1;
 *
 * EXAMPLE: the same end state in one call (run it again: "unchanged", one request)
 *
 *   char *report = NULL;
 *   if (lsv_ensure(client, "{\"name\":\"BTS_DB\",\"options\":{\"rpc\":true,\"rpc out\":true},"
 *                          "\"logins\":[{\"local_login\":\"BizTalkJob\",\"uses_self_credential\":true}]}",
 *                  LSV_ENSURE_EXACT_LOGINS, &report, &err) != LSV_OK)
 *       goto fail;
 *   puts(report);           // {"dry_run":false,"requests":2,"servers":[{"action":"created",...
 *   lsv_string_free(report);
 */


#ifndef LINKEDSRV_H
#define LINKEDSRV_H

/* Generated by cbindgen from src/ffi (see cbindgen.toml). Do not edit by hand. */

#include <stdint.h>
#include <stdbool.h>

/**
 * Major version of the ABI described by this header. Changes only when an existing function
 * changes meaning or signature; a library with another major version must not be used.
 */
#define LSV_ABI_VERSION_MAJOR 1

/**
 * Minor version of the ABI: grows when functions, status codes or JSON members are added.
 * 1: lsv_cancel() and `LSV_ERR_CANCELLED`. 2: lsv_connection_info(), the error JSON's
 * `outcome_uncertain` and `undo_failed`.
 * 3: lsv_ensure(), lsv_export(), lsv_biztalk_sync(), lsv_probe() and the `LSV_ENSURE_*` flags.
 */
#define LSV_ABI_VERSION_MINOR 3

/**
 * Success.
 */
#define LSV_OK 0

/**
 * An argument is NULL where not allowed, not UTF-8, malformed JSON, an unknown option, or a
 * value of the wrong shape. Nothing was changed.
 */
#define LSV_ERR_INVALID_ARGUMENT 1

/**
 * The linked server or login does not exist (SQL errors 15015, 7202, 15007). Always carries
 * the SQL number: lsv_get() of a missing server reports 15015 as the procedures would.
 */
#define LSV_ERR_NOT_FOUND 2

/**
 * A linked server of that name already exists (SQL error 15028).
 */
#define LSV_ERR_ALREADY_EXISTS 3

/**
 * The linked server still has login mappings and they were not to be dropped (SQL error 15190).
 */
#define LSV_ERR_HAS_LOGINS 4

/**
 * The login used by the client lacks the permission (SQL error 15247).
 */
#define LSV_ERR_PERMISSION_DENIED 5

/**
 * Any other error raised by SQL Server: see lsv_error_sql_number().
 */
#define LSV_ERR_SQL 6

/**
 * Could not connect, or the connection broke; the next call reconnects. A server error other
 * than a login failure that ends the login (e.g. 4060, a database the login cannot open) is
 * this status too, with the server's number in lsv_error_sql_number().
 */
#define LSV_ERR_CONNECTION 7

/**
 * TLS negotiation or server certificate validation failed.
 */
#define LSV_ERR_TLS 8

/**
 * The management instance refused the login of lsv_connect() or of a reconnect: SQL error
 * 18456 (login failed), 18486 (locked out), 18487 (password expired), 18488 (password must be
 * changed) or 18470 (login disabled). A linked server refusing its remote login (e.g. in
 * lsv_test()) is LSV_ERR_SQL.
 */
#define LSV_ERR_AUTHENTICATION 9

/**
 * The connect or command timeout elapsed; the connection was reset.
 */
#define LSV_ERR_TIMEOUT 10

/**
 * A bug in the library (including a caught panic); the message describes it.
 */
#define LSV_ERR_INTERNAL 11

/**
 * The client handle is NULL, already freed, or not from lsv_connect().
 */
#define LSV_ERR_INVALID_HANDLE 12

/**
 * Not available on this platform or in this build (e.g. Integrated Security off Windows).
 */
#define LSV_ERR_UNSUPPORTED 13

/**
 * The call was interrupted by lsv_cancel(); the client stays usable (the next call reconnects
 * when the interrupted request had to be abandoned). Since ABI 1.1.
 */
#define LSV_ERR_CANCELLED 14

/**
 * lsv_ensure() flag: plan and report only; send nothing that changes state (one request).
 */
#define LSV_ENSURE_DRY_RUN 1

/**
 * lsv_ensure() flag: also remove the login mappings the desired state does not list. Without a
 * `"local_login": null` entry this drops the mapping for every login, as the BizTalk and SQL
 * Server documentation advise.
 */
#define LSV_ENSURE_EXACT_LOGINS 2

/**
 * lsv_ensure() flag: when product, provider, data_source, location, provider_string or catalog
 * differ, converge them by dropping and re-creating the server (options and mappings are kept;
 * refused before any change if a stored password would be lost that the desired state does
 * not supply). Without it such a difference fails with LSV_ERR_INVALID_ARGUMENT.
 */
#define LSV_ENSURE_ALLOW_RECREATE 4

/**
 * lsv_ensure() flag: re-send the password of every listed remote-user mapping. Passwords
 * cannot be read back, so without it a mapping whose remote user already matches is left
 * unchanged.
 */
#define LSV_ENSURE_SET_PASSWORDS 8

/**
 * A connection to the SQL Server instance that holds the linked servers. Opaque: created by
 * lsv_connect(), released by lsv_client_free().
 */
typedef struct lsv_client lsv_client;

/**
 * A failed call's details. Opaque: read it with the `lsv_error_*` accessors, free it with
 * lsv_error_free().
 */
typedef struct lsv_error lsv_error;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * The ABI version of the loaded library: `(major << 16) | minor`. A caller compiled against
 * this header should refuse a library whose major version differs from
 * `LSV_ABI_VERSION_MAJOR` or whose minor version is below the `LSV_ABI_VERSION_MINOR` it needs.
 */
uint32_t lsv_abi_version(void);

/**
 * A human-readable description of the library build, e.g.
 * "linkedsrv/0.1.0 (tiberius 0.13, native-tls)", for diagnostics. Static: never free it.
 */
const char *lsv_version(void);

/**
 * Opens a connection to the SQL Server instance that manages the linked servers.
 *
 * `connection_string`: an ADO.NET-style connection string, e.g.
 * `"Server=tcp:sql01,1433;User ID=admin;Password=...;Encrypt=true"`. Encryption is on and the
 * server certificate is validated unless the string says otherwise (`TrustServerCertificate`,
 * `Encrypt`). The string is only read during the call; the caller may wipe it afterwards. The
 * client keeps the password in memory it wipes when freed (reconnects log in again); the
 * driver's own copy lives only for each login, and its packet buffers are freed unwiped.
 *
 * On success `*out_client` receives a new handle owned by the caller, to be released with
 * lsv_client_free(). On failure `*out_client` is left untouched.
 *
 * Returns `LSV_OK`; `LSV_ERR_INVALID_ARGUMENT` (NULL or malformed argument),
 * `LSV_ERR_CONNECTION`, `LSV_ERR_TLS`, `LSV_ERR_AUTHENTICATION`, `LSV_ERR_TIMEOUT`,
 * `LSV_ERR_UNSUPPORTED` (e.g. Integrated Security where unavailable).
 *
 * # Safety
 * Pointer arguments are NULL or valid for the documented use. Thread-safe; blocks the calling
 * thread until connected or failed.
 */
int32_t lsv_connect(const char *connection_string,
                    struct lsv_client **out_client,
                    struct lsv_error **out_err);

/**
 * Interrupts the calls running on `client` (in any thread) and those waiting for it: each
 * returns `LSV_ERR_CANCELLED` promptly. A request already sent is abandoned by closing its
 * connection, which makes SQL Server stop it; whether it took effect before that is unknown,
 * as after a timeout (an lsv_create() cancelled after its first step still undoes that step).
 * The client stays usable: the next call reconnects. Calls that start after lsv_cancel()
 * returns are not affected.
 *
 * Returns `LSV_OK` whether or not a call was running; `LSV_ERR_INVALID_HANDLE` for a NULL,
 * freed or unknown handle. Never blocks on the network.
 *
 * # Safety
 * `client` is NULL or a pointer value the caller got from lsv_connect(). Thread-safe: meant to
 * be called from another thread than the one blocked in the call (e.g. a Ctrl+C handler
 * thread or a CancellationToken callback); not async-signal-safe.
 */
int32_t lsv_cancel(struct lsv_client *client);

/**
 * Reports how `client` is connected, as a JSON object written to `*out_json` (release it with
 * lsv_string_free()):
 *
 * ```text
 * {"address":"sql01:1433","encryption":"full","encrypted":true,
 *  "certificate_validated":true,"tds_version":"7.4",
 *  "server_name":"SQL01","server_version":"16.0.1000.6"}
 * ```
 *
 * `encryption` is what TLS covers: `"strict"` (TDS 8.0, TLS before any TDS traffic),
 * `"full"` (the whole session), `"login_only"` (`Encrypt=false` against a server that offers
 * no more: the login is encrypted, later traffic is not) or `"none"`
 * (`Encrypt=DANGER_PLAINTEXT`). `encrypted` is true for strict and full.
 * `certificate_validated` is false under `TrustServerCertificate=true` (ignored, so true,
 * under strict) and without TLS. `tds_version` is the version the driver speaks ("8.0" in
 * strict mode, else "7.4"). `server_name` and `server_version` are SERVERPROPERTY
 * ('ServerName') and ('ProductVersion'), read with one query (reconnecting first if the
 * connection was lost). Members may be added in later minor versions.
 *
 * Returns `LSV_OK`; connection errors, `LSV_ERR_INVALID_ARGUMENT` (`out_json` NULL),
 * `LSV_ERR_INVALID_HANDLE`. Since ABI 1.2.
 *
 * # Safety
 * Pointer arguments are NULL or valid for the documented use. Thread-safe.
 */
int32_t lsv_connection_info(struct lsv_client *client, char **out_json, struct lsv_error **out_err);

/**
 * Closes the connection and releases the handle. Never blocks on the network and never fails.
 *
 * `client` may be NULL; a pointer that is not a live handle (already freed, or not from
 * lsv_connect()) is ignored, so freeing twice is harmless. Afterwards every call with this
 * handle returns `LSV_ERR_INVALID_HANDLE`, also after later lsv_connect() calls: handles are
 * ids with a generation, never reused for another client.
 *
 * # Safety
 * Must not race with another call using the same `client` (the connection then stays open
 * until that call returns). Callable from any thread, including finalizers.
 */
void lsv_client_free(struct lsv_client *client);

/**
 * Creates linked server `name` as described by `spec_json`, all or nothing: when any step
 * fails (including an option of the spec) nothing is left behind. The exception: when
 * sp_addlinkedserver itself times out or loses the connection (`LSV_ERR_TIMEOUT`,
 * `LSV_ERR_CONNECTION`) it may have completed; the message says so: check with lsv_get()
 * before retrying.
 *
 * `spec_json` is a JSON object with the optional members `product`, `provider`, `data_source`,
 * `location`, `provider_string`, `catalog` (strings or null) and `options` (an object mapping
 * sp_serveroption names to booleans, non-negative integers, strings or null). Unknown members
 * and a member or option name given twice are rejected. The options are set after
 * sp_addlinkedserver in the alphabetical order of their names (`collation compatible` …
 * `use remote collation`), whatever their order in the JSON. Examples:
 *
 * ```text
 * {"product":"SQL Server"}                    (another SQL Server, reached by its name)
 * {"product":"","provider":"MSOLEDBSQL","data_source":"host\\inst",
 *  "options":{"rpc out":true,"query timeout":30}}
 * ```
 *
 * Returns `LSV_OK`; `LSV_ERR_INVALID_ARGUMENT` (NULL, bad JSON, unknown member or option),
 * `LSV_ERR_ALREADY_EXISTS` (SQL error 15028), `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`,
 * connection errors, `LSV_ERR_INVALID_HANDLE`.
 *
 * # Safety
 * Pointer arguments are NULL or valid for the documented use. Thread-safe; calls on one client
 * run one at a time.
 */
int32_t lsv_create(struct lsv_client *client,
                   const char *name,
                   const char *spec_json,
                   struct lsv_error **out_err);

/**
 * Drops linked server `name`.
 *
 * `drop_logins`: nonzero also removes its login mappings; 0 makes the call fail with
 * `LSV_ERR_HAS_LOGINS` (SQL error 15190) while mappings other than the default one exist.
 *
 * Returns `LSV_OK`; `LSV_ERR_NOT_FOUND` (SQL error 15015), `LSV_ERR_HAS_LOGINS`,
 * `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, `LSV_ERR_INVALID_ARGUMENT`, connection errors,
 * `LSV_ERR_INVALID_HANDLE`.
 *
 * # Safety
 * As for lsv_create().
 */
int32_t lsv_drop(struct lsv_client *client,
                 const char *name,
                 int32_t drop_logins,
                 struct lsv_error **out_err);

/**
 * Creates or replaces how `local_login` reaches linked server `server` (sp_addlinkedsrvlogin).
 *
 * `local_login`: a login of the managing instance, or NULL for the mapping used by every login
 * without a mapping of its own.
 * `use_self`: nonzero maps the login to its own credentials (`remote_user` and
 * `remote_password` must then be NULL: a self mapping has no remote login, and silently
 * dropping a password the caller meant to set would hide a mistake). 0 maps it to
 * `remote_user`/`remote_password` (both NULL: connect without a security context).
 * `remote_password` is copied at once; the copy is wiped from memory after the call and never
 * appears in messages, JSON or logs. The caller may wipe its own buffer when the call returns.
 *
 * Returns `LSV_OK`; `LSV_ERR_NOT_FOUND` (no such server or local login),
 * `LSV_ERR_INVALID_ARGUMENT`, `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors,
 * `LSV_ERR_INVALID_HANDLE`.
 *
 * # Safety
 * As for lsv_create().
 */
int32_t lsv_map_login(struct lsv_client *client,
                      const char *server,
                      const char *local_login,
                      int32_t use_self,
                      const char *remote_user,
                      const char *remote_password,
                      struct lsv_error **out_err);

/**
 * Removes the mapping of `local_login` (NULL: the mapping for every login) from linked server
 * `server` (sp_droplinkedsrvlogin).
 *
 * Returns `LSV_OK`; `LSV_ERR_NOT_FOUND`, `LSV_ERR_INVALID_ARGUMENT`,
 * `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors, `LSV_ERR_INVALID_HANDLE`.
 *
 * # Safety
 * As for lsv_create().
 */
int32_t lsv_unmap_login(struct lsv_client *client,
                        const char *server,
                        const char *local_login,
                        struct lsv_error **out_err);

/**
 * Switches the `rpc` and `rpc out` options of linked server `server`. Each of `rpc` and
 * `rpc_out` is 1 (on), 0 (off) or -1 (leave unchanged); any other value is
 * `LSV_ERR_INVALID_ARGUMENT`. `rpc out` must be on to run procedures on the linked server.
 *
 * Returns `LSV_OK`; `LSV_ERR_NOT_FOUND`, `LSV_ERR_INVALID_ARGUMENT`,
 * `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors, `LSV_ERR_INVALID_HANDLE`.
 *
 * # Safety
 * As for lsv_create().
 */
int32_t lsv_set_rpc(struct lsv_client *client,
                    const char *server,
                    int32_t rpc,
                    int32_t rpc_out,
                    struct lsv_error **out_err);

/**
 * Sets one sp_serveroption `option` (e.g. "data access", "query timeout", "collation name")
 * of linked server `server` to `value` ("true"/"false" for switches, digits for timeouts, a
 * name, or NULL to clear a name). Unknown options and values of the wrong shape are rejected
 * before anything is sent.
 *
 * Returns `LSV_OK`; `LSV_ERR_INVALID_ARGUMENT`, `LSV_ERR_NOT_FOUND`,
 * `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors, `LSV_ERR_INVALID_HANDLE`.
 *
 * # Safety
 * As for lsv_create().
 */
int32_t lsv_set_option(struct lsv_client *client,
                       const char *server,
                       const char *option,
                       const char *value,
                       struct lsv_error **out_err);

/**
 * Describes linked server `server` as a JSON object: its `sys.servers` row and its login
 * mappings (never a password):
 *
 * ```text
 * {"server_id":1,"name":"BTS","product":"SQL Server","provider":"SQLNCLI","data_source":"BTS",
 *  "location":null,"provider_string":null,"catalog":null,"connect_timeout":0,
 *  "query_timeout":0,"rpc":true,"rpc_out":true,"data_access":true,
 *  "collation_compatible":false,"use_remote_collation":true,"collation_name":null,
 *  "lazy_schema_validation":false,"is_system":false,"is_publisher":false,
 *  "is_subscriber":false,"is_distributor":false,"is_nonsql_subscriber":false,
 *  "remote_proc_transaction_promotion":true,"modify_date":"2026-11-26T12:00:00.000",
 *  "logins":[{"local_login":null,"uses_self_credential":true,"remote_user":null}]}
 * ```
 *
 * `local_login` null is the mapping for every login. New members may be added in later minor
 * versions. On success `*out_json` receives a string owned by the caller, to be released with
 * lsv_string_free(); on failure it is left untouched.
 *
 * Returns `LSV_OK`; `LSV_ERR_NOT_FOUND`, `LSV_ERR_INVALID_ARGUMENT`,
 * `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors, `LSV_ERR_INVALID_HANDLE`.
 *
 * # Safety
 * As for lsv_create().
 */
int32_t lsv_get(struct lsv_client *client,
                const char *server,
                char **out_json,
                struct lsv_error **out_err);

/**
 * Describes every linked server (not the local server's own row), ordered by name, as a JSON
 * array of the objects lsv_get() returns. Ownership of `*out_json` as for lsv_get().
 *
 * Returns `LSV_OK`; `LSV_ERR_INVALID_ARGUMENT`, `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`,
 * connection errors, `LSV_ERR_INVALID_HANDLE`.
 *
 * # Safety
 * As for lsv_create().
 */
int32_t lsv_list(struct lsv_client *client, char **out_json, struct lsv_error **out_err);

/**
 * Checks that the managing instance can reach linked server `server` (sp_testlinkedserver).
 * A failure carries the server's explanation in lsv_error_message() and lsv_error_json().
 *
 * Returns `LSV_OK`; `LSV_ERR_NOT_FOUND`, `LSV_ERR_SQL` (the linked server is unreachable or
 * refused the login), `LSV_ERR_INVALID_ARGUMENT`, `LSV_ERR_PERMISSION_DENIED`, connection
 * errors, `LSV_ERR_INVALID_HANDLE`.
 *
 * # Safety
 * As for lsv_create().
 */
int32_t lsv_test(struct lsv_client *client, const char *server, struct lsv_error **out_err);

/**
 * Brings one or more linked servers to a desired state in one call: one request reads the
 * catalog, one request writes every change (more only past SQL Server's 2100 parameters per
 * request); an already converged state costs the read only.
 *
 * `desired_json` is one object or an array of objects in the shape lsv_get() returns, so its
 * output can be edited and passed back:
 *
 * ```text
 * {"name": "BTS01", "product": "SQL Server",
 *  "options": {"rpc": true, "rpc out": true, "query timeout": 30},
 *  "logins": [{"local_login": "BizTalkJob", "uses_self_credential": true},
 *             {"local_login": "app", "uses_self_credential": false,
 *              "remote_user": "reader", "remote_password": "..."}]}
 * ```
 *
 * `name` is required; `product`, `provider`, `data_source`, `location`, `provider_string`,
 * `catalog` as for lsv_create() (a member left out is left as it is; a SQL Server link as
 * lsv_get() shows it, with provider SQLNCLI and its name as data_source, is accepted);
 * `options` any subset of the sp_serveroption names lsv_set_option() takes (not `name`), and
 * lsv_get()'s option members (`rpc`, `rpc_out`, `query_timeout`, ...) likewise; `server_id`
 * and `modify_date` are ignored; `logins` lists mappings, `local_login` null meaning every
 * login. Options and mappings not listed are left alone (see LSV_ENSURE_EXACT_LOGINS). Unknown
 * members, a member or option given twice, conflicting fields, a server or local login listed
 * twice are LSV_ERR_INVALID_ARGUMENT.
 *
 * Every check the read makes possible happens before any change: an unknown local login
 * (LSV_ERR_NOT_FOUND), an immutable field that differs without LSV_ENSURE_ALLOW_RECREATE, a
 * re-create that would lose a stored password. The write is one statement whose TRY/CATCH
 * undoes every completed call and re-raises the error if any call fails, so every server is
 * left as it was or as desired. If the connection breaks during the write, the outcome is
 * unknown (the message says so): call lsv_ensure() again, it converges.
 *
 * On success `*out_report_json` receives (release with lsv_string_free()):
 *
 * ```text
 * {"dry_run": false, "requests": 2,
 *  "servers": [{"name": "BTS01", "action": "created",
 *               "changes": [{"option": "query timeout", "from": null, "to": 30,
 *                            "text": "option 'query timeout': 30"},
 *                           {"mapping": "removed", "local_login": null, "from": {...},
 *                            "to": null, "sets_password": false, "text": "..."}, ...],
 *               "sql": "DECLARE @rmtpassword_1 nvarchar(128) = NULL; -- FILL IN ..."}]}
 * ```
 *
 * `action` is `created`, `updated`, `recreated` or `unchanged`; `changes` lists each option
 * from → to, each mapping `added` / `changed` / `removed`, and for a re-create each field
 * (`{"field", "from", "to"}`), each with `text`, the change as one sentence (e.g. "option
 * 'rpc out': false -> true"); `sql` is the T-SQL that ran (or, for a dry run, would run),
 * readable and re-runnable, values as N'...' literals, every password and provider string a
 * variable marked FILL IN (never the value); "" when unchanged. A dry run reports exactly what
 * the same call without LSV_ENSURE_DRY_RUN would then do.
 *
 * `flags`: LSV_ENSURE_* bits; unknown bits are LSV_ERR_INVALID_ARGUMENT.
 *
 * Returns `LSV_OK`; `LSV_ERR_INVALID_ARGUMENT`, `LSV_ERR_NOT_FOUND`, `LSV_ERR_ALREADY_EXISTS`,
 * `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors, `LSV_ERR_INVALID_HANDLE`.
 *
 * # Safety
 * As for lsv_create().
 */
int32_t lsv_ensure(struct lsv_client *client,
                   const char *desired_json,
                   uint32_t flags,
                   char **out_report_json,
                   struct lsv_error **out_err);

/**
 * Writes a T-SQL script that re-creates linked server `name_or_null` (NULL: every linked
 * server) with its options and login mappings. Every statement is guarded by a catalog check,
 * so running the script again changes nothing, and run on another instance it reproduces the
 * servers. Passwords are never written (SQL Server cannot reveal them) and neither are provider
 * strings: each is a variable declared NULL at the top of the script and marked FILL IN.
 *
 * On success `*out_sql` receives the script (release with lsv_string_free()).
 *
 * Returns `LSV_OK`; `LSV_ERR_NOT_FOUND` (no such server), `LSV_ERR_INVALID_ARGUMENT`,
 * `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors, `LSV_ERR_INVALID_HANDLE`.
 *
 * # Safety
 * As for lsv_create().
 */
int32_t lsv_export(struct lsv_client *client,
                   const char *name_or_null,
                   char **out_sql,
                   struct lsv_error **out_err);

/**
 * The "Backup BizTalk Server" pre-step. Reads `<database>.dbo.admv_BackupDatabases` (through
 * BizTalk's `sp_GetBackupDatabasesForServer`) and, for every server in it other than this
 * instance, ensures a linked server named exactly as stored (product `SQL Server`) with `rpc`
 * and `rpc out` on and `job_login` mapped to itself, in one write (an existing link keeps its
 * definition, e.g. an alias through MSOLEDBSQL, unless LSV_ENSURE_ALLOW_RECREATE); then verifies each link with
 * sp_testlinkedserver and the job's own first remote call, `sp_GetServerName` in the server's
 * first backed-up database, through the link.
 *
 * `options_json_or_null` (NULL: all defaults): `{"database": "BizTalkMgmtDb", "job_login":
 * <the connected login>, "drop_global_mapping": false, "verify": true}`, each member optional,
 * unknown members LSV_ERR_INVALID_ARGUMENT. `flags`: LSV_ENSURE_DRY_RUN plans and reports
 * without changing or verifying anything; the other LSV_ENSURE_* flags act as in lsv_ensure().
 *
 * Returns `LSV_OK` with the report whenever it ran to the end, even if some servers failed:
 *
 * ```text
 * {"ok": false, "dry_run": false, "requests": 7, "database": "BizTalkMgmtDb",
 *  "job_login": "sa", "instance": "MGMT01",
 *  "servers": [{"name": "SQL02\\BTS", "databases": ["BizTalkMsgBoxDb"], "action": "created",
 *               "changes": [...], "sql": "...", "ok": false, "stage": "login",
 *               "number": 18456, "message": "...", "remote_server_name": null}]}
 * ```
 *
 * `stage` of a failed server: `configure` (planning or writing its link failed), `network`
 * (sp_testlinkedserver could not reach it), `login` (the remote login was refused or no
 * mapping covers it), `rpc` (the remote procedure call failed); `number` and `message` are the
 * SQL error. `remote_server_name` is the remote `@@SERVERNAME`. Release the report with
 * lsv_string_free(). An error status only when the list or this instance could not be read:
 * `LSV_ERR_SQL` (e.g. no such database), `LSV_ERR_INVALID_ARGUMENT`, connection errors,
 * `LSV_ERR_INVALID_HANDLE`.
 *
 * # Safety
 * As for lsv_create().
 */
int32_t lsv_biztalk_sync(struct lsv_client *client,
                         const char *options_json_or_null,
                         uint32_t flags,
                         char **out_report_json,
                         struct lsv_error **out_err);

/**
 * Checks that linked server `server` works the way the BizTalk backup job uses it:
 * sp_testlinkedserver, then a procedure call through the link (`sp_executesql` in the remote
 * `master`, returning the remote `@@SERVERNAME`). Unlike lsv_test(), a link that fails is not an
 * error: `*out_json` receives (release with lsv_string_free())
 *
 * ```text
 * {"ok": false, "stage": "rpc", "number": 7411, "message": "...", "remote_server_name": null}
 * {"ok": true, "stage": null, "number": null, "message": null, "remote_server_name": "BTS01"}
 * ```
 *
 * `stage`: `network` (sp_testlinkedserver could not reach it), `login` (the remote login was
 * refused or no mapping covers the caller), `rpc` (the call through the link failed, e.g. 7411
 * when `rpc out` is off). The check runs as the connected login.
 *
 * Returns `LSV_OK`; `LSV_ERR_NOT_FOUND` (no such linked server, 7202),
 * `LSV_ERR_INVALID_ARGUMENT`, connection errors, `LSV_ERR_INVALID_HANDLE`.
 *
 * # Safety
 * As for lsv_create().
 */
int32_t lsv_probe(struct lsv_client *client,
                  const char *server,
                  char **out_json,
                  struct lsv_error **out_err);

/**
 * Frees a string returned by this library (lsv_get(), lsv_list(), lsv_connection_info()).
 *
 * As with C's free(): `s` must be NULL (then nothing happens) or a string from this library
 * not freed yet, and must not be used afterwards. A pointer the library does not own at the
 * moment is ignored rather than passed to the allocator, but that is no licence to free twice:
 * once the address has been reused for a newer string, a second free releases that string.
 *
 * # Safety
 * As described. Thread-safe.
 */
void lsv_string_free(char *s);

/**
 * Frees an error object returned through an `out_err` parameter.
 *
 * `err` may be NULL; a pointer that is not a live error object (already freed, or never
 * returned by this library) is ignored. Every string borrowed from `err` becomes invalid.
 *
 * # Safety
 * Must not race with an accessor call on the same `err` in another thread.
 */
void lsv_error_free(struct lsv_error *err);

/**
 * The status code of the failed call (one of the `LSV_ERR_*` values); 0 for a NULL `err`.
 *
 * # Safety
 * `err` is NULL or a pointer received through an `out_err` parameter (unknown pointers are
 * detected and give 0).
 */
int32_t lsv_error_code(const struct lsv_error *err);

/**
 * A one-line UTF-8 description of the failure, never containing a password. Borrowed: valid
 * until lsv_error_free(err). "" for a NULL `err`.
 *
 * # Safety
 * As for lsv_error_code().
 */
const char *lsv_error_message(const struct lsv_error *err);

/**
 * The SQL Server error number (e.g. 15015 "The server 'X' does not exist") of the error that
 * stopped the call; 0 when the failure did not come from the server.
 *
 * # Safety
 * As for lsv_error_code().
 */
int32_t lsv_error_sql_number(const struct lsv_error *err);

/**
 * The severity (class) of that server error, 11..=25; 0 when not a server error.
 *
 * # Safety
 * As for lsv_error_code().
 */
int32_t lsv_error_sql_severity(const struct lsv_error *err);

/**
 * The state of that server error; 0 when not a server error.
 *
 * # Safety
 * As for lsv_error_code().
 */
int32_t lsv_error_sql_state(const struct lsv_error *err);

/**
 * The line number the server reported for that error; 0 when not a server error.
 *
 * # Safety
 * As for lsv_error_code().
 */
int32_t lsv_error_sql_line(const struct lsv_error *err);

/**
 * The procedure that raised that server error (e.g. "sp_dropserver"); "" when none. Borrowed:
 * valid until lsv_error_free(err).
 *
 * # Safety
 * As for lsv_error_code().
 */
const char *lsv_error_sql_procedure(const struct lsv_error *err);

/**
 * Everything known about the failure as one JSON object:
 *
 * ```text
 * {"code":2,"status":"not_found","message":"...","sql_number":15015,"severity":16,"state":1,
 *  "procedure":"sp_dropserver","line":1,
 *  "server_messages":[{"number":15015,"severity":16,"state":1,"procedure":"sp_dropserver",
 *                      "line":1,"server":"MGMT","message":"..."}],
 *  "outcome_uncertain":false,"undo_failed":false}
 * ```
 *
 * `status` is the status code's name in lower case without the `LSV_ERR_` prefix
 * ("invalid_argument", "not_found", ...). `sql_number` .. `line` describe the same error as the
 * lsv_error_sql_* accessors (0 and "" when the failure did not come from the server);
 * `server_messages` lists every ERROR and INFO message the server sent in answer to the
 * failed request, in arrival order. The first error has every field; the driver (tiberius
 * 0.13) passes on only the number and text of later errors and only the text of INFO
 * messages, so there the other fields are 0 or "" (an INFO message has number 0 and
 * severity 0). `outcome_uncertain` (since ABI 1.2) is true when a change the call was making
 * may or may not have happened: a request was abandoned before its answer (timeout, lost
 * connection, lsv_cancel()) and nothing undid it; check with lsv_get() before retrying.
 * `undo_failed` is true when a failed lsv_create() could not undo its partial change, so the
 * linked server may be left behind. New members may be added in later minor versions.
 * Borrowed: valid until lsv_error_free(err). "" for a NULL `err`.
 *
 * # Safety
 * As for lsv_error_code().
 */
const char *lsv_error_json(const struct lsv_error *err);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* LINKEDSRV_H */
