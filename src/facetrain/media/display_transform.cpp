#include "facetrain/media/display_transform.h"

#include "facetrain/base/error.h"

#include "facetrain/media/ocio_support.h"

#include <fmt/format.h>

namespace facetrain {

struct DisplayTransform::Impl {
  OCIO::ConstCPUProcessorRcPtr processor;
};

DisplayTransform::DisplayTransform(const std::string& config_path, const std::string& colorspace)
    : impl_(std::make_unique<Impl>()) {
  const std::string what = "--colorspace " + colorspace;
  const LoadedOcioConfig loaded = load_ocio_config(config_path, what);
  require_colorspace(loaded, colorspace, what);
  const std::string& path = loaded.identity.path;
  try {
    const OCIO::ConstConfigRcPtr& config = loaded.config;
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
