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

// Image files read through OpenImageIO, one frame per file. `frames` maps plate frame numbers to
// files (non-empty); numbers between the first and last key that have no file are missing frames.
// `display_path` is what error messages and SourceInfo::path show (the pattern as the user gave it).
std::unique_ptr<FrameSource> open_image_sequence_source(const std::string& display_path,
                                                        std::map<int64_t, std::filesystem::path> frames,
                                                        std::function<std::string(int64_t)> path_of_frame,
                                                        bool is_sequence, const FrameSourceOptions& options);

// True for file extensions that are still images (read as a one-frame sequence when given
// without a frame token): .exr .dpx .tif .tiff .png .jpg .jpeg ...
bool is_still_image_extension(const std::filesystem::path& path);

}  // namespace facetrain
