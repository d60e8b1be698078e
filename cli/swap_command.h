#pragma once
#include "facetrain/jobs/swap_job.h"

#include <string>

namespace CLI {
class App;
}

namespace facetrain::cli {

class ConsoleReporter;

struct SwapArgs {
  SwapJob job;
  std::string frames;
  std::string chunk;
  std::string on_missing = "error";
  std::string output_kind = "full-frame";
  std::string matte = "auto";
  std::string color = "rct";
  std::string exr_type;
  bool json = false;
};

CLI::App* setup_swap(CLI::App& app, SwapArgs& args);
int run_swap_command(SwapArgs& args, ConsoleReporter& reporter);

}  // namespace facetrain::cli
