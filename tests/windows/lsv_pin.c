/*
 * lsv_pin: a host that loads linkedsrv.dll with LoadLibraryW and unloads it with FreeLibrary,
 * as PowerShell or a plug-in host may (built with mingw WITHOUT the import library, run under
 * Wine by tests/windows/run.sh; it runs unchanged on Windows).
 *
 * Usage: lsv_pin CONNECTION_STRING
 *   CONNECTION_STRING  a login on an instance the library can list linked servers of
 *
 * Checks, in this order (the first must come before the runtime exists, as a pin lasts for the
 * life of the process):
 *   1. load, call only lsv_abi_version/lsv_version (no runtime), FreeLibrary: the DLL is gone
 *      (GetModuleHandleW returns NULL), so the check below can fail and a pin is not a given;
 *   2. load, connect and call lsv_list (this starts the runtime), free the client,
 *      FreeLibrary: the DLL is still loaded (pinned by the library);
 *   3. LoadLibraryW again: the same module; connect and call again; exit cleanly.
 *
 * Prints one line per check; exits 0 only if every check passed. Under Wine it needs
 * tests/windows/wine_compat.c built as bcryptprimitives.dll beside linkedsrv.dll.
 */
#include <stdio.h>
#include <string.h>

#include <windows.h>

#include "linkedsrv.h"

static int failures = 0;

static void check(bool ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok)
        failures++;
}

/* The functions this host uses, resolved with GetProcAddress; their types come from the
 * header, so a changed signature fails to compile here. */
struct api {
    __typeof__(lsv_abi_version) *abi_version;
    __typeof__(lsv_version) *version;
    __typeof__(lsv_connect) *connect;
    __typeof__(lsv_list) *list;
    __typeof__(lsv_client_free) *client_free;
    __typeof__(lsv_string_free) *string_free;
    __typeof__(lsv_error_message) *error_message;
    __typeof__(lsv_error_free) *error_free;
};

static void *resolve(HMODULE module, const char *name)
{
    void *function = (void *)GetProcAddress(module, name);
    if (function == NULL) {
        printf("FAIL: GetProcAddress(%s): error %lu\n", name, (unsigned long)GetLastError());
        failures++;
    }
    return function;
}

static bool resolve_all(HMODULE module, struct api *api)
{
    int before = failures;
    api->abi_version = resolve(module, "lsv_abi_version");
    api->version = resolve(module, "lsv_version");
    api->connect = resolve(module, "lsv_connect");
    api->list = resolve(module, "lsv_list");
    api->client_free = resolve(module, "lsv_client_free");
    api->string_free = resolve(module, "lsv_string_free");
    api->error_message = resolve(module, "lsv_error_message");
    api->error_free = resolve(module, "lsv_error_free");
    return failures == before;
}

static HMODULE load(const char *what)
{
    HMODULE module = LoadLibraryW(L"linkedsrv.dll");
    check(module != NULL, what);
    if (module == NULL)
        printf("      error %lu\n", (unsigned long)GetLastError());
    return module;
}

/* Connects, lists the linked servers (a JSON array), frees everything. */
static void connect_and_call(const struct api *api, const char *connection_string,
                             const char *what)
{
    lsv_client *client = NULL;
    lsv_error *err = NULL;
    char *json = NULL;
    int32_t status = api->connect(connection_string, &client, &err);
    if (status == LSV_OK)
        status = api->list(client, &json, &err);
    check(status == LSV_OK && json != NULL && json[0] == '[', what);
    if (status != LSV_OK) {
        printf("      status %d: %s\n", (int)status, api->error_message(err));
        api->error_free(err);
    }
    api->string_free(json);
    api->client_free(client);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: lsv_pin CONNECTION_STRING\n");
        return 2;
    }
    const char *connection_string = argv[1];
    struct api api;

    /* The program was linked without linkedsrv's import library: nothing else holds it. */
    check(GetModuleHandleW(L"linkedsrv.dll") == NULL, "linkedsrv.dll is not loaded at start");

    /* 1. No runtime, no pin: FreeLibrary unloads the DLL. */
    HMODULE module = load("LoadLibraryW(linkedsrv.dll)");
    if (module == NULL || !resolve_all(module, &api))
        return 1;
    check(api.abi_version() >> 16 == LSV_ABI_VERSION_MAJOR && api.version()[0] != '\0',
          "lsv_abi_version and lsv_version answer (they start no runtime)");
    check(FreeLibrary(module), "FreeLibrary");
    check(GetModuleHandleW(L"linkedsrv.dll") == NULL,
          "before the runtime starts the DLL is not pinned: gone after FreeLibrary");

    /* 2. A call starts the runtime, whose threads run the DLL's code: it pins the DLL. */
    module = load("LoadLibraryW(linkedsrv.dll) again");
    if (module == NULL || !resolve_all(module, &api))
        return 1;
    connect_and_call(&api, connection_string, "lsv_connect + lsv_list (starts the runtime)");
    check(FreeLibrary(module), "FreeLibrary after the call");
    HMODULE pinned = GetModuleHandleW(L"linkedsrv.dll");
    check(pinned == module, "the DLL is pinned: still loaded after FreeLibrary, same module");

    /* 3. Loading it again gives the same module, whose runtime still serves calls. */
    HMODULE again = load("LoadLibraryW(linkedsrv.dll) after the unload");
    check(again == module, "  the same module as before");
    if (again == NULL || !resolve_all(again, &api))
        return 1;
    connect_and_call(&api, connection_string, "lsv_connect + lsv_list after the reload");
    check(FreeLibrary(again), "FreeLibrary at the end");

    printf("%s: %d failure(s)\n", failures == 0 ? "PASSED" : "FAILED", failures);
    fflush(stdout);
    return failures == 0 ? 0 : 1;
}
