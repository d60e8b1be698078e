#pragma once
#include "facetrain/jobs/train_job.h"

#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace facetrain::cli {

class ConsoleReporter;

struct TrainArgs {
  TrainJob job;
  std::string config_file;
  std::string preset;
  std::string max_time;
  std::string resume = "auto";
  std::optional<int64_t> max_steps, batch_size, checkpoint_every;
  std::optional<double> target_loss;
  std::optional<uint64_t> seed;
  std::string device;
  // Distributed (docs/design.md §6): this process launches nproc_per_node local workers.
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;
  std::string rdzv_endpoint;  // HOST:PORT, the same as --master-addr HOST --master-port PORT
  double dist_timeout_s = 600;
  std::string grad_compression = "none";
  bool dump_config = false;
  bool json = false;
};

CLI::App* setup_train(CLI::App& app, TrainArgs& args);
int run_train_command(TrainArgs& args, ConsoleReporter& reporter);

}  // namespace facetrain::cli
