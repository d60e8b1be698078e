#pragma once
// The optional adversarial term of training (YAML `adversarial:`, issue 27): a patch discriminator
// (src/facetrain/model/patch_discriminator.h) learns to tell the actor's real faces from the model's
// reconstructions of them, inside the face mask, and the model is pushed, at a low weight, towards
// what it calls real: DeepFaceLab's "GAN power", for the fine texture that the pixel losses average
// away. The actor's side only (the side a swap renders), as DeepFaceLab does. Started late in a run,
// when the faces are already learnt; off (weight 0) unless a measurement says otherwise
// (docs/train.md). Torch-free: the CLI reads and validates it before LibTorch is loaded.
namespace facetrain {

struct AdversarialConfig {
  double weight = 0.0;          // the generator's adversarial loss weight (DFL's gan_power: 0.1); 0 = off
  double start_fraction = 0.8;  // on from this fraction of the run (max_steps, else max_time_s); 0 = from
                                // the first step, with or without a limit; > 0 needs a limit to start
  double lr = 1e-4;             // the discriminator's Adam rate (betas 0.5 / 0.999, the model's clip norm)
  int dims = 16;                // the discriminator's first width (DFL's gan_dims): dims, 2 dims, ... <= 8 dims
  int patch_px = 0;             // the receptive field it judges at least; 0 = resolution / 8 (DFL's patch)
};

}  // namespace facetrain
