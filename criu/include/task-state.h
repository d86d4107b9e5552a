// CRIU's TaskCoreEntry.task_state values, shared by dump and restore.
#pragma once

#include <cstdint>

namespace criu {

constexpr uint32_t kTaskAlive = 1;   // TASK_ALIVE: running or sleeping
constexpr uint32_t kTaskDead = 2;    // TASK_DEAD: a zombie; exit_code holds its wait status
constexpr uint32_t kTaskStopped = 3; // TASK_STOPPED: stop_signo says by what

} // namespace criu
