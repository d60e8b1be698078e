#pragma once
// Modules (start fast on the farm): the facetrain executable links neither LibTorch nor the media and
// face libraries. `extract` loads libfacetrain-extract.so (dlib, FFmpeg, OpenColorIO); `train` and
// `swap` load libfacetrain-torch.so (LibTorch, CUDA, NCCL); and media loads libfacetrain-oiio.so
// (OpenImageIO) on the first image sequence or still image. `--version`, `--help` and `verify`
// load none of them.
//
// A module is found beside libfacetrain_base.so, which holds this loader (build/lib/ in the build
// tree; lib/facetrain/ installed). It exports one C function returning its API table; the table
// starts with its size and the facetrain version it was built with, so a module from another build is
// refused instead of called.
#include <filesystem>
#include <string>
#include <vector>

namespace facetrain {

struct ModuleHeader {
  unsigned api_size;                // sizeof the module's API table, as the module was compiled
  const char* facetrain_version;    // FACETRAIN_VERSION the module was compiled with
};

// dlopen()s lib<file_stem>.so (RTLD_NOW | RTLD_LOCAL, once per process) and returns what its
// `entry_symbol` function returns. Throws UnavailableError (69) naming the file and dlerror()'s
// reason when the module is missing, cannot be loaded, lacks the entry, or comes from another build.
const void* load_module_api(const std::string& file_stem, const char* entry_symbol, unsigned expected_api_size);

// Where load_module_api looks for lib<file_stem>.so, in order.
std::vector<std::filesystem::path> module_search_paths(const std::string& file_stem);

}  // namespace facetrain
