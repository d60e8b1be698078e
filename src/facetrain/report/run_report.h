#pragma once
// The report page of a training run (RUN/report.html by default): loss and validation curves over
// steps and training time, every preview sheet (newest first, click to enlarge), the effective
// configuration, the manifest (versions, seed, face-set and base-model hashes, devices, world
// size) and the cost (device-hours, images/s, time to the target loss). `facetrain train` rewrites
// it at every preview; `facetrain report RUN` writes it at any time, during training too. Reads
// only: nothing of the run is changed.
#include <filesystem>
#include <string>

namespace facetrain::report {

class PictureCache;

// The page for run directory `run`, as it will sit at `output` (links to the run's files are
// relative to it). `pictures` may be null (nothing is kept between calls).
std::string render_run_report(const std::filesystem::path& run, const std::filesystem::path& output,
                              PictureCache* pictures);

// Renders and writes the page atomically. Throws MissingInputError (66) when `run` is missing,
// OutputError (73) / IoError (74) naming `output` when it cannot be written.
void write_run_report(const std::filesystem::path& run, const std::filesystem::path& output, PictureCache* pictures);

}  // namespace facetrain::report
