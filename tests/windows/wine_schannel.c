/*
 * Wine 8's DecryptMessage (dlls/secur32/schannel.c) answers a TLS record that is not yet
 * complete with SEC_E_INCOMPLETE_MESSAGE and two SECBUFFER_MISSING buffers: the data buffer
 * holds the number of missing bytes, as on Windows, but the first empty buffer holds the length
 * of the whole record (`expected_size - buffer->cbBuffer` computed after `buffer` was moved to
 * the empty buffer, whose size is 0). The schannel crate under native-tls reads that second
 * buffer, as Windows fills it, and waits for that many more bytes before decrypting again;
 * they never come, so every answer whose record outgrew the first socket read (1024 bytes)
 * hangs until the command timeout.
 *
 * Under Wine only, this wraps linkedsrv.dll's DecryptMessage import and sets every MISSING
 * buffer to the smallest count reported, the number of bytes really missing. On Windows
 * nothing is changed.
 */
#include <windows.h>
#define SECURITY_WIN32
#include <security.h>
#include <stdbool.h>
#include <string.h>

#include "wine_schannel.h"

static DECRYPT_MESSAGE_FN wine_decrypt_message;
static volatile LONG corrections;

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

int wine_schannel_install(const char *dll)
{
    if (!running_under_wine())
        return 0;
    BYTE *base = (BYTE *)GetModuleHandleA(dll);
    if (base == NULL)
        return -1;
    IMAGE_NT_HEADERS *nt = (IMAGE_NT_HEADERS *)(base + ((IMAGE_DOS_HEADER *)base)->e_lfanew);
    IMAGE_DATA_DIRECTORY imports = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
    for (IMAGE_IMPORT_DESCRIPTOR *from = (IMAGE_IMPORT_DESCRIPTOR *)(base + imports.VirtualAddress);
         from->Name != 0; from++) {
        if (_stricmp((const char *)(base + from->Name), "secur32.dll") != 0)
            continue;
        IMAGE_THUNK_DATA *names = (IMAGE_THUNK_DATA *)(base + (from->OriginalFirstThunk
                                                                   ? from->OriginalFirstThunk
                                                                   : from->FirstThunk));
        IMAGE_THUNK_DATA *slots = (IMAGE_THUNK_DATA *)(base + from->FirstThunk);
        for (; names->u1.AddressOfData != 0; names++, slots++) {
            if (IMAGE_SNAP_BY_ORDINAL(names->u1.Ordinal))
                continue;
            const IMAGE_IMPORT_BY_NAME *name =
                (const IMAGE_IMPORT_BY_NAME *)(base + names->u1.AddressOfData);
            if (strcmp((const char *)name->Name, "DecryptMessage") != 0)
                continue;
            DWORD protection;
            if (!VirtualProtect(&slots->u1.Function, sizeof slots->u1.Function, PAGE_READWRITE,
                                &protection))
                return -1;
            wine_decrypt_message = (DECRYPT_MESSAGE_FN)slots->u1.Function;
            slots->u1.Function = (ULONG_PTR)decrypt_message_as_windows;
            VirtualProtect(&slots->u1.Function, sizeof slots->u1.Function, protection, &protection);
            return 1;
        }
    }
    return -1;
}

long wine_schannel_corrections(void)
{
    return corrections;
}
