#pragma once
// `facetrain report PATH [-o FILE.html]`: one self-contained HTML page for a training run, a render
// or a face set (see run_report.h, render_report.h and faceset_report.h for what each shows).
#include <cstddef>
#include <filesystem>
#include <string>

namespace facetrain::report {

enum class ReportKind { run, render, faceset };
const char* to_string(ReportKind kind);

struct WrittenReport {
  ReportKind kind = ReportKind::run;
  std::filesystem::path output;
  size_t bytes = 0;
};

// Which kind PATH is: a face set (faceset.json), a run (manifest.json or checkpoints/, as `facetrain
// verify` decides) or a swap output directory (swap-manifest.*.json). Throws MissingInputError (66)
// when PATH does not exist, InputDataError (65) when it is none of them.
ReportKind report_kind(const std::filesystem::path& path);

// Writes the page for PATH to `output` (empty: PATH/report.html) atomically. Throws as
// report_kind, and OutputError (73) / IoError (74) naming the output when it cannot be written.
WrittenReport write_report(const std::filesystem::path& path, const std::filesystem::path& output);

}  // namespace facetrain::report
