/*
 * Test setup for Wine 8 only, never part of the package: Wine 8 has no bcryptprimitives.dll,
 * from which Rust's standard library imports ProcessPrng (Windows 10+). Placed beside
 * linkedsrv.dll, this one serves it from RtlGenRandom (advapi32's SystemFunction036).
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > MAXLONG ? MAXLONG : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
