#pragma once
// The API of libfacetrain-oiio.so (see module_loader.h): the parts of src/facetrain/media that need
// OpenImageIO (image sequences: EXR, DPX, TIFF, PNG, JPEG...; reading still images). OpenImageIO
// and what it links (260 libraries: OpenCV, GDAL, codecs) cost about 0.3 s to load, so a movie plate
// is extracted without them; media loads this module on the first sequence or still image.
#include "facetrain/media/frame_source.h"
#include "facetrain/base/image.h"
#include "facetrain/base/module_loader.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace facetrain {

using SequenceFrames = std::map<int64_t, std::filesystem::path>;
using FrameFileNamer = std::function<std::string(int64_t)>;

// Implemented in the module (image_sequence_source.cpp, oiio_image_read.cpp); reached through
// oiio_module() everywhere else.
std::unique_ptr<FrameSource> open_image_sequence_source_oiio(const std::string& display_path, SequenceFrames frames,
                                                             FrameFileNamer path_of_frame, bool is_sequence,
                                                             const FrameSourceOptions& options);
Rgb8Image read_rgb8_oiio(const std::filesystem::path& path);

struct OiioModuleApi {
  ModuleHeader header;
  decltype(&open_image_sequence_source_oiio) open_image_sequence_source;
  decltype(&read_rgb8_oiio) read_rgb8;
};

#define FACETRAIN_OIIO_MODULE_ENTRY "facetrain_oiio_module_api"

// Loads the module on first use; throws UnavailableError (69) when it cannot.
const OiioModuleApi& oiio_module();

}  // namespace facetrain
