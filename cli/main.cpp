// facetrain: one executable, one subcommand per stage. Parsing happens first; the work then runs
// under one handler that maps every failure to the documented exit code (docs/design.md §5).
#include "console_reporter.h"
#include "extract_command.h"
#include "matte_command.h"
#include "report_command.h"
#include "swap_command.h"
#include "train_command.h"
#include "verify_command.h"
#include "version_text.h"
#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/version.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <sys/stat.h>

namespace {

// Footage is pre-release content (docs/design.md §8): what a library creates for us (FFmpeg's muxer,
// OpenImageIO) follows the same owner-only default as facetrain's own writers.
void restrict_created_files() {
  try {
    ::umask(static_cast<mode_t>(facetrain::creation_mask()));
  } catch (const facetrain::Error& e) {
    std::fprintf(stderr, "ERROR: %s\n", e.what());
    std::exit(static_cast<int>(facetrain::ExitCode::usage));
  }
}

facetrain::LogLevel log_level_from_env(bool quiet, bool verbose) {
  if (verbose) return facetrain::LogLevel::debug;
  if (quiet) return facetrain::LogLevel::warning;
  const char* env = std::getenv("FACETRAIN_LOG_LEVEL");
  if (!env) return facetrain::LogLevel::info;
  const std::string level(env);
  if (level == "debug") return facetrain::LogLevel::debug;
  if (level == "warning") return facetrain::LogLevel::warning;
  if (level == "error") return facetrain::LogLevel::error;
  return facetrain::LogLevel::info;
}

// Ends with the exit code of a stop signal when one arrived, else `code`.
int exit_code_after(int code) {
  const int signal_number = facetrain::cli::received_stop_signal();
  if (signal_number != 0 && code == 0) return 128 + signal_number;
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace facetrain;
  restrict_created_files();
  CLI::App app{"facetrain: face replacement for VFX plates (extract, train, swap)"};
  app.require_subcommand(1);
  app.fallthrough();  // -q/-v work before or after the subcommand
  app.set_version_flag("--version", cli::version_text);  // build record + GPU probe; loads no module
  bool quiet = false, verbose = false;
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors on stderr");
  app.add_flag("-v,--verbose", verbose, "Debug messages on stderr");

  cli::ExtractArgs extract_args;
  CLI::App* extract = cli::setup_extract(app, extract_args);
  cli::TrainArgs train_args;
  CLI::App* train = cli::setup_train(app, train_args);
  cli::SwapArgs swap_args;
  CLI::App* swap = cli::setup_swap(app, swap_args);
  cli::VerifyArgs verify_args;
  CLI::App* verify = cli::setup_verify(app, verify_args);
  cli::ReportArgs report_args;
  CLI::App* report = cli::setup_report(app, report_args);
  cli::MatteArgs matte_args;
  CLI::App* matte = cli::setup_matte(app, matte_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "Run '%s --help' for usage.\nERROR: %s\n", argv[0], e.what());  // ERROR: last
    return static_cast<int>(ExitCode::usage);
  }

  const bool json = (extract->parsed() && extract_args.json) || (train->parsed() && train_args.json) ||
                    (swap->parsed() && swap_args.json) || (verify->parsed() && verify_args.json) || (report->parsed() && report_args.json) ||
                    (matte->parsed() && matte_args.json);
  cli::ConsoleReporter reporter(json, log_level_from_env(quiet, verbose));
  cli::install_stop_handlers(reporter);
  int code = 0;
  std::string message;
  try {
    if (extract->parsed()) code = cli::run_extract_command(extract_args, reporter);
    if (train->parsed()) code = cli::run_train_command(train_args, reporter);
    if (swap->parsed()) code = cli::run_swap_command(swap_args, reporter);
    if (verify->parsed()) code = cli::run_verify_command(verify_args, reporter);
    if (report->parsed()) code = cli::run_report_command(report_args, reporter);
    if (matte->parsed()) code = cli::run_matte_command(matte_args, reporter);
    return exit_code_after(code);
  } catch (const Error& e) {
    code = static_cast<int>(e.code());
    message = e.what();
  } catch (const std::bad_alloc&) {
    code = static_cast<int>(ExitCode::internal);
    message = "out of memory";
  } catch (const std::exception& e) {
    code = static_cast<int>(ExitCode::internal);
    message = fmt::format("internal error: {}", e.what());
  }
  // One line, so that the last stderr line is the whole error (libraries join theirs with newlines).
  for (size_t at = message.find('\n'); at != std::string::npos; at = message.find('\n', at)) {
    const bool last = at + 1 == message.size();
    message.replace(at, 1, last ? "" : "; ");
  }
  reporter.event("error", {{"message", message}, {"exit_code", code}});
  reporter.log(LogLevel::error, message);  // the last stderr line of a failure starts with "ERROR:"
  return code;
}
