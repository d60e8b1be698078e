#pragma once
// What a swap output holds (docs/design.md §4.3), for compositors:
//   full frame: the finished frame. EXR: RGB, alpha 1 (OpenEXR alpha is associated, so the frame
//               covers what it is merged over) and the matte in a channel of its own, matte.A (Nuke:
//               layer "matte", channel matte.alpha). PNG and TIFF: the matte as unassociated
//               (straight) alpha, PNG's only kind and declared as such in TIFF. ProRes 4444: straight.
//   element:    the swapped face alone, premultiplied by the matte (RGB*A, A = matte), exactly 0
//               outside it, to comp over the plate (or a graded plate) by the artist. PNG and
//               ProRes 4444 hold only straight alpha: there RGB is the face's colour (RGB*A on read).
#include <string>

namespace facetrain {

enum class OutputKind { full_frame, element };

// "full-frame" or "element"; UsageError naming the choices otherwise.
OutputKind parse_output_kind(const std::string& text);
// "full-frame" / "element": as written into file headers and manifests.
const char* output_kind_name(OutputKind kind);

}  // namespace facetrain
