#include "facetrain/base/duration.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>

#include <cmath>

namespace facetrain {

double parse_duration_seconds(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  const std::string unit = used > 0 ? text.substr(used) : "";
  const double scale = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
  if (used == 0 || scale == 0 || !std::isfinite(value) || value <= 0 || value * scale > 1e9)
    throw UsageError(fmt::format("bad duration '{}': a positive number with a unit s, m, h or d (90s, 45m, 6h)", text));
  return value * scale;
}

}  // namespace facetrain
