#include "facetrain/jobs/output_kind.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>

namespace facetrain {

OutputKind parse_output_kind(const std::string& text) {
  if (text == "full-frame") return OutputKind::full_frame;
  if (text == "element") return OutputKind::element;
  throw UsageError(fmt::format("--output-kind {}: use full-frame or element", text));
}

const char* output_kind_name(OutputKind kind) { return kind == OutputKind::element ? "element" : "full-frame"; }

}  // namespace facetrain
