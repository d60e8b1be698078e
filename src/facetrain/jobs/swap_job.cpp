#include "facetrain/jobs/swap_job.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>

namespace facetrain {

MatteMode parse_matte_mode(const std::string& text) {
  if (text == "mask") return MatteMode::mask;
  if (text == "hull") return MatteMode::hull;
  if (text == "both") return MatteMode::both;
  if (text == "visible") return MatteMode::visible;
  if (text == "auto") return MatteMode::automatic;
  throw UsageError(fmt::format("--matte {}: use auto, visible, mask, hull or both", text));
}

ColorMode parse_color_mode(const std::string& text) {
  if (text == "none") return ColorMode::none;
  if (text == "rct") return ColorMode::rct;
  if (text == "lct") return ColorMode::lct;
  if (text == "hist") return ColorMode::hist;
  throw UsageError(fmt::format("--color {}: use none, rct, lct or hist", text));
}

}  // namespace facetrain
