#pragma once
// Where this process sits in a distributed `facetrain train` (docs/design.md §6), read from the
// environment a launcher leaves: facetrain's own --nproc-per-node launcher and torchrun (RANK,
// WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_*), or Slurm
// tasks started by srun (SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_LOCALID, SLURM_STEP_TASKS_PER_NODE
// with SLURM_NODEID; MASTER_ADDR must be exported by the batch script). The batch script itself
// (no SLURM_STEP_NUM_TASKS) is one process.
// A plain struct, no LibTorch.
#include <functional>
#include <optional>
#include <string>

namespace facetrain {

struct LaunchEnvironment {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;        // selects the CUDA device (cuda_device_index)
  int local_world_size = 1;  // ranks on this machine
  std::string master_addr;   // the rendezvous (TCPStore) host; rank 0 serves it unless use_agent_store
  int master_port = 0;
  std::string launcher = "none";  // none | facetrain | torchrun | slurm | env
  bool use_agent_store = false;   // torchrun's agent already serves the store: every rank is a client
  int restart_count = 0;          // TORCHELASTIC_RESTART_COUNT: keeps store keys of restarts apart
  bool distributed() const { return world_size > 1; }
};

using EnvironmentLookup = std::function<std::optional<std::string>(const char* name)>;

// Throws ConfigError (78) naming the variable and its value when one is malformed or the set is
// inconsistent (RANK without WORLD_SIZE, rank >= world size, no MASTER_ADDR for several ranks).
LaunchEnvironment parse_launch_environment(const EnvironmentLookup& lookup);
LaunchEnvironment launch_environment_from_process();

// The CUDA device this rank trains on, among the `visible_devices` the process sees: its local
// rank; under Slurm, where --gpus-per-task or --gpu-bind leaves each task only its own GPU(s) while
// SLURM_LOCALID still counts the node's tasks, the local rank modulo what it sees. Throws
// UnavailableError (69) when there is none, or when another launcher's local rank has no device.
int cuda_device_index(const LaunchEnvironment& env, int visible_devices);

// Set by facetrain's own launcher in the workers it starts (they must not launch again).
inline constexpr const char* kLocalWorkerVariable = "FACETRAIN_LOCAL_WORKER";

}  // namespace facetrain
