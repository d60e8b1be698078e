#pragma once
// dlib's face-recognition network (dlib_face_recognition_resnet_model_v1.dat) as a dlib type, for
// dlib_face_scorer.cpp and the test that holds it to dlib's own pipeline. Includes <dlib/dnn.h>:
// only those two translation units may include this header.
#include <dlib/dnn.h>

namespace facetrain::dlib_identity {

// dlib's face-recognition network: a ResNet-34-like metric network whose layer types must match
// dlib_face_recognition_resnet_model_v1.dat exactly for deserialization. Layers are written as
// dlib's templates compose them: a residual unit adds its input (tag1) to two 3x3 convolutions
// with affine (frozen batch-norm) layers; a down-sampling unit halves the input with a 2x2 average
// pool (skip1 -> tag2) and the convolutions with stride 2.
template <int N, template <typename> class BN, int stride, typename SUBNET>
using conv_pair = BN<dlib::con<N, 3, 3, 1, 1, dlib::relu<BN<dlib::con<N, 3, 3, stride, stride, SUBNET>>>>>;

template <template <int, template <typename> class, int, typename> class Block, int N,
          template <typename> class BN, typename SUBNET>
using residual = dlib::add_prev1<Block<N, BN, 1, dlib::tag1<SUBNET>>>;

template <template <int, template <typename> class, int, typename> class Block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down =
    dlib::add_prev2<dlib::avg_pool<2, 2, 2, 2, dlib::skip1<dlib::tag2<Block<N, BN, 2, dlib::tag1<SUBNET>>>>>>;

template <int N, typename SUBNET>
using unit = dlib::relu<residual<conv_pair, N, dlib::affine, SUBNET>>;
template <int N, typename SUBNET>
using unit_down = dlib::relu<residual_down<conv_pair, N, dlib::affine, SUBNET>>;

template <typename SUBNET> using stage256_in = unit_down<256, SUBNET>;
template <typename SUBNET> using stage256 = unit<256, unit<256, unit_down<256, SUBNET>>>;
template <typename SUBNET> using stage128 = unit<128, unit<128, unit_down<128, SUBNET>>>;
template <typename SUBNET> using stage64 = unit<64, unit<64, unit<64, unit_down<64, SUBNET>>>>;
template <typename SUBNET> using stage32 = unit<32, unit<32, unit<32, SUBNET>>>;

using IdentityNet = dlib::loss_metric<dlib::fc_no_bias<128, dlib::avg_pool_everything<
    stage256_in<stage256<stage128<stage64<stage32<
    dlib::max_pool<3, 3, 2, 2, dlib::relu<dlib::affine<dlib::con<32, 7, 7, 2, 2,
    dlib::input_rgb_image_sized<150>>>>>>>>>>>>>;

// The chip dlib's pipeline cuts for it: get_face_chip_details(landmarks, 150, 0.25).
inline constexpr unsigned long kIdentityChipSizePx = 150;
inline constexpr double kIdentityChipPadding = 0.25;

}  // namespace facetrain::dlib_identity
