// The floor under a sleeping server's wake-up, for wake.py: one thread sleeps
// in ppoll (no timeout) on a socket, as the reactor does; another, on another
// CPU, writes a byte to it after GAP microseconds of quiet and spins until the
// sleeper has run. Prints "p50_us p99_us" over COUNT wake-ups.
//
// Usage: wake_probe SLEEPER_CPU WRITER_CPU GAP_US COUNT
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int sockets[2];
static int sleeper_cpu;
static _Atomic long long woke_at;

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

static void *sleeper(void *unused) {
  (void)unused;
  pin(sleeper_cpu);
  char byte;
  for (;;) {
    struct pollfd p = {.fd = sockets[0], .events = POLLIN};
    if (ppoll(&p, 1, NULL, NULL) > 0) {
      atomic_store(&woke_at, now_ns());
      if (read(sockets[0], &byte, 1) != 1) return NULL;
    }
  }
}

static int compare(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: wake_probe SLEEPER_CPU WRITER_CPU GAP_US COUNT\n");
    return 2;
  }
  sleeper_cpu = atoi(argv[1]);
  int gap = atoi(argv[3]), count = atoi(argv[4]);
  if (count < 1 || gap < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sockets) != 0) return 2;
  long long *samples = calloc((size_t)count, sizeof *samples);
  pthread_t thread;
  if (!samples || pthread_create(&thread, NULL, sleeper, NULL) != 0) return 2;
  pin(atoi(argv[2]));
  for (int i = 0; i < count; i++) {
    usleep((useconds_t)gap);
    atomic_store(&woke_at, 0);
    long long start = now_ns();
    if (write(sockets[1], "x", 1) != 1) return 1;
    long long woke;
    while ((woke = atomic_load(&woke_at)) == 0) {
    }
    samples[i] = woke - start;
  }
  qsort(samples, (size_t)count, sizeof *samples, compare);
  printf("%.1f %.1f\n", samples[count / 2] / 1000.0, samples[count * 99 / 100] / 1000.0);
  return 0;
}
