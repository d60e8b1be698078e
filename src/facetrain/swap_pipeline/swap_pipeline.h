#pragma once
// `facetrain swap`: plate frames + their alignments + a trained model -> frames with the actor's
// face, composited only inside the matte (docs/design.md §1, §4.3, §7).
#include "facetrain/base/progress.h"
#include "facetrain/jobs/swap_job.h"
#include "facetrain/quality/face_scorer.h"

namespace facetrain {

// Every selected frame of the chunk is written (frames without faces unchanged, alpha 0), each
// atomically. The output depends only on (frame, model, job), never on the chunking or on the
// order of processing. The asked frames (job.frames, then chunk I of N of them) are held to the plate
// before the model is loaded (media/frame_selection.h): frames it does not have are InputDataError
// (65) unless job.on_missing is skip, and a chunk without any of them is 65 either way; a movie plate
// that ends before the frames its header counts is found at its end (frames written before are
// complete; a movie output is not finished). Errors: ConfigError (78) for a model/face-set mismatch, InputDataError (65)
// for a corrupt checkpoint or a plate that is not the face set's source (unless job.force),
// OutputError (73) for an output that cannot be created, UnavailableError (69) for --device cuda
// without a GPU.
// `open_scorer` opens the quality scores' face models (job.quality.enabled).
SwapReport run_swap(const SwapJob& job, ProgressSink& progress, const FaceScorerFactory& open_scorer);

}  // namespace facetrain
