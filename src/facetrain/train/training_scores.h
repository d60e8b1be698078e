#pragma once
// Quality scores while training (issue 12), for metrics.jsonl, TensorBoard and the report page:
//   reconstruction  each identity's held-out faces through its own decoder against the faces
//                   themselves, inside their masks: SSIM (multi-scale too at >= 256 px) and PSNR;
//   identity        the swapped preview faces (the double's faces through the actor's decoder)
//                   against the actor's and the double's reference descriptors, which are made once
//                   per run from the training faces of each face set and recorded in checkpoints
//                   (state.json "identity_reference"), so that swap scores against the same ones.
#include "facetrain/quality/face_scorer.h"
#include "facetrain/quality/identity_scores.h"
#include "facetrain/train/face_pack.h"

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <string>

namespace facetrain {

// Mean scores of output vs target (float [N,3,R,R] in 0..1) weighted by mask (float [N,1,R,R]),
// under keys prefix + "ssim", "ms_ssim" (resolution >= 256 only), "psnr_db", and
// "checkerboard_ratio": the output's energy at the 2- and 4-pixel periods of the decoder's pixel
// shuffles over the targets' (quality/checkerboard.h), summed over the faces; 1 = as the real faces;
// "sharpness_ratio": the output's Laplacian energy inside the masks over the targets' (quality/
// sharpness.h), summed over the faces: below 1 blurrier than the real faces.
nlohmann::json reconstruction_metrics(const at::Tensor& output, const at::Tensor& target, const at::Tensor& mask,
                                      const std::string& prefix);

// Descriptors of faces (float [N,3,R,R] in 0..1 or uint8) with their landmarks (float [N,68,2],
// crop pixels), as dlib's pipeline cuts them.
std::vector<FaceDescriptor> face_descriptors(FaceScorer& scorer, const at::Tensor& images, const at::Tensor& landmarks);

// Expression kept through the swap: each swapped face (float [N,3,R,R]) against the face it was made
// from (`originals`), both refitted by the scorer's landmark model in the box of the original's
// landmarks (float [N,68,2], crop pixels), as `swap` scores it (landmark_error_iod: RMS over the
// inter-ocular distance); the mean under prefix + "landmark_error". Empty with a 5-point model.
nlohmann::json expression_metrics(FaceScorer& scorer, const at::Tensor& swapped, const at::Tensor& originals,
                                  const at::Tensor& landmarks, const std::string& prefix);

// The two references: the mean descriptor of up to `max_faces` training faces of each pack, spread
// over its training slice.
IdentityReference make_identity_reference(FaceScorer& scorer, const FacePack& actor, const FacePack& double_,
                                          int max_faces);

// Identity of faces against the references, as metrics: prefix + "to_actor", "to_double" (mean
// distances), "closer_to_actor", "same_as_actor" (shares).
nlohmann::json identity_metrics(const std::vector<FaceDescriptor>& faces, const IdentityReference& reference,
                                const std::string& prefix);

}  // namespace facetrain
