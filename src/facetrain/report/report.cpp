#include "facetrain/report/report.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/report/faceset_report.h"
#include "facetrain/report/render_report.h"
#include "facetrain/report/run_report.h"

#include <fmt/format.h>

namespace facetrain::report {

namespace fs = std::filesystem;

const char* to_string(ReportKind kind) {
  switch (kind) {
    case ReportKind::run: return "run";
    case ReportKind::render: return "render";
    case ReportKind::faceset: return "faceset";
  }
  return "?";
}

ReportKind report_kind(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw MissingInputError(fmt::format("{}: no such file or directory", path.string()));
  if (!fs::is_directory(path, ec))
    throw InputDataError(fmt::format("{}: not a directory (report takes a run, a swap output directory or a face set)",
                                     path.string()));
  if (fs::exists(path / "faceset.json", ec)) return ReportKind::faceset;
  if (fs::exists(path / "manifest.json", ec) || fs::exists(path / "checkpoints", ec)) return ReportKind::run;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("swap-manifest.", 0) == 0 && entry.path().extension() == ".json") return ReportKind::render;
  }
  throw InputDataError(fmt::format("{}: neither a run (manifest.json, checkpoints/), a swap output directory "
                                   "(swap-manifest.*.json) nor a face set (faceset.json)", path.string()));
}

WrittenReport write_report(const fs::path& path, const fs::path& output) {
  WrittenReport written;
  written.kind = report_kind(path);
  written.output = output.empty() ? path / "report.html" : output;
  const std::string page = written.kind == ReportKind::run      ? render_run_report(path, written.output, nullptr)
                           : written.kind == ReportKind::render ? render_render_report(path, written.output)
                                                                : render_faceset_report(path, written.output);
  write_file_atomic(written.output, page);
  written.bytes = page.size();
  return written;
}

}  // namespace facetrain::report
