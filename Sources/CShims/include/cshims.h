#ifndef NVME_VFU_CSHIMS_H
#define NVME_VFU_CSHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

// Send `len` bytes from `buf` on a stream socket with `nfds` descriptors attached as
// SCM_RIGHTS. Returns the byte count sent or -1 with errno set. MSG_NOSIGNAL is always
// used so a vanished peer is an EPIPE, not a SIGPIPE.
ssize_t cshim_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds);

// Receive up to `len` bytes into `buf`. Descriptors that arrive with the data are
// written to `fds` (at most `maxfds`); their number goes to `*nfds`. If more descriptors
// arrived than fit, the kernel closes the rest and `*truncated` is set to 1.
// Returns the byte count (0 at EOF) or -1 with errno set.
ssize_t cshim_recv_with_fds(int sock, void *buf, size_t len, int flags, int *fds, int maxfds,
                            int *nfds, int *truncated);

// memfd_create(2) with MFD_CLOEXEC and MFD_ALLOW_SEALING; glibc declares it only
// with _GNU_SOURCE.
int cshim_memfd_create(const char *name);
// Fixes a memfd's size for good (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL):
// a peer holding the descriptor can then no longer truncate it under us.
int cshim_seal_size(int fd);

// eventfd(2) with EFD_CLOEXEC (and EFD_NONBLOCK when `nonblocking`).
int cshim_eventfd(unsigned int initval, int nonblocking);

// accept4(2) with SOCK_CLOEXEC; glibc declares it only with _GNU_SOURCE.
int cshim_accept_cloexec(int listener);

// SO_PEERCRED (struct ucred needs _GNU_SOURCE): the connecting process's pid, uid and
// gid as they were at connect(2). 0, or -1 with errno.
int cshim_peer_credentials(int sock, int *pid, unsigned *uid, unsigned *gid);

// fallocate(2) (hole punching, zero ranges); glibc declares it only with _GNU_SOURCE.
// Returns 0 or -1 with errno set.
int cshim_fallocate(int fd, int mode, int64_t offset, int64_t length);

// copy_file_range(2) within one file, at explicit offsets (advanced by the
// call); glibc declares it only with _GNU_SOURCE. Returns the bytes copied
// or -1 with errno set.
int64_t cshim_copy_file_range(int fd, int64_t *source, int64_t *destination, uint64_t length);

#endif
