#pragma once
#include "facetrain/train/trainer.h"

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
  bool dump_config = false;
  bool json = false;
};

CLI::App* setup_train(CLI::App& app, TrainArgs& args);
int run_train_command(TrainArgs& args, ConsoleReporter& reporter);

}  // namespace facetrain::cli
