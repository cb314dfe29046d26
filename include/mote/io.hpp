#pragma once
// Everything mote reads from disk: .npz/.npy tensors, IDX datasets, ONNX models and tensors, and
// the gzip, ZIP, DEFLATE and protobuf decoders they rest on. Standard library only.

#include "mote/io/crc32.hpp"
#include "mote/io/file.hpp"
#include "mote/io/gzip.hpp"
#include "mote/io/idx.hpp"
#include "mote/io/inflate.hpp"
#include "mote/io/npy.hpp"
#include "mote/io/npz.hpp"
#include "mote/io/onnx_model.hpp"
#include "mote/io/onnx_tensor.hpp"
#include "mote/io/protobuf.hpp"
#include "mote/io/zip.hpp"
