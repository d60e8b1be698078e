#include "facetrain/base/launch_environment.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>

#include <algorithm>
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

// One entry of a Slurm per-node count list ("2(x3),1"): the count of node `node`.
int slurm_tasks_on_node(const std::string& list, int node) {
  const auto malformed = [&] {
    return ConfigError(fmt::format("environment variable SLURM_STEP_TASKS_PER_NODE='{}' is not a Slurm count list "
                                   "such as 2(x3),1", list));
  };
  size_t at = 0;
  int first_node = 0;
  while (at < list.size()) {
    const size_t end = std::min(list.find(',', at), list.size());
    const std::string item = list.substr(at, end - at);
    const size_t paren = item.find('(');
    const std::string count_text = item.substr(0, paren);
    int repeat = 1;
    if (paren != std::string::npos) {
      if (item.size() < paren + 4 || item.compare(paren, 2, "(x") != 0 || item.back() != ')') throw malformed();
      repeat = parse_int("SLURM_STEP_TASKS_PER_NODE", item.substr(paren + 2, item.size() - paren - 3), 1, 1 << 20);
    }
    const int count = parse_int("SLURM_STEP_TASKS_PER_NODE", count_text, 1, 1 << 20);
    if (node < first_node + repeat) return count;
    first_node += repeat;
    at = end + 1;
  }
  throw ConfigError(fmt::format("environment: SLURM_NODEID={} but SLURM_STEP_TASKS_PER_NODE='{}' lists {} node(s)",
                                node, list, first_node));
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
    // Tasks of this step on this node: SLURM_STEP_TASKS_PER_NODE lists the step's nodes in order,
    // "2(x3),1" meaning 2 on each of the first three and 1 on the fourth; SLURM_NODEID is this node's
    // index among them, counted from 0 (srun(1)). SLURM_NTASKS_PER_NODE is only what sbatch was asked
    // for with --ntasks-per-node, and is unset otherwise.
    if (const auto per_node = lookup("SLURM_STEP_TASKS_PER_NODE")) {
      const auto node = optional_int(lookup, "SLURM_NODEID", 0, kMaxRanks);
      env.local_world_size = slurm_tasks_on_node(*per_node, node.value_or(0));
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
                                    env.launcher == "slurm" ? "; export it in the batch script, see examples/farm/slurm/" : ""));
    env.master_addr = *addr;
    const auto port = optional_int(lookup, "MASTER_PORT", 1, 65535);
    if (!port) throw ConfigError(fmt::format("environment: {} ranks but no MASTER_PORT", env.world_size));
    env.master_port = *port;
  }
  return env;
}

int cuda_device_index(const LaunchEnvironment& env, int visible_devices) {
  if (visible_devices <= 0) throw UnavailableError("--device cuda: this process sees no CUDA device");
  if (env.local_rank < visible_devices) return env.local_rank;
  // srun --gpus-per-task / --gpu-bind give each task its own GPU(s) (CUDA_VISIBLE_DEVICES lists only
  // those), while SLURM_LOCALID still counts every task on the node: use the task's own devices.
  if (env.launcher == "slurm") return env.local_rank % visible_devices;
  throw UnavailableError(fmt::format("local rank {} needs CUDA device {}, this process sees {}", env.local_rank,
                                     env.local_rank, visible_devices));
}

LaunchEnvironment launch_environment_from_process() {
  return parse_launch_environment([](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (!value) return std::nullopt;
    return std::string(value);
  });
}

}  // namespace facetrain
