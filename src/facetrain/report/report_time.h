#pragma once
#include <string>

namespace facetrain::report {

// The current time as "2026-11-24 19:17 UTC", for a page's "written at".
std::string utc_timestamp();

}  // namespace facetrain::report
