// media's side of libfacetrain-oiio.so: loaded on first use.
#include "facetrain/media/oiio_module.h"

namespace facetrain {

const OiioModuleApi& oiio_module() {
  return *static_cast<const OiioModuleApi*>(
      load_module_api("facetrain-oiio", FACETRAIN_OIIO_MODULE_ENTRY, sizeof(OiioModuleApi)));
}

}  // namespace facetrain
