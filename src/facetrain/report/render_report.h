#pragma once
// The report page of a render (a `facetrain swap` output directory; OUTPUT_DIR/report.html by
// default): the quality scores each rendered frame recorded (swap manifests' "quality") as charts,
// a strip of plate | swap | matte review frames (from --review) spread over the render, what
// `facetrain verify` says of the directory, and the render's provenance (plate, checkpoint,
// chunks). Reads only: nothing of the render is changed.
#include <filesystem>
#include <string>

namespace facetrain::report {

// The page for swap output directory `directory`, as it will sit at `output`. Runs the same checks
// as `facetrain verify` (every file against its SHA-256). Throws MissingInputError (66) when the
// directory is missing, InputDataError (65) when it holds no swap manifest.
std::string render_render_report(const std::filesystem::path& directory, const std::filesystem::path& output);

}  // namespace facetrain::report
