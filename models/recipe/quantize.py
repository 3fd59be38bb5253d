"""Writes the int8 variant of an fp32 export (onnx_export.quantize_matmul_weights), beside it:

    /usr/bin/python3 models/recipe/quantize.py models/tessera-tiny/onnx/model.onnx
    → models/tessera-tiny/onnx/model_quantized.onnx
export.py does the same when it exports; this re-quantizes without the checkpoint."""
import os
import sys

import onnx

from onnx_export import quantize_matmul_weights

if __name__ == '__main__':
    src = sys.argv[1]
    out = os.path.join(os.path.dirname(src), 'model_quantized.onnx')
    onnx.save(quantize_matmul_weights(onnx.load(src)), out)
    print(out, os.path.getsize(out))
