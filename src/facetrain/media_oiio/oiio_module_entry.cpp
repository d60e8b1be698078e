// libfacetrain-oiio.so's entry (see module_loader.h).
#include "facetrain/media/oiio_module.h"

extern "C" __attribute__((visibility("default"))) const void* facetrain_oiio_module_api() {
  static const facetrain::OiioModuleApi api{
      {sizeof(facetrain::OiioModuleApi), FACETRAIN_VERSION},  // this module's build
      &facetrain::open_image_sequence_source_oiio,
      &facetrain::read_rgb8_oiio,
  };
  return &api;
}
