#include "verify_command.h"

#include "console_reporter.h"
#include "facetrain/base/error.h"
#include "facetrain/verify/verify.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

namespace facetrain::cli {

CLI::App* setup_verify(CLI::App& app, VerifyArgs& args) {
  auto* cmd = app.add_subcommand("verify", "Check a face set, a run or a swap output directory against its records");
  cmd->add_option("PATH", args.path, "Face set, run directory or swap output directory")->required();
  cmd->add_flag("--json", args.json, "Machine-readable JSON events on stdout");
  return cmd;
}

int run_verify_command(const VerifyArgs& args, ConsoleReporter& reporter) {
  const VerifyReport report = verify_path(args.path);
  if (reporter.json()) {
    reporter.event("done", {{"kind", report.kind},
                            {"path", report.path.string()},
                            {"files_checked", report.files_checked},
                            {"problems", report.problems},
                            {"notes", report.notes}});
  } else {
    // The report is the command's product: stdout, one finding per line.
    for (const auto& note : report.notes) std::printf("note: %s\n", note.c_str());
    for (const auto& problem : report.problems) std::printf("MISMATCH: %s\n", problem.c_str());
    std::printf("%s %s: %lld file(s) checked, %zu mismatch(es)\n", report.kind.c_str(), report.path.string().c_str(),
                static_cast<long long>(report.files_checked), report.problems.size());
    std::fflush(stdout);
  }
  if (!report.problems.empty())
    throw InputDataError(fmt::format("{} {}: {} mismatch(es), the first: {}", report.kind, report.path.string(),
                                     report.problems.size(), report.problems.front()));
  return 0;
}

}  // namespace facetrain::cli
