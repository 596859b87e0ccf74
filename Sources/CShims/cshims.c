#define _GNU_SOURCE
#include "cshims.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

// Room for more descriptors than any peer may send, so an over-limit message is seen
// (and its descriptors closed) instead of silently truncated.
#define CSHIM_MAX_FDS 64

ssize_t cshim_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds) {
  struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  char control[CMSG_SPACE(sizeof(int) * CSHIM_MAX_FDS)];
  if (nfds < 0 || nfds > CSHIM_MAX_FDS) {
    errno = EINVAL;
    return -1;
  }
  if (nfds > 0) {
    memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * (size_t)nfds);
  }
  return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

ssize_t cshim_recv_with_fds(int sock, void *buf, size_t len, int flags, int *fds, int maxfds,
                            int *nfds, int *truncated) {
  struct iovec iov = {.iov_base = buf, .iov_len = len};
  char control[CMSG_SPACE(sizeof(int) * CSHIM_MAX_FDS)];
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                       .msg_controllen = sizeof(control)};
  *nfds = 0;
  *truncated = 0;
  ssize_t n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
  if (n < 0) {
    return n;
  }
  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int *received = (int *)CMSG_DATA(cmsg);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, &received[i], sizeof(int));
      if (*nfds < maxfds) {
        fds[(*nfds)++] = fd;
      } else {
        close(fd);  // over the caller's limit: never leak it
        *truncated = 1;
      }
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    *truncated = 1;
  }
  return n;
}

int cshim_memfd_create(const char *name) {
  return memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

int cshim_seal_size(int fd) {
  return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
}

int cshim_eventfd(unsigned int initval, int nonblocking) {
  return eventfd(initval, EFD_CLOEXEC | (nonblocking ? EFD_NONBLOCK : 0));
}

int cshim_accept_cloexec(int listener) { return accept4(listener, NULL, NULL, SOCK_CLOEXEC); }

int cshim_fallocate(int fd, int mode, int64_t offset, int64_t length) {
  return fallocate(fd, mode, (off_t)offset, (off_t)length);
}

int64_t cshim_copy_file_range(int fd, int64_t *source, int64_t *destination, uint64_t length) {
  off_t in = (off_t)*source, out = (off_t)*destination;
  ssize_t copied = copy_file_range(fd, &in, fd, &out, (size_t)length, 0);
  *source = (int64_t)in;
  *destination = (int64_t)out;
  return (int64_t)copied;
}

int cshim_peer_credentials(int sock, int *pid, unsigned *uid, unsigned *gid) {
  struct ucred cred;
  socklen_t length = sizeof(cred);
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) return -1;
  *pid = cred.pid;
  *uid = cred.uid;
  *gid = cred.gid;
  return 0;
}
