#include "facetrain/media/display_transform.h"

#include "facetrain/base/error.h"

#include <OpenColorIO/OpenColorIO.h>
#include <fmt/format.h>

#include <cstdlib>

namespace OCIO = OCIO_NAMESPACE;

namespace facetrain {

struct DisplayTransform::Impl {
  OCIO::ConstCPUProcessorRcPtr processor;
};

DisplayTransform::DisplayTransform(const std::string& config_path, const std::string& colorspace)
    : impl_(std::make_unique<Impl>()) {
  std::string path = config_path;
  if (path.empty()) {
    const char* env = std::getenv("OCIO");
    if (!env || !*env)
      throw ConfigError(fmt::format("--colorspace {}: no OpenColorIO config (set $OCIO or give --ocio-config FILE)", colorspace));
    path = env;
  }
  try {
    OCIO::ConstConfigRcPtr config = OCIO::Config::CreateFromFile(path.c_str());
    if (!config->getColorSpace(colorspace.c_str())) {
      std::string names;
      const int count = config->getNumColorSpaces();
      for (int i = 0; i < count && i < 12; ++i) names += (i ? ", " : "") + std::string(config->getColorSpaceNameByIndex(i));
      if (count > 12) names += ", ...";
      throw ConfigError(fmt::format("--colorspace {}: not a colour space of {} ({})", colorspace, path, names));
    }
    const char* display = config->getDefaultDisplay();
    const char* view = config->getDefaultView(display);
    auto transform = OCIO::DisplayViewTransform::Create();
    transform->setSrc(colorspace.c_str());
    transform->setDisplay(display);
    transform->setView(view);
    impl_->processor = config->getProcessor(transform)->getDefaultCPUProcessor();
    description_ = fmt::format("{} -> {}/{} ({})", colorspace, display, view, path);
  } catch (const OCIO::Exception& e) {
    throw ConfigError(fmt::format("--colorspace {} with OpenColorIO config {}: {}", colorspace, path, e.what()));
  }
}

DisplayTransform::~DisplayTransform() = default;

void DisplayTransform::apply(float* rgb, size_t pixel_count) const {
  OCIO::PackedImageDesc image(rgb, static_cast<long>(pixel_count), 1, 3);
  impl_->processor->apply(image);
}

}  // namespace facetrain
