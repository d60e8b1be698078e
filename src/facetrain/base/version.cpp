#include "facetrain/base/version.h"
namespace facetrain {
const char* version_string() { return FACETRAIN_VERSION; }
}  // namespace facetrain
