// int4 Dense kernels, written once against `Int4Ops`, the ISA's int4 primitives
// (arch/<family>/<isa>_int4.hpp). Included by kernels/simd_int8-inl.hpp for ISAs that have them.
//   centre(x, n, params, low, high, out)   s = quantize(x) - 128 as int8, bit-identical to mote::quantize
//   panels_per_pass                         16-row panels one call computes (at most)
//   panels(count, packed, scales, blocks, blocks_per_group, act, block_sums, f, last_lone)
//                                           F of `count` consecutive panels (1 to panels_per_pass),
//                                           the first even (layout/dense_int4.hpp: panel i at
//                                           Int4Packing::panel_offset(i) and scales_offset(i), a
//                                           pair's panels at paired strides; with last_lone, the
//                                           last panel alone, at lone strides), panel i's F at f + 16 i
// Samples run pass by pass so that a pass's packed weights stay in L1 across the batch.

/// The GEMM and epilogue of `batch` rows of centred codes s = u - 128 (row b at act + b *
/// padded_cols; the padded columns may hold any code, their weights are 0 and the block sums
/// count them too). `scratch`: the rows' block sums, then their group sums F.
template <std::size_t G, class Activation>
inline void dense_int4_from_codes(
    const ::mote::WeightMatrix<::mote::Int4<G>, ::mote::DenseStorage>& weights, const float* bias,
    const std::int8_t* act, std::size_t batch, const ::mote::kernels::Int8InputQuant& input,
    Activation activation, float* out, std::byte* scratch) noexcept {
  const std::size_t padded_cols = weights.padded_cols(), blocks = weights.block_count();
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::size_t sums_bytes = align_up(blocks * sizeof(std::int32_t));
  auto* f = reinterpret_cast<float*>(scratch + batch * sums_bytes);
  for (std::size_t b = 0; b < batch; ++b) {
    auto* block_sums = reinterpret_cast<std::int32_t*>(scratch + b * sums_bytes);
    const std::int8_t* codes = act + b * padded_cols;
    for (std::size_t block = 0; block < blocks; ++block) {
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < 32; ++k) sum += codes[block * 32 + k];
      block_sums[block] = sum;
    }
  }
  static_assert(Int4Ops::panels_per_pass == 1 || Int4Ops::panels_per_pass % 2 == 0,
                "Int4Ops::panels_per_pass: passes of several panels must start at even panels (a pair's first), "
                "so a pass holds whole pairs of panels, and at most one lone last panel.");
  for (std::size_t p = 0; p < weights.panel_count(); p += Int4Ops::panels_per_pass) {
    const std::size_t count = std::min(Int4Ops::panels_per_pass, weights.panel_count() - p);
    for (std::size_t b = 0; b < batch; ++b)
      Int4Ops::panels(count, weights.panel(p), weights.panel_scales(p, 0), blocks,
                      weights.blocks_per_group(), act + b * padded_cols,
                      reinterpret_cast<const std::int32_t*>(scratch + b * sums_bytes),
                      f + b * padded_rows + p * 16, weights.lone_panel(p + count - 1));
  }
  for (std::size_t b = 0; b < batch; ++b)
    ::mote::kernels::int4_dense_epilogue(weights, bias, f + b * padded_rows, input, out + b * rows,
                                         activation);
}

template <std::size_t G, class Activation>
inline void dense_int4(const ::mote::WeightMatrix<::mote::Int4<G>, ::mote::DenseStorage>& weights,
                       const float* bias, const float* in, float* out, std::size_t batch,
                       const ::mote::kernels::Int8InputQuant& input, Activation activation,
                       std::byte* scratch) noexcept {
  // Within int4_dense_scratch_bytes per sample: the codes, then the block sums and group sums.
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols();
  auto* act = reinterpret_cast<std::int8_t*>(scratch);
  for (std::size_t b = 0; b < batch; ++b) {
    std::int8_t* codes = act + b * padded_cols;
    Int4Ops::centre(in + b * cols, cols, input.params, input.low, input.high, codes);
    std::fill(codes + cols, codes + padded_cols, std::int8_t{0});
  }
  dense_int4_from_codes(weights, bias, act, batch, input, activation, out,
                        scratch + align_up(batch * padded_cols));
}
