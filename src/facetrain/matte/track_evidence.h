#pragma once
// What a face's track says about each pixel of its hull, without labels (issue 24): where the hull
// target ("all of this is face") can be trusted, and where something crossed in front of the face.
// Compares each aligned crop with looks of the same face in other frames; used by `matte train`.
#include "facetrain/faceset/usable_faces.h"
#include "facetrain/matte/matte_faces.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace facetrain {

using FaceTracks = std::vector<std::vector<int64_t>>;

// The rows 0..n-1 of `usable.faces`, grouped by track (source, track id), each group in frame order.
FaceTracks faces_by_track(const UsableFaces& usable, int64_t n);

// How far each face's hull target can be trusted, per pixel: 1 where the aligned crop looks like its
// track's median over +-12 frames, 0 where it departs from it by a lot (mean of R, G, B over 0.12,
// in 5 px support). A hand passing in front departs; so do a blink or an open mouth, which is only
// less to learn from. Tracks under 5 faces: all trusted. float [N,R,R]
at::Tensor moving_look_trust(const FaceTracks& tracks, const MatteFaces& faces);

// Pixels of each face's hull that depart from its track's clean look: the median of the track's
// surest faces (the top quarter by `confidence`, at least 5, at most 200 to bound a long track's
// memory; a hand over the face scatters the landmark fit) by far more than those faces vary there
// (2.5 times their median absolute deviation, and at least 0.04), in blobs. A thumb held in front
// of the face for seconds departs from it while the moving median has made it part of the face.
// Where more than half of a hull departs, the face turned or the light changed: nothing departs. Tracks under 10 faces: nothing. float [N,R,R] each:
//   trust     1 - the departures with a 2 px margin for a blurred edge: to be left out of the loss,
//             since a face's own change (a wide-open mouth, a squint) departs too;
//   entering  the departures connected to the hull's outline: something that came in from outside
//             the face (a hand, a prop, hair), taught as occluder; a mouth or an eye changing lies
//             inside the face and is only left out.
struct CleanLookEvidence {
  at::Tensor trust;
  at::Tensor entering;
};
CleanLookEvidence clean_look_evidence(const FaceTracks& tracks, const MatteFaces& faces, const std::vector<double>& confidence);

// Real occluders found by their motion: hull pixels that depart from their track's median over +-30
// frames by 2.5 times that pixel's usual variation there (its median absolute deviation: a talking
// mouth varies, a cheek does not) and by at least 0.04, in blobs, not specks (an opening and a
// closing). A hand or a prop crossing the face moves relative to it. Where more than half of a hull
// departs (or under 1 %), nothing is marked. Tracks under 10 faces: none. float [N,R,R], 1 = occluder.
at::Tensor moving_occluders(const FaceTracks& tracks, const MatteFaces& faces);

}  // namespace facetrain
