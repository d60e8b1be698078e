#include "report_command.h"

#include "console_reporter.h"
#include "facetrain/base/log.h"
#include "facetrain/report/report.h"

#include <CLI/CLI.hpp>

namespace facetrain::cli {

CLI::App* setup_report(CLI::App& app, ReportArgs& args) {
  auto* cmd = app.add_subcommand("report", "Write one self-contained HTML page for a run, a render or a face set");
  cmd->add_option("PATH", args.path, "Run directory, swap output directory or face set")->required();
  cmd->add_option("-o,--output", args.output, "The page to write (default: PATH/report.html)");
  cmd->add_flag("--json", args.json, "Machine-readable JSON events on stdout");
  return cmd;
}

int run_report_command(const ReportArgs& args, ConsoleReporter& reporter) {
  const report::WrittenReport written = report::write_report(args.path, args.output);
  log_info("{} report: {} ({:.1f} kB)", report::to_string(written.kind), written.output.string(), written.bytes / 1024.0);
  reporter.event("done", {{"kind", report::to_string(written.kind)},
                          {"path", args.path},
                          {"output", written.output.string()},
                          {"bytes", written.bytes}});
  return 0;
}

}  // namespace facetrain::cli
