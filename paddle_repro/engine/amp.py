"""Mixed precision: ``Global.amp: O1 | O2`` with ``Global.amp_dtype: float16 | bfloat16``.

float16 needs loss scaling (``GradScaler``) because its range underflows small gradients;
bfloat16 has float32's range, so it trains without a scaler. Evaluation runs in float32
(the autocast covers only the training forward). Without a GPU the run falls back to fp32
with a warning, whatever the dtype.
"""
import contextlib
import warnings

import paddle


def amp_context(level, device, dtype="float16"):
    """(GradScaler or None, a no-argument autocast context factory) for the training step."""
    if not level:
        return None, contextlib.nullcontext
    if not device.startswith("gpu"):
        warnings.warn(f"Global.amp={level} ({dtype}) needs a GPU; training in fp32 on {device}.",
                      RuntimeWarning, stacklevel=3)
        return None, contextlib.nullcontext
    scaler = paddle.amp.GradScaler(init_loss_scaling=1024) if dtype == "float16" else None
    return scaler, lambda: paddle.amp.auto_cast(level=level, dtype=dtype)
