#ifndef NVME_VFU_CSHIMS_WAIT_H
#define NVME_VFU_CSHIMS_WAIT_H

#include <poll.h>

// What POSIX's waits are made of. glibc declares ppoll and signalfd only with _GNU_SOURCE.

// ppoll(2) with a microsecond timeout (negative: wait forever), behind POSIX's PollSet:
// the reactor's idle sleeps are shorter than poll(2)'s millisecond granularity.
int cshim_ppoll_us(struct pollfd *fds, unsigned long nfds, long microseconds);

// Blocks `signals` in the calling thread and returns a non-blocking, close-on-exec
// signalfd for them, or -1 with errno set.
int cshim_signalfd_block(const int *signals, int count);

// The next signal number waiting on a signalfd, or -1 when none is.
int cshim_signalfd_next(int fd);

#endif
