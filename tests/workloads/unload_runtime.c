/*
 * An embedding program that loads libpython at run time, runs Python code,
 * finalizes the interpreter and unloads the library (dlclose), then goes
 * on without Python for a while, as a plugin host does.
 * Usage: unload_runtime LIBPYTHON CODE SECONDS_AFTER
 * Exit status 2 if the library cannot be loaded here.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define EXIT_NO_LIBRARY 2

typedef void (*initialize_fn)(void);
typedef int (*run_fn)(const char *);
typedef int (*finalize_fn)(void);

int main(int argc, char **argv)
{
    if (argc != 4)
        return EXIT_FAILURE;
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "%s\n", dlerror());
        return EXIT_NO_LIBRARY;
    }
    initialize_fn initialize = (initialize_fn)dlsym(lib, "Py_Initialize");
    run_fn run = (run_fn)dlsym(lib, "PyRun_SimpleString");
    finalize_fn finalize = (finalize_fn)dlsym(lib, "Py_FinalizeEx");
    if (!initialize || !run || !finalize)
        return EXIT_NO_LIBRARY;
    initialize();
    int failed = run(argv[2]);
    finalize();
    dlclose(lib);
    double after = atof(argv[3]);
    struct timespec rest = { (time_t)after, (long)((after - (double)(time_t)after) * 1e9) };
    nanosleep(&rest, NULL);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
