#include "facetrain/base/error.h"
#include "facetrain/base/launch_environment.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>

namespace {

facetrain::LaunchEnvironment parse(const std::map<std::string, std::string>& vars) {
  return facetrain::parse_launch_environment([&](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

}  // namespace

TEST_CASE("no launcher variables: one process", "[unit][dist]") {
  const auto env = parse({});
  CHECK(env.world_size == 1);
  CHECK(env.rank == 0);
  CHECK_FALSE(env.distributed());
  CHECK(env.launcher == "none");
}

TEST_CASE("torchrun's variables, agent store and restart count", "[unit][dist]") {
  const auto env = parse({{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "4"},
                          {"MASTER_ADDR", "10.0.0.7"}, {"MASTER_PORT", "29400"}, {"TORCHELASTIC_RUN_ID", "job"},
                          {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"TORCHELASTIC_RESTART_COUNT", "2"}});
  CHECK(env.rank == 5);
  CHECK(env.world_size == 8);
  CHECK(env.local_rank == 1);
  CHECK(env.local_world_size == 4);
  CHECK(env.master_addr == "10.0.0.7");
  CHECK(env.master_port == 29400);
  CHECK(env.launcher == "torchrun");
  CHECK(env.use_agent_store);
  CHECK(env.restart_count == 2);
  CHECK(env.distributed());
}

TEST_CASE("facetrain's own workers and plain RANK/WORLD_SIZE", "[unit][dist]") {
  auto env = parse({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "127.0.0.1"},
                    {"MASTER_PORT", "29500"}, {"FACETRAIN_LOCAL_WORKER", "1"}});
  CHECK(env.launcher == "facetrain");
  CHECK_FALSE(env.use_agent_store);
  CHECK(env.local_world_size == 2);
  env = parse({{"RANK", "0"}, {"WORLD_SIZE", "1"}});  // one rank needs no rendezvous
  CHECK(env.launcher == "env");
  CHECK_FALSE(env.distributed());
}

TEST_CASE("Slurm's variables", "[unit][dist]") {
  // As srun sets them for task 3 of a 4-task step over two nodes (2 tasks each), node 1.
  const auto env = parse({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "8"}, {"SLURM_STEP_NUM_TASKS", "4"}, {"SLURM_LOCALID", "1"},
                          {"SLURM_STEP_TASKS_PER_NODE", "2(x2)"}, {"SLURM_NODEID", "1"}, {"SLURM_NTASKS_PER_NODE", "4"},
                          {"MASTER_ADDR", "node01"}, {"MASTER_PORT", "29500"}});
  CHECK(env.launcher == "slurm");
  CHECK(env.rank == 3);
  CHECK(env.world_size == 4);
  CHECK(env.local_rank == 1);
  CHECK(env.local_world_size == 2);
  CHECK(env.master_addr == "node01");
  // RANK/WORLD_SIZE (torchrun inside an sbatch allocation) win over Slurm's task variables.
  const auto inner = parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}, {"RANK", "1"}, {"WORLD_SIZE", "2"},
                            {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}});
  CHECK(inner.rank == 1);
  CHECK(inner.launcher == "env");
  // The batch script of a 4-task allocation (no srun): one process, not rank 0 of 4 waiting for 3.
  const auto batch_shell = parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "0"}});
  CHECK_FALSE(batch_shell.distributed());
  CHECK(batch_shell.launcher == "none");
}

TEST_CASE("Slurm: the step's tasks on this node come from SLURM_STEP_TASKS_PER_NODE and SLURM_NODEID", "[unit][dist]") {
  auto on_node = [](const char* list, const char* node) {
    return parse({{"SLURM_PROCID", "0"}, {"SLURM_STEP_NUM_TASKS", "1"}, {"SLURM_STEP_TASKS_PER_NODE", list},
                  {"SLURM_NODEID", node}})
        .local_world_size;
  };
  CHECK(on_node("8", "0") == 8);
  CHECK(on_node("2(x3),1", "0") == 2);
  CHECK(on_node("2(x3),1", "2") == 2);
  CHECK(on_node("2(x3),1", "3") == 1);
  CHECK(on_node("4,3(x2),1", "2") == 3);
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(on_node("2(x3),1", "4"), Contains("SLURM_NODEID=4"));
  CHECK_THROWS_WITH(on_node("2(x3", "0"), Contains("SLURM_STEP_TASKS_PER_NODE='2(x3'"));
  CHECK_THROWS_WITH(on_node("two", "0"), Contains("SLURM_STEP_TASKS_PER_NODE"));
}

TEST_CASE("the CUDA device of a rank: its local rank, or its own share under Slurm's GPU binding", "[unit][dist]") {
  facetrain::LaunchEnvironment env;
  env.launcher = "slurm";
  env.local_world_size = 8;
  // --gpus-per-node=8, no binding: every task sees all 8, SLURM_LOCALID picks one.
  for (int local = 0; local < 8; ++local) {
    env.local_rank = local;
    CHECK(facetrain::cuda_device_index(env, 8) == local);
  }
  // --gpus-per-task=1: every task sees only its own GPU, whatever its SLURM_LOCALID.
  for (int local = 0; local < 8; ++local) {
    env.local_rank = local;
    CHECK(facetrain::cuda_device_index(env, 1) == 0);
  }
  // --gpus-per-task=2, 4 tasks: each uses one of its own two.
  env.local_world_size = 4;
  env.local_rank = 3;
  CHECK(facetrain::cuda_device_index(env, 2) == 1);
  // facetrain's own launcher or torchrun with more workers than GPUs: 69 naming the rank.
  env.launcher = "facetrain";
  env.local_rank = 2;
  CHECK(facetrain::cuda_device_index(env, 4) == 2);
  CHECK_THROWS_AS(facetrain::cuda_device_index(env, 2), facetrain::UnavailableError);
  CHECK_THROWS_WITH(facetrain::cuda_device_index(env, 2), Catch::Matchers::Contains("local rank 2"));
  CHECK_THROWS_AS(facetrain::cuda_device_index(env, 0), facetrain::UnavailableError);
}

TEST_CASE("malformed or inconsistent launcher variables are configuration errors naming them", "[unit][dist]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(parse({{"RANK", "x1"}, {"WORLD_SIZE", "2"}}), Contains("RANK='x1'"));
  CHECK_THROWS_AS(parse({{"RANK", "1"}}), facetrain::ConfigError);
  CHECK_THROWS_WITH(parse({{"RANK", "1"}}), Contains("WORLD_SIZE"));
  CHECK_THROWS_WITH(parse({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}}),
                    Contains("rank 2 is not below the world size 2"));
  CHECK_THROWS_WITH(parse({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}), Contains("MASTER_ADDR"));
  CHECK_THROWS_WITH(parse({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "70000"}}),
                    Contains("MASTER_PORT='70000'"));
  CHECK_THROWS_WITH(parse({{"SLURM_PROCID", "0"}, {"SLURM_STEP_NUM_TASKS", "2"}}), Contains("MASTER_ADDR"));
  CHECK_THROWS_AS(parse({{"SLURM_STEP_NUM_TASKS", "2"}}), facetrain::ConfigError);
}
