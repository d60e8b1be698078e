#pragma once
// `facetrain report PATH [-o FILE.html]`: one self-contained HTML page for a run or a render.
#include <string>

namespace CLI {
class App;
}

namespace facetrain::cli {

class ConsoleReporter;

struct ReportArgs {
  std::string path;
  std::string output;  // empty: PATH/report.html
  bool json = false;
};

CLI::App* setup_report(CLI::App& app, ReportArgs& args);
int run_report_command(const ReportArgs& args, ConsoleReporter& reporter);

}  // namespace facetrain::cli
