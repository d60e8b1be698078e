// One alignments line (faces/*.jsonl): hostile JSON is refused with InputDataError, never a crash,
// a hang or an allocation bomb; what is accepted survives a write/read round trip unchanged.
#include "facetrain/base/error.h"
#include "facetrain/faceset/faceset.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string line(reinterpret_cast<const char*>(data), size);
  facetrain::FrameRecord record;
  try {
    record = facetrain::frame_record_from_json_line(line, "fuzz:1");
  } catch (const facetrain::InputDataError&) {
    return 0;
  }
  if (record.faces.size() > facetrain::kMaxFacesPerFrame) std::abort();
  for (const auto& face : record.faces)
    if (face.crop.find("..") != std::string::npos || face.crop.rfind("faces/", 0) != 0) std::abort();
  const std::string written = facetrain::frame_record_to_json_line(record);
  const facetrain::FrameRecord again = facetrain::frame_record_from_json_line(written, "fuzz:2");
  if (facetrain::frame_record_to_json_line(again) != written) std::abort();
  return 0;
}
