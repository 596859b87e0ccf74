#include "curing.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

struct curing_ring {
  struct io_uring ring;
};

static const struct {
  unsigned char opcode;
  const char *name;
} needed_ops[] = {
    {IORING_OP_READV, "READV"}, {IORING_OP_WRITEV, "WRITEV"}, {IORING_OP_READ, "READ"},
    {IORING_OP_WRITE, "WRITE"}, {IORING_OP_FSYNC, "FSYNC"},
};
enum { needed_count = sizeof needed_ops / sizeof needed_ops[0] };

// 0, or -errno with *missing set (ENOSYS) when an opcode is absent.
static int probe(struct io_uring *ring, const char **missing) {
  struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
  if (probe == NULL) return -EINVAL;  // IORING_REGISTER_PROBE is 5.6+
  int rc = 0;
  for (size_t i = 0; i < needed_count; i++) {
    if (!io_uring_opcode_supported(probe, needed_ops[i].opcode)) {
      *missing = needed_ops[i].name;
      rc = -ENOSYS;
      break;
    }
  }
  io_uring_free_probe(probe);
  return rc;
}

// Only the engine's opcodes, only on registered files; of the registration calls
// only unregistering the file (see curing_destroy).
static int restrict_ring(struct io_uring *ring) {
  enum { rule_count = needed_count + 3 };
  struct io_uring_restriction rules[rule_count];
  memset(rules, 0, sizeof rules);
  for (size_t i = 0; i < needed_count; i++) {
    rules[i].opcode = IORING_RESTRICTION_SQE_OP;
    rules[i].sqe_op = needed_ops[i].opcode;
  }
  rules[needed_count].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
  rules[needed_count].sqe_flags = IOSQE_FIXED_FILE;
  rules[needed_count + 1].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
  rules[needed_count + 1].sqe_flags = IOSQE_FIXED_FILE;
  rules[needed_count + 2].opcode = IORING_RESTRICTION_REGISTER_OP;
  rules[needed_count + 2].register_op = IORING_UNREGISTER_FILES;
  // Through io_uring_register(2): Debian's liburing 2.3 declares
  // io_uring_register_restrictions and io_uring_enable_rings but does not export them.
  int rc = io_uring_register(ring->ring_fd, IORING_REGISTER_RESTRICTIONS, rules, rule_count);
  return rc < 0 ? rc : 0;
}

static int enable_ring(struct io_uring *ring) {
  int rc = io_uring_register(ring->ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
  return rc < 0 ? rc : 0;
}

curing_ring *curing_create(unsigned entries, int fd, int event_fd, int *error,
                           const char **stage, const char **missing) {
  curing_ring *handle = calloc(1, sizeof *handle);
  if (handle == NULL) {
    *error = ENOMEM;
    *stage = "allocate";
    return NULL;
  }
  // CLAMP: a depth above the kernel's limit gets the limit, not EINVAL.
  // R_DISABLED: restrictions can only be set before the ring is enabled.
  int rc = io_uring_queue_init(entries, &handle->ring,
                               IORING_SETUP_CLAMP | IORING_SETUP_R_DISABLED);
  if (rc < 0) {
    *error = -rc;
    *stage = "io_uring_setup";
    free(handle);
    return NULL;
  }
  if ((rc = probe(&handle->ring, missing)) < 0) {
    *stage = "probe";
  } else if ((rc = io_uring_register_files(&handle->ring, &fd, 1)) < 0) {
    *stage = "register file";
  } else if ((rc = io_uring_register_eventfd(&handle->ring, event_fd)) < 0) {
    *stage = "register eventfd";
  } else if ((rc = restrict_ring(&handle->ring)) < 0) {
    *stage = "register restrictions";
  } else if ((rc = enable_ring(&handle->ring)) < 0) {
    *stage = "enable";
  }
  if (rc < 0) {
    *error = -rc;
    io_uring_unregister_files(&handle->ring);  // if registered: see curing_destroy
    io_uring_queue_exit(&handle->ring);
    free(handle);
    return NULL;
  }
  return handle;
}

void curing_destroy(curing_ring *ring) {
  if (ring == NULL) return;
  // The ring's own teardown is asynchronous and would keep the image open (and
  // flock'ed) for a while after close; unregistering drops that reference now.
  io_uring_unregister_files(&ring->ring);
  io_uring_queue_exit(&ring->ring);
  free(ring);
}

unsigned curing_sq_space(curing_ring *ring) { return io_uring_sq_space_left(&ring->ring); }

int curing_prepare(curing_ring *ring, const struct curing_op *op) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(&ring->ring);
  if (sqe == NULL) return -EBUSY;
  // Fixed file 0: the image registered at creation (no fd lookup per I/O).
  switch (op->opcode) {
  case CURING_READV:
    io_uring_prep_readv2(sqe, 0, op->address, op->length, op->offset, op->rw_flags);
    break;
  case CURING_WRITEV:
    io_uring_prep_writev2(sqe, 0, op->address, op->length, op->offset, op->rw_flags);
    break;
  case CURING_READ:
    io_uring_prep_read(sqe, 0, (void *)op->address, op->length, op->offset);
    sqe->rw_flags = op->rw_flags;
    break;
  case CURING_WRITE:
    io_uring_prep_write(sqe, 0, op->address, op->length, op->offset);
    sqe->rw_flags = op->rw_flags;
    break;
  default:
    io_uring_prep_fsync(sqe, 0, IORING_FSYNC_DATASYNC);
    break;
  }
  sqe->flags |= IOSQE_FIXED_FILE;
  io_uring_sqe_set_data64(sqe, op->user_data);
  return 0;
}

int curing_submit(curing_ring *ring) { return io_uring_submit(&ring->ring); }

unsigned curing_reap(curing_ring *ring, struct curing_completion *out, unsigned max) {
  struct io_uring_cqe *cqes[64];
  unsigned total = 0;
  while (total < max) {
    unsigned want = max - total < 64 ? max - total : 64;
    unsigned got = io_uring_peek_batch_cqe(&ring->ring, cqes, want);
    if (got == 0) break;
    for (unsigned i = 0; i < got; i++) {
      out[total + i].user_data = io_uring_cqe_get_data64(cqes[i]);
      out[total + i].result = cqes[i]->res;
    }
    io_uring_cq_advance(&ring->ring, got);
    total += got;
  }
  return total;
}
