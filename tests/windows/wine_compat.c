/*
 * wine_compat: test setup for Wine 8, never part of the package. Built as bcryptprimitives.dll
 * and placed beside linkedsrv.dll, it fills two gaps of Wine 8 so that the Windows DLL can be
 * tested as it runs on Windows:
 *
 * 1. Wine 8 has no bcryptprimitives.dll, from which Rust's standard library imports
 *    ProcessPrng (Windows 10+). This one serves it from RtlGenRandom (SystemFunction036).
 *
 * 2. Wine 8's DecryptMessage (dlls/secur32/schannel.c) answers a TLS record that has not fully
 *    arrived with SEC_E_INCOMPLETE_MESSAGE and two SECBUFFER_MISSING buffers: the data buffer
 *    holds the number of missing bytes, as on Windows, but the first empty buffer holds the
 *    length of the whole record (`expected_size - buffer->cbBuffer` is computed after `buffer`
 *    was moved to the empty buffer, whose size is 0). The schannel crate under native-tls reads
 *    that second buffer, where Windows puts the missing count, and waits for that many more
 *    bytes before decrypting again; they never come, so every answer whose TLS record outgrew
 *    the first socket read (1024 bytes) hangs until the command timeout (issue 10).
 *    When linkedsrv.dll loads this DLL, and the process runs under Wine, DllMain wraps
 *    linkedsrv.dll's DecryptMessage import and sets every MISSING buffer to the smallest count
 *    reported: the number of bytes really missing. LSV_TEST_WINE_AS_IS=1 leaves Wine's answer
 *    as it is, to show the hang.
 */
#include <windows.h>
#define SECURITY_WIN32
#include <security.h>
#include <stdbool.h>
#include <string.h>

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

static DECRYPT_MESSAGE_FN wine_decrypt_message;
static volatile LONG corrections;

/* How many DecryptMessage answers were corrected; -1 when the correction is not installed. */
__declspec(dllexport) LONG wine_compat_decrypt_corrections(void)
{
    return wine_decrypt_message == NULL ? -1 : corrections;
}

static SECURITY_STATUS SEC_ENTRY decrypt_message_as_windows(PCtxtHandle context,
                                                            PSecBufferDesc message,
                                                            ULONG sequence, PULONG quality)
{
    SECURITY_STATUS status = wine_decrypt_message(context, message, sequence, quality);
    if (status != SEC_E_INCOMPLETE_MESSAGE)
        return status;
    ULONG missing = MAXDWORD;
    for (ULONG i = 0; i < message->cBuffers; i++)
        if (message->pBuffers[i].BufferType == SECBUFFER_MISSING
            && message->pBuffers[i].cbBuffer < missing)
            missing = message->pBuffers[i].cbBuffer;
    for (ULONG i = 0; i < message->cBuffers; i++)
        if (message->pBuffers[i].BufferType == SECBUFFER_MISSING
            && message->pBuffers[i].cbBuffer != missing) {
            message->pBuffers[i].cbBuffer = missing;
            InterlockedIncrement(&corrections);
        }
    return status;
}

static bool running_under_wine(void)
{
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    return ntdll != NULL && GetProcAddress(ntdll, "wine_get_version") != NULL;
}

/* Points `module`'s import of secur32.dll!DecryptMessage at the wrapper. */
static void wrap_decrypt_message(BYTE *module)
{
    IMAGE_NT_HEADERS *nt = (IMAGE_NT_HEADERS *)(module + ((IMAGE_DOS_HEADER *)module)->e_lfanew);
    IMAGE_DATA_DIRECTORY imports = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
    for (IMAGE_IMPORT_DESCRIPTOR *from = (IMAGE_IMPORT_DESCRIPTOR *)(module + imports.VirtualAddress);
         from->Name != 0; from++) {
        if (_stricmp((const char *)(module + from->Name), "secur32.dll") != 0)
            continue;
        IMAGE_THUNK_DATA *names = (IMAGE_THUNK_DATA *)(module + (from->OriginalFirstThunk
                                                                     ? from->OriginalFirstThunk
                                                                     : from->FirstThunk));
        IMAGE_THUNK_DATA *slots = (IMAGE_THUNK_DATA *)(module + from->FirstThunk);
        for (; names->u1.AddressOfData != 0; names++, slots++) {
            if (IMAGE_SNAP_BY_ORDINAL(names->u1.Ordinal))
                continue;
            const IMAGE_IMPORT_BY_NAME *name =
                (const IMAGE_IMPORT_BY_NAME *)(module + names->u1.AddressOfData);
            if (strcmp((const char *)name->Name, "DecryptMessage") != 0)
                continue;
            DWORD protection;
            if (!VirtualProtect(&slots->u1.Function, sizeof slots->u1.Function, PAGE_READWRITE,
                                &protection))
                return;
            wine_decrypt_message = (DECRYPT_MESSAGE_FN)slots->u1.Function;
            slots->u1.Function = (ULONG_PTR)decrypt_message_as_windows;
            VirtualProtect(&slots->u1.Function, sizeof slots->u1.Function, protection, &protection);
            return;
        }
    }
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reserved;
    /* linkedsrv.dll is mapped and its imports bound before its dependencies are initialised. */
    if (reason == DLL_PROCESS_ATTACH && running_under_wine()
        && GetEnvironmentVariableA("LSV_TEST_WINE_AS_IS", NULL, 0) == 0) {
        BYTE *linkedsrv = (BYTE *)GetModuleHandleA("linkedsrv.dll");
        if (linkedsrv != NULL)
            wrap_decrypt_message(linkedsrv);
    }
    return TRUE;
}
