/*
 * Test setup for Wine only, never part of the package: makes Wine's SChannel DecryptMessage
 * report an incomplete TLS record the way Windows does. See wine_schannel.c.
 */
#ifndef WINE_SCHANNEL_H
#define WINE_SCHANNEL_H

/* Under Wine, wraps the DecryptMessage import of the loaded module `dll` and returns 1;
 * returns 0 on Windows (nothing done) and -1 when the import was not found under Wine. */
int wine_schannel_install(const char *dll);

/* How many DecryptMessage answers the wrapper corrected so far. */
long wine_schannel_corrections(void);

#endif
