#pragma once
// `facetrain matte train` (issue 24): learns a shot's visible-face matte from its own face set.
// Without labels it learns from synthetic occluders with exact ground truth (occluder_synthesis.h)
// put on the faces whose detection is confident; with an artist's mattes (label_mattes.h) those
// faces weigh more. Held-out faces measure it per occluder kind against the landmark hull.
#include "facetrain/base/progress.h"
#include "facetrain/jobs/matte_job.h"

namespace facetrain {

// Throws MissingInputError (66) / InputDataError (65) for the face set and the labels (label frames
// the face set does not have, named; labels of another size than the plate; unreadable labels),
// UsageError (64) for bad options, OutputError/IoError writing the model. Nothing is written before
// the model is complete.
MatteTrainReport run_matte_train(const MatteTrainJob& job, ProgressSink& progress);

}  // namespace facetrain
