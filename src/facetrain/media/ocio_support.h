#pragma once
// Internal to src/facetrain/media (display_transform.cpp, network_encoding.cpp): reading an
// OpenColorIO config once per path, with its identity, and OpenColorIO's own messages routed into
// facetrain's log (library code never prints).
#include "facetrain/faceset/network_encoding_record.h"

#include <OpenColorIO/OpenColorIO.h>

#include <string>

namespace facetrain {

namespace OCIO = OCIO_NAMESPACE;

struct LoadedOcioConfig {
  OCIO::ConstConfigRcPtr config;
  OcioConfigIdentity identity;
};

// `path` empty: $OCIO. `what` names the option that needs it in messages ("--colorspace ACEScg").
// Throws ConfigError (78) when there is no config or it cannot be read, naming the file.
LoadedOcioConfig load_ocio_config(const std::string& path, const std::string& what);

// Throws ConfigError naming the config and some of its colour spaces when `name` is not one of them.
void require_colorspace(const LoadedOcioConfig& loaded, const std::string& name, const std::string& what);

}  // namespace facetrain
