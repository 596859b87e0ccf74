#define _GNU_SOURCE
#include "cshims_dma_guard.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// Enough for any VMM's RAM layout (QEMU maps a handful of windows); DMASpace
// refuses a map past it with ENOSPC rather than serve memory it cannot guard.
#define GUARD_CAPACITY 4096

struct guard_range {
  uintptr_t base;
  size_t length;
};

static struct guard_range ranges[GUARD_CAPACITY];
static size_t used;  // ranges[0..<used] may hold entries; base 0 marks a free slot
// Serialises watch/unwatch (servers in tests run side by side in one
// process). The handler cannot take it: it reads each slot's base with
// acquire, then its length, then checks the base again.
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction previous;
static int installed;
static size_t page_size;  // read at install: sysconf is not async-signal-safe
static uint64_t faults;
static uintptr_t last_address;

// Maps a private zero page (or huge page, for hugetlbfs windows, which cannot
// be split) over the faulting address.
static int replace_page(uintptr_t address) {
  static const size_t sizes[] = {0, 2u << 20, 1u << 30};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t size = i == 0 ? page_size : sizes[i];
    void *page = (void *)(address & ~(uintptr_t)(size - 1));
    void *mapped = mmap(page, size, PROT_READ | PROT_WRITE,
                        MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped != MAP_FAILED) return 0;
  }
  return -1;
}

static void on_sigbus(int signal, siginfo_t *info, void *context) {
  int saved = errno;
  uintptr_t address = (uintptr_t)info->si_addr;
  size_t count = __atomic_load_n(&used, __ATOMIC_ACQUIRE);
  for (size_t i = 0; i < count; i++) {
    uintptr_t base = __atomic_load_n(&ranges[i].base, __ATOMIC_ACQUIRE);
    size_t length = __atomic_load_n(&ranges[i].length, __ATOMIC_ACQUIRE);
    if (base == 0 || __atomic_load_n(&ranges[i].base, __ATOMIC_ACQUIRE) != base) continue;
    if (address >= base && address - base < length) {
      if (replace_page(address) == 0) {
        __atomic_store_n(&last_address, address, __ATOMIC_RELAXED);
        __atomic_add_fetch(&faults, 1, __ATOMIC_RELEASE);
        errno = saved;
        return;  // the access is retried and now completes
      }
      break;
    }
  }
  // Not ours (or the page could not be replaced): hand it on. Restoring the
  // previous disposition and returning re-executes the access, which faults
  // again into that handler with the original siginfo.
  sigaction(SIGBUS, &previous, NULL);
  (void)signal;
  (void)context;
  errno = saved;
}

int cshim_dma_guard_install(void) {
  pthread_mutex_lock(&lock);
  int result = 0;
  if (!installed) {
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGBUS, &action, &previous) == 0) {
      installed = 1;
    } else {
      result = -1;
    }
  }
  pthread_mutex_unlock(&lock);
  return result;
}

int cshim_dma_guard_watch(void *base, size_t length) {
  if (base == NULL || length == 0) {
    errno = EINVAL;
    return -1;
  }
  pthread_mutex_lock(&lock);
  size_t slot = used;
  for (size_t i = 0; i < used; i++) {
    if (ranges[i].base == 0) {
      slot = i;
      break;
    }
  }
  if (slot == GUARD_CAPACITY) {
    pthread_mutex_unlock(&lock);
    errno = ENOSPC;
    return -1;
  }
  __atomic_store_n(&ranges[slot].length, length, __ATOMIC_RELEASE);
  __atomic_store_n(&ranges[slot].base, (uintptr_t)base, __ATOMIC_RELEASE);
  if (slot == used) __atomic_store_n(&used, used + 1, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&lock);
  return 0;
}

void cshim_dma_guard_unwatch(void *base) {
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < used; i++) {
    if (ranges[i].base == (uintptr_t)base) {
      __atomic_store_n(&ranges[i].base, 0, __ATOMIC_RELEASE);
      break;
    }
  }
  pthread_mutex_unlock(&lock);
}

uint64_t cshim_dma_guard_faults(void) { return __atomic_load_n(&faults, __ATOMIC_ACQUIRE); }

uintptr_t cshim_dma_guard_last_address(void) {
  return __atomic_load_n(&last_address, __ATOMIC_RELAXED);
}
