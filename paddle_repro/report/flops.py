"""FLOPs for the reproduction tables: one counter for the whole project.

The counting itself lives in :func:`paddle_repro.models.summary.count_flops` (``paddle.flops``'s
own per-layer rules driven through our hooks, because ``paddle.flops`` crashes on Paddle 3.x
with NumPy 2). This module only adapts it to the tables: an int per image plus the note that
tables print under the FLOPs column.
"""
from paddle_repro.models.summary import count_flops as _count_flops

NOTE = ("FLOPs = paddle.flops' rules (multiply-accumulates of Conv/Linear, 2x BatchNorm elements, "
        "average pooling) for one image; functional ops inside custom layers (CondConv2D's "
        "per-sample conv, ACmix attention, NAM's gate) are not counted, so those rows are lower "
        "bounds.")


def count_flops(model, image_shape):
    """FLOPs of one [1, *image_shape] forward pass in eval mode (see module doc).

    Args:
        model: ``nn.Layer``.
        image_shape: [C, H, W].

    Returns:
        int.
    """
    flops, _uncounted_types = _count_flops(model, tuple(image_shape))
    return int(flops)
