#ifndef NVME_VFU_CSHIMS_ATOMICS_H
#define NVME_VFU_CSHIMS_ATOMICS_H

#include <stdint.h>

// Ordered accesses to memory shared with another process (the doorbell page, queue
// entries in guest RAM). Swift has no volatile or acquire/release on raw pointers
// without a package, and these are one instruction each.

static inline uint32_t cshim_load_acquire_u32(const uint32_t *p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void cshim_store_release_u32(uint32_t *p, uint32_t v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void cshim_fence_seq_cst(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

#endif
