#pragma once
// Synthetic occluders with exact ground truth, for training the visible-face matte without labels
// (issue 24). An occluder is an alpha map A (soft at its edges, optionally motion-blurred) and a
// colour C; it is composited over an aligned face crop, out = face * (1 - A) + C * A, and the crop's
// visible face becomes face_region * (1 - A). Plain loops on small crops; no LibTorch.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace facetrain {

enum class OccluderKind {
  plate_patch,   // a region cut from the plate's own non-face areas or another frame's crop
  thin_prop,     // a microphone, a stick, a glass edge, a sword hilt: a long thin bar across the face
  hand,          // a palm and fingers in the face's own skin tones (the hardest: skin over skin)
  hair,          // strands falling over the face
};
inline constexpr int kOccluderKindCount = 4;
const char* to_string(OccluderKind kind);

// One aligned crop: `size` x `size`, RGB interleaved in [0, 1], and where the face is (the landmark
// hull, [0, 1]).
struct CropSample {
  int size = 0;
  const float* rgb = nullptr;
  const float* face_region = nullptr;
};

struct SynthesizedOcclusion {
  std::vector<float> rgb;       // size * size * 3: the crop with the occluder in front
  std::vector<float> occluder;  // size * size: its alpha A
  std::vector<float> visible;   // size * size: face_region * (1 - A), the matte to learn
  OccluderKind kind = OccluderKind::plate_patch;
};

// Puts one occluder of `kind` in front of `face`, overlapping its face region. `other` is another
// crop of the same plate (another frame or face): plate patches take their pixels from it (outside
// its face region where it has enough), the other kinds a texture. Deterministic for a given rng state.
SynthesizedOcclusion synthesize_occlusion(const CropSample& face, const CropSample& other, OccluderKind kind,
                                          std::mt19937_64& rng);

}  // namespace facetrain
