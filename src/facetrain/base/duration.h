#pragma once
#include <string>
namespace facetrain {
// "90s", "45m", "6h", "1.5h", "2d" -> seconds. Throws UsageError naming the text.
double parse_duration_seconds(const std::string& text);
}  // namespace facetrain
