#include "facetrain/face/face_types.h"

#include "facetrain/base/error.h"

namespace facetrain {

FaceType face_type_from_string(const std::string& name) {
  if (name == "full") return FaceType::full;
  if (name == "whole") return FaceType::whole;
  if (name == "head") return FaceType::head;
  throw UsageError("unknown face type '" + name + "' (expected one of: full, whole, head)");
}

const char* to_string(FaceType type) {
  switch (type) {
    case FaceType::full: return "full";
    case FaceType::whole: return "whole";
    case FaceType::head: return "head";
  }
  return "unknown";
}

}  // namespace facetrain
