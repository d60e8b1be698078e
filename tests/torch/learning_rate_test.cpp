// The learning-rate schedule, the run fraction and the sharpening phase (issue 27): pure functions of
// the step and the training time, which checkpoints record.
#include <catch2/catch.hpp>

#include "facetrain/jobs/train_config.h"
#include "facetrain/train/learning_rate.h"

using namespace facetrain;

namespace {

OptimizerConfig cosine(double lr, int64_t warmup, double floor) {
  OptimizerConfig o;
  o.lr = lr;
  o.warmup_steps = warmup;
  o.lr_schedule = "cosine";
  o.lr_floor = floor;
  return o;
}

}  // namespace

TEST_CASE("learning rate: warm-up, then constant", "[unit][train]") {
  OptimizerConfig o = cosine(1e-3, 10, 0.1);
  o.lr_schedule = "constant";
  CHECK(learning_rate_at(o, 100, 0, 0) == Approx(1e-4));
  CHECK(learning_rate_at(o, 100, 4, 0) == Approx(5e-4));
  CHECK(learning_rate_at(o, 100, 9, 0) == Approx(1e-3));
  CHECK(learning_rate_at(o, 100, 99, 0.99) == Approx(1e-3));
  CHECK(learning_rate_at(o, 0, 5000, 0.5) == Approx(1e-3));
}

TEST_CASE("learning rate: the cosine runs from the warm-up's end to max_steps, down to the floor", "[unit][train]") {
  const OptimizerConfig o = cosine(1e-3, 10, 0.1);
  CHECK(learning_rate_at(o, 110, 0, 0) == Approx(1e-4));  // warm-up as before
  CHECK(learning_rate_at(o, 110, 10, 0) == Approx(1e-3));  // the peak where the warm-up ends
  CHECK(learning_rate_at(o, 110, 60, 0) == Approx(0.55e-3));  // half way: the mean of peak and floor
  CHECK(learning_rate_at(o, 110, 110, 0) == Approx(1e-4));  // the floor at max_steps
  CHECK(learning_rate_at(o, 110, 500, 0) == Approx(1e-4));  // and after it (a run extended on resume)
  // By steps, the fraction argument does not count: the schedule is a function of the step alone.
  CHECK(learning_rate_at(o, 110, 60, 0.9) == learning_rate_at(o, 110, 60, 0.1));
  // Monotone after the warm-up.
  for (int64_t step = 10; step < 110; ++step) CHECK(learning_rate_at(o, 110, step + 1, 0) <= learning_rate_at(o, 110, step, 0));
  // A floor of 0 ends at 0; with max_steps within the warm-up (a run extended on resume) the
  // cosine drops to the floor one step after the warm-up's end.
  CHECK(learning_rate_at(cosine(1e-3, 10, 0), 110, 110, 0) == Approx(0).margin(1e-15));
  CHECK(learning_rate_at(o, 5, 11, 0) == Approx(1e-4));
}

TEST_CASE("learning rate: with a time limit alone the cosine follows the time fraction", "[unit][train]") {
  const OptimizerConfig o = cosine(1e-3, 10, 0.1);
  CHECK(learning_rate_at(o, 0, 500, 0.0) == Approx(1e-3));
  CHECK(learning_rate_at(o, 0, 500, 0.5) == Approx(0.55e-3));
  CHECK(learning_rate_at(o, 0, 500, 1.0) == Approx(1e-4));
  CHECK(learning_rate_at(o, 0, 5, 0.5) == Approx(0.55e-3 * 0.6));  // still warming up: both factors
}

TEST_CASE("run fraction: by steps, else by training time over max_time_s, else 0", "[unit][train]") {
  TrainConfig c;
  CHECK(run_fraction(c, 500, 100) == 0);
  c.max_time_s = 200;
  CHECK(run_fraction(c, 500, 50) == Approx(0.25));
  CHECK(run_fraction(c, 500, 900) == 1);  // a run resumed past its time stays at the end
  c.max_steps = 1000;
  CHECK(run_fraction(c, 500, 199) == Approx(0.5));  // steps first
  CHECK(run_fraction(c, 1500, 0) == 1);
}

TEST_CASE("random warp off: the last fraction of the run, never without an end", "[unit][train]") {
  TrainConfig c;
  c.augment.random_warp_off_fraction = 0.25;
  CHECK_FALSE(random_warp_off_at(c, 0.9));  // no limit: no end to count from
  c.max_steps = 100;
  CHECK_FALSE(random_warp_off_at(c, 0.74));
  CHECK(random_warp_off_at(c, 0.75));
  CHECK(random_warp_off_at(c, 1.0));
  c.augment.random_warp_off_fraction = 0;
  CHECK_FALSE(random_warp_off_at(c, 1.0));
}

TEST_CASE("adversarial term: off at weight 0, on from start_fraction, from the first step at 0", "[unit][train]") {
  TrainConfig c;
  c.max_steps = 100;
  CHECK_FALSE(adversarial_on_at(c, 0.99));  // weight 0 (the default): never
  c.adversarial.weight = 0.1;
  c.adversarial.start_fraction = 0.8;
  CHECK_FALSE(adversarial_on_at(c, 0.79));
  CHECK(adversarial_on_at(c, 0.8));
  CHECK(adversarial_on_at(c, 1.0));
  c.max_steps = 0;  // no end known: a late start never comes
  CHECK_FALSE(adversarial_on_at(c, 0.9));
  c.max_time_s = 60;
  CHECK(adversarial_on_at(c, 0.9));
  c.max_time_s = 0;
  c.adversarial.start_fraction = 0;  // from the first step, with or without an end
  CHECK(adversarial_on_at(c, 0));
}
