"""Weight initialisation schemes a model can be built with (``Arch.init``).

Not a paper module. A reproduction is only faithful if its network starts where the
notebook's did, and the notebooks ran on two frameworks whose default inits differ a lot:

``paddle_default`` (notebooks 000, 002, 003, all Paddle): the layers keep the weights
Paddle's constructors drew. Conv2D: Normal(0, sqrt(2 / fan_in)) with
fan_in = in_channels * k * k (NOT divided by groups), bias 0; Linear: XavierUniform
weight, bias 0; BatchNorm: weight 1, bias 0.

``torch_default`` (notebook 004, PyTorch): what ``torch.nn`` constructors draw.
Conv1D/2D/3D and Linear: ``kaiming_uniform_(a=sqrt(5))``, i.e. weight ~ U(-b, b) with
b = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + 5)), so b = 1 / sqrt(fan_in), where
fan_in = in_channels / groups * prod(kernel) (PyTorch's weight.size(1) * receptive field);
bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); BatchNorm: weight 1, bias 0 (as Paddle).
Example at 24 channels: a depthwise 3x3 gets U(+-1/3) (std 0.19) instead of Paddle's
N(0, 0.096); a 1x1 24->24 gets U(+-0.204) (std 0.118) instead of N(0, 0.29).

The draws use Paddle's global generator in ``sublayers()`` order, so a run is
reproducible under ``Global.seed``; they are not PyTorch's random numbers (same
distribution, different stream). Paddle's Linear weight is [in, out], PyTorch's
[out, in]: fan_in is ``in`` in both.
"""
import math

import paddle
import paddle.nn as nn

from ..registry import Registry

_CONV = (nn.Conv1D, nn.Conv2D, nn.Conv3D)


def torch_fan_in(layer):
    """PyTorch's fan_in of a conv or linear layer's weight (groups divided out).

    Args:
        layer: ``nn.Conv1D/2D/3D`` (weight [out, in/groups, *kernel]) or ``nn.Linear``
            (weight [in, out]).

    Returns:
        int fan_in.
    """
    shape = list(layer.weight.shape)
    if isinstance(layer, nn.Linear):
        return shape[0]
    return shape[1] * math.prod(shape[2:])


def _uniform_(param, bound):
    param.set_value(paddle.uniform(param.shape, dtype=param.dtype, min=-bound, max=bound))


def torch_default_init(model):
    """Re-draws every conv and linear layer of ``model`` as ``torch.nn`` would have.

    Args:
        model: an ``nn.Layer``; modified in place (BN layers already match PyTorch).

    Returns:
        ``model``.
    """
    for layer in model.sublayers(include_self=True):
        if not isinstance(layer, _CONV + (nn.Linear,)):
            continue
        bound = 1.0 / math.sqrt(torch_fan_in(layer))
        _uniform_(layer.weight, bound)
        if getattr(layer, "bias", None) is not None:
            _uniform_(layer.bias, bound)
    return model


def paddle_default_init(model):
    """Keeps the weights Paddle's constructors drew (the Paddle notebooks' init)."""
    return model


# name -> scheme(model) -> model (re-draws in place); ``paddle_repro.register_init`` adds one
INITS = Registry("init", {
    "paddle_default": paddle_default_init,
    "torch_default": torch_default_init,
})
