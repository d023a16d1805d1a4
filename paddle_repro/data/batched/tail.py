"""The tail of a batched transform list: ``ToTensor``/``ToArray`` then optional ``Normalize``.

Part of ``paddle_repro.data.batched``. Each tail op maps the 256 possible uint8 values of
every channel through Paddle's own functions, so the compiled per-channel look-up table
gives exactly the floats the per-image path gives. Only ``data_format='CHW'`` is supported.
"""
import numpy as np
import paddle
import paddle.vision.transforms.functional as F

from .base import BatchedPipelineError


class ToTensor:
    """``ToTensor()``: uint8 HWC -> float32 CHW / 255 (``F.to_tensor``)."""

    def __init__(self, data_format="CHW"):
        if data_format != "CHW":
            raise BatchedPipelineError("ToTensor: the batched pipeline supports data_format CHW only")

    def values(self, channels):  # uint8 values 0..255 per channel -> [C, 256] float32
        img = np.tile(np.arange(256, dtype=np.uint8).reshape(1, 256, 1), (1, 1, channels))
        return F.to_tensor(img).numpy().reshape(channels, 256)


class ToArray(ToTensor):
    """NAM notebook's ``ToArray``: ``(np.transpose(img, [2,0,1]) / 255.).astype('float32')``."""

    def __init__(self):
        pass

    def values(self, channels):
        img = np.tile(np.arange(256, dtype=np.uint8).reshape(1, 256, 1), (1, 1, channels))
        return (np.transpose(img, [2, 0, 1]) / 255.0).astype("float32").reshape(channels, 256)


class Normalize:
    """``Normalize(mean, std)``: ``(x - mean) / std`` per channel, by Paddle's own function."""

    def __init__(self, mean=0.0, std=1.0, data_format="CHW", to_rgb=False):
        if data_format != "CHW" or to_rgb:
            raise BatchedPipelineError("Normalize: the batched pipeline supports "
                                       "data_format CHW and to_rgb false only")
        self.mean = [mean] * 3 if isinstance(mean, (int, float)) else list(mean)
        self.std = [std] * 3 if isinstance(std, (int, float)) else list(std)

    def values(self, table, as_tensor):
        c = table.shape[0]
        x = table.reshape(c, 1, 256)
        if as_tensor:  # after ToTensor Paddle normalises a Tensor; after ToArray an ndarray
            x = paddle.to_tensor(x)
        out = F.normalize(x, self.mean[:c], self.std[:c], "CHW")
        return (out.numpy() if as_tensor else np.asarray(out, dtype=np.float32)).reshape(c, 256)
