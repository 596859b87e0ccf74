#ifndef NVME_VFU_CSHIMS_DMA_GUARD_H
#define NVME_VFU_CSHIMS_DMA_GUARD_H

#include <stddef.h>
#include <stdint.h>

// A guard against a client that shrinks the file behind a DMA window after
// mapping it: the server's next access to a page past the new end would raise
// SIGBUS and kill it. Watched ranges are the server's mappings of client
// memory; a SIGBUS inside one replaces the faulting page with a private zero
// page (so the access completes), counts the fault and returns. A SIGBUS
// anywhere else goes to the handler that was there before (Swift's crash
// backtracer, or the default action).

// Installs the handler once per process; 0 on success, -1 with errno.
int cshim_dma_guard_install(void);
// Watches [base, base + length); -1 (ENOSPC) when the table is full.
int cshim_dma_guard_watch(void *base, size_t length);
// Stops watching the range that starts at base.
void cshim_dma_guard_unwatch(void *base);
// Faults absorbed so far (monotonic, process-wide).
uint64_t cshim_dma_guard_faults(void);
// The page address of the most recent absorbed fault.
uintptr_t cshim_dma_guard_last_address(void);

#endif
