#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cshims_landlock.h"

// The same numbers on every architecture (the unified syscall table of Linux 5.13).
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif

// struct landlock_ruleset_attr (ABI 6). The kernel takes the size we pass and
// accepts fields it does not know as long as they are zero.
struct ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

// struct landlock_path_beneath_attr, packed as the kernel declares it.
struct path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

enum { create_ruleset_version = 1, rule_path_beneath = 1 };

int cshim_landlock_abi(void) {
  return (int)syscall(SYS_landlock_create_ruleset, NULL, 0, create_ruleset_version);
}

int cshim_landlock_create_ruleset(uint64_t handled_fs, uint64_t scoped) {
  struct ruleset_attr attr = {.handled_access_fs = handled_fs, .scoped = scoped};
  return (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
}

int cshim_landlock_allow_beneath(int ruleset, int parent_fd, uint64_t allowed) {
  struct path_beneath_attr attr = {.allowed_access = allowed, .parent_fd = parent_fd};
  return (int)syscall(SYS_landlock_add_rule, ruleset, rule_path_beneath, &attr, 0);
}

int cshim_landlock_restrict_self(int ruleset) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return (int)syscall(SYS_landlock_restrict_self, ruleset, 0);
}
