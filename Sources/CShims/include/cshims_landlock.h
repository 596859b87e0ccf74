#ifndef NVME_VFU_CSHIMS_LANDLOCK_H
#define NVME_VFU_CSHIMS_LANDLOCK_H

#include <stdint.h>

// Landlock's three system calls, which glibc does not wrap. The structures are
// declared in landlock.c, not taken from linux/landlock.h, so an older header does
// not decide which fields exist: the kernel's answer to the version query does.

// The Landlock ABI version the kernel offers (1 or more), or -1 with errno set
// (ENOSYS: not built in; EOPNOTSUPP: disabled at boot).
int cshim_landlock_abi(void);

// A new ruleset handling these filesystem rights and scopes (0: none). Returns its
// descriptor or -1 with errno set.
int cshim_landlock_create_ruleset(uint64_t handled_fs, uint64_t scoped);

// Allows `allowed` beneath the file or directory `parent_fd` (opened with O_PATH).
// Returns 0 or -1 with errno set.
int cshim_landlock_allow_beneath(int ruleset, int parent_fd, uint64_t allowed);

// Confines the calling process's threads to the ruleset; sets no_new_privs first, as
// Landlock requires of an unprivileged caller. Returns 0 or -1 with errno set.
int cshim_landlock_restrict_self(int ruleset);

#endif
