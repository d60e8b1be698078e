#pragma once
// What `facetrain --version` prints: the version, what it was built with (recorded at build time),
// and the GPUs the CUDA driver shows. Loads no module.
#include <string>

namespace facetrain::cli {

std::string version_text();

}  // namespace facetrain::cli
