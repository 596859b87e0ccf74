#ifndef NVME_VFU_CSHIMS_PREFETCH_H
#define NVME_VFU_CSHIMS_PREFETCH_H

// Cache prefetch hints (one instruction each; Swift has no spelling for them).
// Used to start the memory loads of a batch of copies before the first copy
// runs, so their cache misses overlap instead of following one another.

static inline void cshim_prefetch_read(const void *p) { __builtin_prefetch(p, 0, 0); }
static inline void cshim_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 0); }

#endif
