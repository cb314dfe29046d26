// Every scalar reference op against PyTorch (tests/data/ops, made by tools/gen_op_golden.py).

#include "../support.hpp"

using namespace mote;
using mote_test::check_golden;

TEST_CASE("Dense matches torch.nn.Linear", "[golden][dense]") {
  check_golden<Sequential<Input<7>, Dense<5>>>("dense");
}

TEST_CASE("Conv2D matches torch.nn.Conv2d", "[golden][conv2d]") {
  SECTION("3x3, padding 1 (Pad::same)") {
    check_golden<Sequential<Input<8, 8, 3>, Conv2D<4, Kernel<3>, Pad::same>>>("conv_same");
  }
  SECTION("valid, stride 2") {
    check_golden<Sequential<Input<9, 7, 2>, Conv2D<5, Kernel<3>, Stride<2>>>>("conv_valid_stride2");
  }
  SECTION("dilation 2, padding 2") {
    check_golden<Sequential<Input<10, 10, 3>, Conv2D<4, Kernel<3>, Dilation<2>, Padding<2>>>>("conv_dilation2");
  }
  SECTION("rectangular kernel, stride (2, 1)") {
    check_golden<Sequential<Input<9, 8, 2>, Conv2D<3, Kernel<3, 2>, Stride<2, 1>>>>("conv_rect_stride21");
  }
  SECTION("explicit asymmetric padding (top 1, left 0, bottom 2, right 1)") {
    check_golden<Sequential<Input<7, 6, 2>, Conv2D<3, Kernel<3>, Padding<1, 0, 2, 1>>>>("conv_explicit_pad");
  }
  SECTION("SAME padding with stride 2 (TensorFlow/ONNX SAME_UPPER)") {
    check_golden<Sequential<Input<9, 9, 2>, Conv2D<3, Kernel<3>, Stride<2>, Pad::same>>>("conv_same_stride2");
  }
}

TEST_CASE("Conv1D matches torch.nn.Conv1d", "[golden][conv1d]") {
  check_golden<Sequential<Input<12, 3>, Conv1D<4, 3, Padding<1>>>>("conv1d");
}

TEST_CASE("DepthwiseConv2D matches grouped torch.nn.Conv2d", "[golden][depthwise]") {
  SECTION("multiplier 1") {
    check_golden<Sequential<Input<8, 8, 4>, DepthwiseConv2D<Kernel<3>, Padding<1>>>>("depthwise");
  }
  SECTION("multiplier 2, stride 2") {
    check_golden<Sequential<Input<7, 7, 3>, DepthwiseConv2D<Kernel<3>, Multiplier<2>, Stride<2>, Padding<1>>>>(
        "depthwise_mult2_stride2");
  }
}

TEST_CASE("Pooling matches torch.nn pooling", "[golden][pool]") {
  SECTION("max 2") { check_golden<Sequential<Input<8, 8, 3>, MaxPool2D<2>>>("maxpool2"); }
  SECTION("max 3, stride 2") { check_golden<Sequential<Input<9, 9, 2>, MaxPool2D<3, Stride<2>>>>("maxpool3_stride2"); }
  SECTION("avg 2") { check_golden<Sequential<Input<8, 6, 3>, AvgPool2D<2>>>("avgpool2"); }
  SECTION("avg 3, stride 2, padding 1, padded taps not counted") {
    check_golden<Sequential<Input<9, 9, 2>, AvgPool2D<3, Stride<2>, Padding<1>>>>("avgpool3_stride2_pad1");
  }
  SECTION("global average") { check_golden<Sequential<Input<5, 4, 6>, GlobalAveragePool2D>>("global_avgpool"); }
}

TEST_CASE("Activations match torch.nn.functional", "[golden][activation]") {
  check_golden<Sequential<Input<4, 5, 6>, ReLU>>("relu");
  check_golden<Sequential<Input<4, 5, 6>, ReLU6>>("relu6");
  check_golden<Sequential<Input<4, 5, 6>, LeakyReLU>>("leaky_relu");
  check_golden<Sequential<Input<4, 5, 6>, Sigmoid>>("sigmoid");
  check_golden<Sequential<Input<4, 5, 6>, Tanh>>("tanh");
  check_golden<Sequential<Input<4, 5, 6>, HardSwish>>("hardswish");
  check_golden<Sequential<Input<4, 5, 6>, GELU>>("gelu");
  check_golden<Sequential<Input<10>, Softmax>>("softmax");
}

TEST_CASE("BatchNorm is folded into the preceding layer and matches PyTorch eval mode", "[golden][batchnorm]") {
  SECTION("Conv2D + BatchNorm2d") {
    using Net = Sequential<Input<6, 6, 3>, Conv2D<4, Kernel<3>, Pad::same>, BatchNorm>;
    check_golden<Net>("conv_bn", WeightNames::prefixes({{"0", "conv"}, {"1", "bn"}}));
    Net net;
    mote_test::GoldenCase golden("conv_bn");
    net.load(golden.params, "conv_bn", WeightNames::prefixes({{"0", "conv"}, {"1", "bn"}}));
    REQUIRE(net.layer<1>().folded());
  }
  SECTION("Dense + BatchNorm1d") {
    check_golden<Sequential<Input<6>, Dense<4>, BatchNorm>>("dense_bn",
                                                             WeightNames::prefixes({{"0", "fc"}, {"1", "bn"}}));
  }
}

TEST_CASE("Flatten then Dense reorders PyTorch's NCHW flatten order", "[golden][flatten]") {
  using Net = Sequential<Input<6, 6, 2>, Conv2D<4, Kernel<3>, Padding<1>>, ReLU, Flatten, Dense<5>>;
  check_golden<Net>("conv_flatten_dense", WeightNames::prefixes({{"0", "conv"}, {"3", "fc"}}));
}

TEST_CASE("Residual computes x + body(x)", "[golden][residual]") {
  using Net = Sequential<Input<6, 6, 4>,
                         Residual<Conv2D<4, Kernel<3>, Pad::same>, ReLU, Conv2D<4, Kernel<3>, Pad::same>>>;
  check_golden<Net>("residual", WeightNames::prefixes({{"0.0", "conv1"}, {"0.2", "conv2"}}));
}
