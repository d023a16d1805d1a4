"""The two errors of the deploy package; each message names the problem and the fix."""
from ..errors import UserError


class ExportError(UserError, RuntimeError):
    """An export that cannot be honoured (target folder, input shape, ONNX conversion)."""


class InferenceModelError(UserError, RuntimeError):
    """An exported model folder, one of its files, or an inference input or output that
    cannot be used (``tools/infer.py``)."""
