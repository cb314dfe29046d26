#pragma once
// ONNX in: lowering a graph to mote layers (mote/onnx/plan.hpp) and loading a file into a
// network type (mote/onnx/load.hpp). The generator tool tools/mote-onnx writes network types
// from .onnx files with the same code.

#include "mote/io/onnx_model.hpp"
#include "mote/onnx/load.hpp"
#include "mote/onnx/plan.hpp"
