#pragma once
#include <spawn.h>

/// pipe2(O_CLOEXEC | O_NONBLOCK on the parent's end): no concurrent spawn can inherit it.
int cspawn_pipe(int fds[2]);
/// posix_spawn_file_actions_addchdir_np, hidden from Swift by _GNU_SOURCE.
int cspawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);
/// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor from `from` on.
int cspawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);
/// 1 when `pid` has exited, without reaping it (its process group stays reserved); 0 if running.
int cspawn_exited(int pid);
