#pragma once
// `facetrain train`: fine-tunes a face-swap model on the actor's and the double's face sets.
// The CLI fills a TrainJob (facetrain/jobs/train_job.h) and calls the LibTorch module
// (torch_module.h in the composition root), whose entry calls run_train (trainer.cpp).
#include "facetrain/base/progress.h"
#include "facetrain/jobs/train_job.h"
#include "facetrain/quality/face_scorer.h"

namespace facetrain {

// Throws ConfigError (78) for bad configs and base-model shape mismatches, InputDataError (65) for
// unusable face sets and for a non-finite loss (naming the step and the term), UnavailableError (69)
// for a missing CUDA device, OutputError (73) when the run directory is held by another train.
// Distributed: ConfigError (78) when ranks disagree on config, face sets or version; TemporaryError
// (75) naming the lost rank when a peer dies or freezes. Rank 0 alone writes RUN.
// `open_scorer` opens the quality scores' face models (job.quality_scores, rank 0).
TrainReport run_train(const TrainJob& job, ProgressSink& progress, const FaceScorerFactory& open_scorer);

}  // namespace facetrain
