"""FLOPs for the reproduction tables: one counter for the whole project.

The counting itself lives in :func:`paddle_repro.models.summary.count_flops` (``paddle.flops``'s
own per-layer rules driven through our hooks, because ``paddle.flops`` crashes on Paddle 3.x
with NumPy 2, plus ``CUSTOM_FLOPS`` rules for the project's custom layers). This module only
adapts it to the tables: an int per image plus the note that tables print under the FLOPs
column.
"""
from paddle_repro.models.summary import count_flops as _count_flops

NOTE = ("FLOPs = multiply-accumulates for one image by paddle.flops' conventions: Conv/Linear/"
        "matmul MACs (+1 per output with bias), 2 per BatchNorm element, average pooling; "
        "activations, softmax and element-wise ops 0. CondConv2D (routing, kernel mixing, "
        "per-sample conv), ACmix (1x1 projections, windowed q.k and attn.v, shift conv) and "
        "NAM (its BatchNorms) are counted whole by paddle_repro.models.summary.CUSTOM_FLOPS, "
        "the same for every impl.")


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
