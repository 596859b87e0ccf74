#ifndef NVME_VFU_CSHIMS_THREAD_H
#define NVME_VFU_CSHIMS_THREAD_H

// Per-thread facts the benchmark and the reactor tests need. glibc declares these only
// with _GNU_SOURCE.

// Pins the calling thread to CPU `cpu`. Returns 0 or -1 with errno set.
int cshim_pin_thread(int cpu);

// The calling thread's kernel id (what /proc/self/task/TID names).
int cshim_gettid(void);

#endif
