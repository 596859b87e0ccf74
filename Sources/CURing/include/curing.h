// A narrow C face on liburing (Debian's liburing-dev) for BlockIO's io_uring
// engine: liburing's helpers are static inline functions over C11 atomics,
// which Swift does not import, so the ring is opaque here and every call is a
// plain function.
#ifndef CURING_H
#define CURING_H

#include <stdint.h>
#include <sys/uio.h>

typedef struct curing_ring curing_ring;

/// What one submission asks the kernel to do.
enum curing_opcode {
  CURING_READV = 0,
  CURING_WRITEV = 1,
  CURING_READ = 2,
  CURING_WRITE = 3,
  CURING_FDATASYNC = 4,
};

struct curing_op {
  int32_t opcode;      // enum curing_opcode
  int32_t rw_flags;    // RWF_* for the transfers (RWF_DSYNC for FUA writes)
  const void *address; // iovec array (vectored) or buffer (plain)
  uint32_t length;     // iovec count (vectored) or byte count (plain)
  uint64_t offset;
  uint64_t user_data;
};

struct curing_completion {
  uint64_t user_data;
  int32_t result; // bytes moved, or -errno
};

/// A ring of at least `entries` submissions (a power of two, rounded up by
/// the kernel; the completion ring is twice that), with the file `fd`
/// registered as fixed file 0, `event_fd` registered for completion
/// notification, and the ring then restricted to READV, WRITEV, READ, WRITE
/// and FSYNC on fixed files, with no further registration.
/// NULL on failure, with *error a positive errno and *stage the step that
/// failed ("io_uring_setup", "probe", "register file", ...); when the kernel
/// lacks an opcode, *error is ENOSYS and *missing its name.
curing_ring *curing_create(unsigned entries, int fd, int event_fd, int *error,
                           const char **stage, const char **missing);
void curing_destroy(curing_ring *ring);

/// Submission entries free in the ring now.
unsigned curing_sq_space(curing_ring *ring);
/// Fills one submission entry; -EBUSY when the ring has none free.
int curing_prepare(curing_ring *ring, const struct curing_op *op);
/// Hands every filled entry to the kernel: how many it took, or -errno.
int curing_submit(curing_ring *ring);
/// Copies up to `max` finished entries out and retires them: how many.
unsigned curing_reap(curing_ring *ring, struct curing_completion *out, unsigned max);

#endif
