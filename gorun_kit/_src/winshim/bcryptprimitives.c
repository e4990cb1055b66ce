/* bcryptprimitives.dll for Wine 8.
 *
 * Go >= 1.22 on Windows calls bcryptprimitives!ProcessPrng during runtime
 * start-up (runtime/os_windows.go loads it by name). Windows 10+ has it;
 * Wine 8 ships no bcryptprimitives.dll at all, so a Go program dies before
 * main. This DLL provides the one export Go needs, filled from Wine's own
 * RtlGenRandom (advapi32 SystemFunction036), so the course can run Windows
 * builds of its labs under Wine. It is never used on real Windows.
 */
#include <windows.h>

/* RtlGenRandom is exported by advapi32 under this name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* RtlGenRandom takes a ULONG length, so feed large requests in pieces. */
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst; (void)reason; (void)reserved;
    return TRUE;
}
