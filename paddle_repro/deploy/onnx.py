"""Optional ONNX conversion of an exported folder (``pip install .[onnx]``).

paddle2onnx converts the saved program (``inference.json`` or ``.pdmodel``) into
``model.onnx``; onnxruntime then runs it at batch 1 and 3 and its logits are compared with
the Paddle Inference predictor's on the same inputs. paddle2onnx runs in a child process: it
is C++ code that may abort on a program it cannot convert, and a failure must come back as
one message naming the model and the step, not as a crash of the caller.
"""
import os
import subprocess
import sys

import numpy as np

from .errors import ExportError
from .predictor import InferenceModel
from .files import PARAMS_FILE, program_file
from .meta import read_meta

ONNX_FILE = "model.onnx"
OPSET = 13
_CONVERT = ("import sys, paddle2onnx; paddle2onnx.export(sys.argv[1], sys.argv[2], sys.argv[3], "
            "opset_version=int(sys.argv[4]), enable_onnx_checker=True)")


def _require(module, name):
    try:
        return __import__(module)
    except ImportError:
        raise ExportError(f"--onnx needs {name}: pip install '.[onnx]' (paddle2onnx + onnxruntime).") from None


def _last_error_line(text):
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower() or "not supported" in ln.lower()]
    return (errors or lines or ["no output"])[-1][:400]


def convert(folder, opset=OPSET, timeout=600):
    """Converts ``folder``'s program to ``<folder>/model.onnx`` and checks it with onnxruntime.

    Returns:
        dict: ``path``, ``max_abs_diff`` (onnxruntime vs Paddle Inference, batches 1 and 3).

    Raises:
        ExportError: the extra is not installed, or paddle2onnx / onnxruntime failed (the
            message names the model and what failed).
    """
    _require("paddle2onnx", "paddle2onnx")
    ort = _require("onnxruntime", "onnxruntime")
    name = read_meta(folder)["Model"]["name"]
    program, out = program_file(folder), os.path.join(folder, ONNX_FILE)
    if os.path.exists(out):
        os.remove(out)  # never leave a model.onnx of an earlier export beside this program
    proc = subprocess.run([sys.executable, "-c", _CONVERT, program, os.path.join(folder, PARAMS_FILE),
                           out, str(opset)], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not os.path.isfile(out):
        raise ExportError(f"paddle2onnx could not convert {name} ({os.path.basename(program)}, opset "
                          f"{opset}): {_last_error_line(proc.stderr + proc.stdout)}. The Paddle "
                          "export in this folder is unaffected; use it with tools/infer.py.")
    paddle_model = InferenceModel(folder, onednn=False)  # the plain kernels: the reference
    try:
        session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
        diff = 0.0
        for batch in (1, 3):
            x = np.random.RandomState(batch).rand(batch, *paddle_model.image_shape).astype("float32")
            got = session.run(None, {session.get_inputs()[0].name: x})[0]
            diff = max(diff, float(np.max(np.abs(got - paddle_model.logits(x)))))
    except Exception as err:  # onnxruntime raises its own exception types per failure
        raise ExportError(f"onnxruntime could not run {name}'s model.onnx: "
                          f"{str(err).splitlines()[0][:400]}") from None
    return {"path": out, "max_abs_diff": diff}
