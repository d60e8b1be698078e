#include "facetrain/base/launch_environment.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>

namespace facetrain {
namespace {

int parse_int(const char* name, const std::string& text, int minimum, int maximum) {
  errno = 0;
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || end == nullptr || *end != '\0' || value < minimum || value > maximum)
    throw ConfigError(fmt::format("environment variable {}='{}' is not an integer in [{}, {}]", name, text, minimum, maximum));
  return static_cast<int>(value);
}

std::optional<int> optional_int(const EnvironmentLookup& lookup, const char* name, int minimum, int maximum) {
  const auto text = lookup(name);
  if (!text) return std::nullopt;
  return parse_int(name, *text, minimum, maximum);
}

bool truthy(const std::optional<std::string>& text) {
  return text && (*text == "1" || *text == "True" || *text == "true" || *text == "TRUE" || *text == "yes");
}

}  // namespace

LaunchEnvironment parse_launch_environment(const EnvironmentLookup& lookup) {
  constexpr int kMaxRanks = 1 << 20;
  LaunchEnvironment env;
  const auto rank = optional_int(lookup, "RANK", 0, kMaxRanks);
  const auto world = optional_int(lookup, "WORLD_SIZE", 1, kMaxRanks);
  const auto slurm_rank = optional_int(lookup, "SLURM_PROCID", 0, kMaxRanks);
  // Only a task that srun started is one of several ranks: the batch script itself also sees
  // SLURM_PROCID=0 and the allocation's SLURM_NTASKS, but SLURM_STEP_NUM_TASKS only exists in a job
  // step, and it counts that step's tasks (srun -n 2 inside a 4-task allocation is 2 ranks).
  const auto slurm_tasks = optional_int(lookup, "SLURM_STEP_NUM_TASKS", 1, kMaxRanks);
  if (rank || world) {
    if (!rank || !world)
      throw ConfigError(fmt::format("environment: {} is set but {} is not (a launcher sets both)", rank ? "RANK" : "WORLD_SIZE",
                                    rank ? "WORLD_SIZE" : "RANK"));
    env.rank = *rank;
    env.world_size = *world;
    env.local_rank = optional_int(lookup, "LOCAL_RANK", 0, kMaxRanks).value_or(0);
    env.local_world_size = optional_int(lookup, "LOCAL_WORLD_SIZE", 1, kMaxRanks).value_or(env.world_size);
    if (truthy(lookup(kLocalWorkerVariable))) env.launcher = "facetrain";
    else if (lookup("TORCHELASTIC_RUN_ID") || lookup("TORCHELASTIC_RESTART_COUNT")) env.launcher = "torchrun";
    else env.launcher = "env";
    env.use_agent_store = env.launcher == "torchrun" && truthy(lookup("TORCHELASTIC_USE_AGENT_STORE"));
    env.restart_count = optional_int(lookup, "TORCHELASTIC_RESTART_COUNT", 0, kMaxRanks).value_or(0);
  } else if (slurm_tasks) {
    if (!slurm_rank) throw ConfigError("environment: SLURM_STEP_NUM_TASKS is set but SLURM_PROCID is not");
    env.rank = *slurm_rank;
    env.world_size = *slurm_tasks;
    env.local_rank = optional_int(lookup, "SLURM_LOCALID", 0, kMaxRanks).value_or(0);
    // SLURM_NTASKS_PER_NODE may read "4(x2)"; only its leading count matters here.
    if (const auto per_node = lookup("SLURM_NTASKS_PER_NODE")) {
      const std::string count = per_node->substr(0, per_node->find_first_not_of("0123456789"));
      env.local_world_size = count.empty() ? 1 : parse_int("SLURM_NTASKS_PER_NODE", count, 1, kMaxRanks);
    }
    env.launcher = "slurm";
  } else {
    return env;  // one process
  }
  if (env.rank >= env.world_size)
    throw ConfigError(fmt::format("environment: rank {} is not below the world size {}", env.rank, env.world_size));
  if (env.world_size > 1) {
    const auto addr = lookup("MASTER_ADDR");
    if (!addr || addr->empty())
      throw ConfigError(fmt::format("environment: {} ranks but no MASTER_ADDR (the rendezvous host{})", env.world_size,
                                    env.launcher == "slurm" ? "; export it in the batch script, see examples/train/" : ""));
    env.master_addr = *addr;
    const auto port = optional_int(lookup, "MASTER_PORT", 1, 65535);
    if (!port) throw ConfigError(fmt::format("environment: {} ranks but no MASTER_PORT", env.world_size));
    env.master_port = *port;
  }
  return env;
}

LaunchEnvironment launch_environment_from_process() {
  return parse_launch_environment([](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (!value) return std::nullopt;
    return std::string(value);
  });
}

}  // namespace facetrain
