#pragma once
// `facetrain verify PATH`: a face set, run or swap output directory against its records.
#include <string>

namespace CLI {
class App;
}

namespace facetrain::cli {

class ConsoleReporter;

struct VerifyArgs {
  std::string path;
  bool json = false;
};

CLI::App* setup_verify(CLI::App& app, VerifyArgs& args);
// 0 when everything matches; throws InputDataError (65) after listing every mismatch.
int run_verify_command(const VerifyArgs& args, ConsoleReporter& reporter);

}  // namespace facetrain::cli
