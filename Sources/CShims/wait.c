#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cshims_wait.h"

int cshim_ppoll_us(struct pollfd *fds, unsigned long nfds, long microseconds) {
  struct timespec timeout = {.tv_sec = microseconds / 1000000,
                             .tv_nsec = (microseconds % 1000000) * 1000};
  return ppoll(fds, (nfds_t)nfds, microseconds < 0 ? NULL : &timeout, NULL);
}

int cshim_signalfd_block(const int *signals, int count) {
  sigset_t set;
  sigemptyset(&set);
  for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
  if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int cshim_signalfd_next(int fd) {
  struct signalfd_siginfo info;
  ssize_t got = read(fd, &info, sizeof info);
  return got == (ssize_t)sizeof info ? (int)info.ssi_signo : -1;
}
