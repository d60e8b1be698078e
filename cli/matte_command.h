#pragma once
// `facetrain matte train` and `facetrain matte apply`: the visible-face matte (issue 24).
#include "facetrain/jobs/matte_job.h"

#include <string>

namespace CLI {
class App;
}

namespace facetrain::cli {

class ConsoleReporter;

struct MatteArgs {
  MatteTrainJob train;
  MatteApplyJob apply;
  std::string max_time;
  bool json = false;
  CLI::App* train_command = nullptr;
  CLI::App* apply_command = nullptr;
};

CLI::App* setup_matte(CLI::App& app, MatteArgs& args);
int run_matte_command(MatteArgs& args, ConsoleReporter& reporter);

}  // namespace facetrain::cli
