/* A host that unloads the library: dlopen -> use -> dlclose -> dlopen -> use. The library's
 * I/O threads outlive every call, so it must stay mapped after dlclose (it is linked with
 * -z nodelete); the second load must find the same, working library. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "linkedsrv.h"

typedef int32_t (*connect_fn)(const char *, lsv_client **, lsv_error **);
typedef int32_t (*list_fn)(lsv_client *, char **, lsv_error **);
typedef void (*free_fn)(void *);

static int failures = 0;

static void check(int ok, const char *what) {
    printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) failures++;
}

/* Loads the library, connects, lists, frees everything and unloads. */
static void load_use_unload(const char *library, const char *connection, int round) {
    void *module = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    check(module != NULL, round == 1 ? "first dlopen" : "second dlopen");
    if (module == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return;
    }
    connect_fn connect = (connect_fn)dlsym(module, "lsv_connect");
    list_fn list = (list_fn)dlsym(module, "lsv_list");
    free_fn string_free = (free_fn)dlsym(module, "lsv_string_free");
    free_fn client_free = (free_fn)dlsym(module, "lsv_client_free");
    free_fn error_free = (free_fn)dlsym(module, "lsv_error_free");
    check(connect && list && string_free && client_free && error_free, "exports found");
    if (!(connect && list && string_free && client_free && error_free)) return;

    lsv_client *client = NULL;
    lsv_error *err = NULL;
    char *json = NULL;
    check(connect(connection, &client, &err) == LSV_OK, "connect");
    check(client != NULL && list(client, &json, &err) == LSV_OK && json != NULL, "list");
    string_free(json);
    error_free(err);
    client_free(client);
    check(dlclose(module) == 0, "dlclose");
    /* RTLD_NOLOAD finds the library only if it is still mapped. */
    void *still = dlopen(library, RTLD_NOW | RTLD_NOLOAD);
    check(still != NULL, "still loaded after dlclose (its threads keep running its code)");
    if (still != NULL) dlclose(still);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s LIBRARY CONNECTION_STRING\n", argv[0]);
        return 2;
    }
    load_use_unload(argv[1], argv[2], 1);
    load_use_unload(argv[1], argv[2], 2);
    printf("%s: %d check(s) failed\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
