#pragma once
// Internal to src/facetrain/media: the concrete frame sources behind open_frame_source().
#include "facetrain/media/frame_source.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace facetrain {

// A movie file read through libav*. `path` must name an existing regular file.
std::unique_ptr<FrameSource> open_video_source(const std::string& path, const FrameSourceOptions& options);

// Image files (one frame per file) are read through OpenImageIO in libfacetrain-oiio.so:
// oiio_module().open_image_sequence_source (src/facetrain/media/oiio_module.h).

// True for file extensions that are still images (read as a one-frame sequence when given
// without a frame token): .exr .dpx .tif .tiff .png .jpg .jpeg ...
bool is_still_image_extension(const std::filesystem::path& path);

}  // namespace facetrain
