"""Deploy a trained model: export a static inference program, predict with Paddle Inference.

- ``export.export_model(cfg)``: ``paddle.jit.save`` with ``InputSpec [None, C, H, W]`` plus an
  ``inference.yml`` beside it (``tools/export_model.py``);
- ``predictor.InferenceModel``: a ``paddle.inference`` predictor of an exported folder, with the
  folder's preprocessing (``tools/infer.py``);
- ``onnx.convert``: the optional paddle2onnx conversion with an onnxruntime round trip.
"""
from .errors import ExportError, InferenceModelError

__all__ = ["ExportError", "InferenceModelError"]
