#pragma once
// Errors that reach the user. Each kind carries the sysexits code the command line documents
// (docs/design.md §5), so the CLI maps an exception to an exit status in one place.
#include <stdexcept>
#include <string>

namespace facetrain {

enum class ExitCode : int {
  ok = 0,
  usage = 64,             // EX_USAGE: bad flags or arguments
  data_error = 65,        // EX_DATAERR: input exists but is unusable (corrupt media, no faces)
  no_input = 66,          // EX_NOINPUT: an input file is missing
  unavailable = 69,       // EX_UNAVAILABLE: device or peer unavailable
  internal = 70,          // EX_SOFTWARE: a bug
  cannot_create = 73,     // EX_CANTCREAT: output cannot be created
  io_error = 74,          // EX_IOERR: read or write failed midway
  temporary = 75,         // EX_TEMPFAIL: retry later (preempted, rendezvous timeout)
  config = 78,            // EX_CONFIG: bad configuration
  interrupted = 130,      // SIGINT, after saving
  terminated = 143,       // SIGTERM, after saving
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

#define FACETRAIN_ERROR_KIND(Name, code_value)                                  \
  class Name : public Error {                                                   \
   public:                                                                      \
    explicit Name(const std::string& message) : Error(code_value, message) {}  \
  }

FACETRAIN_ERROR_KIND(UsageError, ExitCode::usage);
FACETRAIN_ERROR_KIND(InputDataError, ExitCode::data_error);
FACETRAIN_ERROR_KIND(MissingInputError, ExitCode::no_input);
FACETRAIN_ERROR_KIND(UnavailableError, ExitCode::unavailable);
FACETRAIN_ERROR_KIND(InternalError, ExitCode::internal);
FACETRAIN_ERROR_KIND(OutputError, ExitCode::cannot_create);
FACETRAIN_ERROR_KIND(IoError, ExitCode::io_error);
FACETRAIN_ERROR_KIND(TemporaryError, ExitCode::temporary);
FACETRAIN_ERROR_KIND(ConfigError, ExitCode::config);

#undef FACETRAIN_ERROR_KIND

}  // namespace facetrain
