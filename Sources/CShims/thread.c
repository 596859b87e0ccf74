#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
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

int cshim_thread_cpu_us(long long *user, long long *system) {
  struct rusage usage;
  if (getrusage(RUSAGE_THREAD, &usage) != 0) return -1;
  *user = (long long)usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec;
  *system = (long long)usage.ru_stime.tv_sec * 1000000 + usage.ru_stime.tv_usec;
  return 0;
}
