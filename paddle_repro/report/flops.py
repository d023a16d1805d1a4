"""FLOPs of one image, counted with forward hooks (``paddle.flops`` convention, both Paddles).

``paddle.flops`` cannot be used directly: on Paddle 3.3 with NumPy 2 it raises
``TypeError: only 0-dimensional arrays can be converted`` while summing its counters. This
module counts what ``paddle.flops`` counts for the layers that dominate a CNN, with its
formulas: Conv2D = output elements x (in_channels / groups x kernel area + 1 if bias),
Linear = output elements x in_features, BatchNorm = 2 x input elements. Pooling and
activations (a few % of a CNN) are not counted. Functional ops inside custom layers --
CondConv2D's per-sample grouped conv, ACmix's attention matmuls and shift conv, NAM's
elementwise attention -- are invisible to layer hooks, so for those models the number is a
lower bound. The table header says so.
"""
import numpy as np
import paddle
import paddle.nn as nn

NOTE = ("FLOPs = multiply-accumulates of Conv2D/Linear layers + 2x BatchNorm elements (paddle.flops "
        "formulas) for one image; functional ops inside custom layers (CondConv2D, ACmix attention, "
        "NAM) are not counted, so those rows are lower bounds.")


def _numel(t):
    return int(np.prod(t.shape))


def _conv(layer, inputs, output):
    w = layer.weight.shape  # [out, in / groups, kh, kw]
    return _numel(output) * (int(np.prod(w[1:])) + (1 if layer.bias is not None else 0))


def _linear(layer, inputs, output):
    return _numel(output) * int(layer.weight.shape[0])


def _bn(layer, inputs, output):
    return 2 * _numel(inputs[0])


COUNTERS = {nn.Conv2D: _conv, nn.Linear: _linear, nn.BatchNorm2D: _bn, nn.BatchNorm: _bn,
            nn.BatchNorm1D: _bn}


@paddle.no_grad()
def count_flops(model, image_shape):
    """Counts one forward pass of a [1, *image_shape] zero image in eval mode.

    Args:
        model: ``nn.Layer``.
        image_shape: [C, H, W].

    Returns:
        int: the count described in the module docstring.
    """
    total, handles = [0], []
    for layer in model.sublayers(include_self=True):
        counter = next((fn for cls, fn in COUNTERS.items() if type(layer) is cls), None)
        if counter is not None:
            def hook(lay, inputs, output, fn=counter):
                total[0] += fn(lay, inputs, output)
            handles.append(layer.register_forward_post_hook(hook))
    was_training = model.training
    model.eval()
    try:
        model(paddle.zeros([1] + list(image_shape), dtype="float32"))
    finally:
        for h in handles:
            h.remove()
        if was_training:
            model.train()
    return int(total[0])
