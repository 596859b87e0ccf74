#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <unistd.h>

#include "cshims_thread.h"

int cshim_pin_thread(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) {
    errno = EINVAL;
    return -1;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set);
}

int cshim_gettid(void) { return (int)gettid(); }
