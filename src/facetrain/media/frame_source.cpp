// open_frame_source(): picks the image-sequence or the movie reader for an input path.
#include "facetrain/media/frame_source.h"
#include "facetrain/base/file_extension.h"

#include "facetrain/media/source_factories.h"
#include "facetrain/media/oiio_module.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sequence_pattern.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <system_error>

namespace facetrain {

bool is_still_image_extension(const std::filesystem::path& path) {
  static const std::array<const char*, 14> kExtensions = {".exr", ".dpx", ".cin", ".tif", ".tiff", ".png", ".jpg",
                                                          ".jpeg", ".bmp", ".tga", ".sgi", ".hdr", ".webp", ".jp2"};
  const std::string ext = lower_case_extension(path);
  return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

std::unique_ptr<FrameSource> open_frame_source(const std::string& input, const FrameSourceOptions& options) {
  if (input.empty()) throw MissingInputError("input path is empty");
  std::error_code ec;
  const auto literal_status = std::filesystem::status(input, ec);

  // A name holding a frame token is a sequence, unless a file of exactly that name exists
  // (`take@2.mov` is a movie when it is there).
  auto pattern = SequencePattern::parse(input);
  if (pattern && !std::filesystem::is_regular_file(literal_status)) {
    auto frames = pattern->scan();
    if (frames.empty()) {
      throw MissingInputError(fmt::format("{}: no files match this image-sequence pattern", input));
    }
    SequencePattern captured = *pattern;
    return oiio_module().open_image_sequence_source(
        input, std::move(frames), [captured](int64_t frame) { return captured.format(frame); }, true, options);
  }

  if (!std::filesystem::exists(literal_status)) {
    throw MissingInputError(fmt::format("{}: no such file", input));
  }
  if (!std::filesystem::is_regular_file(literal_status)) {
    throw InputDataError(fmt::format("{}: not a regular file (only local files are read)", input));
  }
  if (is_still_image_extension(input)) {
    std::map<int64_t, std::filesystem::path> frames{{options.start_frame, std::filesystem::path(input)}};
    return oiio_module().open_image_sequence_source(
        input, std::move(frames), [input](int64_t) { return input; }, false, options);
  }
  if (!options.colorspace.empty())
    log_debug("{}: --colorspace: a movie's detection proxy uses its own colour matrix (the crops follow --encoding)", input);
  return open_video_source(input, options);
}

}  // namespace facetrain
