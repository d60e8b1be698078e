#!/usr/bin/env python3
"""Makes the scikit-image reference numbers of tests/unit/quality/image_similarity_test.cpp
("SSIM and PSNR match scikit-image's values for a fixed pair"), so that anyone can check where they
come from:

    .venv/bin/python tests/tools/ssim_reference.py     # scripts/setup.sh installs scikit-image there

The two 40x30 RGB patterns are the test's pattern_a and pattern_b, computed in float64 with the
same formulas and operation order, cast to float32 (as the C++ stores them), then compared as float64
copies. Prints one line per number the test checks.
"""
import numpy as np
import skimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def pattern_a(w, h):
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    return (0.5 + 0.4 * np.sin(0.3 * x + 0.2 * y + c)).astype(np.float32)


def pattern_b(w, h):
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    return (0.5 + 0.35 * np.sin(0.31 * x + 0.18 * y + c + 0.1) + 0.05 * np.cos(0.7 * x * y / w)).astype(np.float32)


def ssim(a, b, data_range):
    return structural_similarity(a, b, channel_axis=-1, data_range=data_range, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False)


a = pattern_a(40, 30).astype(np.float64)
b = pattern_b(40, 30).astype(np.float64)
print(f"scikit-image {skimage.__version__}")
print(f"ssim(a, b, 40, 30)            {float(ssim(a, b, 1.0))!r}")
print(f"ssim(a, b, 40, 30, {{}}, 2.0)   {float(ssim(a, b, 2.0))!r}")
print(f"psnr_db(a, b, 40, 30)         {float(peak_signal_noise_ratio(a, b, data_range=1.0))!r}")
