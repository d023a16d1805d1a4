"""The model registry: ``MODELS`` (name -> builder) and ``build_model(name, **kwargs)``.

Every builder takes ``num_classes`` plus its own keyword arguments; the ``Arch`` section of a
config is ``name`` + exactly those keyword arguments, checked here against the builder's
signature so a typo is an error naming the key instead of a silent default.
"""
import inspect

from .alexnet import alexnet, alexnet_acmix, alexnet_bn, alexnet_condconv
from .resnet import (resnet18, resnet18_nam, resnet34, resnet34_nam, resnet50, resnet50_imagenet,
                     resnet50_nam, resnet101, resnet101_nam, resnet152, resnet152_nam)
from .shufflenet_v2 import (shufflenetv2_x0_5, shufflenetv2_x1_0, shufflenetv2_x1_5,
                            shufflenetv2_x2_0)
from ..errors import UserError
from ..suggest import closest
from .errors import ModelArgumentError, check_arguments
from .init import INITS
from .weights import WeightsError, count_params, load_weights

MODELS = {
    "alexnet": alexnet,
    "alexnet_bn": alexnet_bn,
    "alexnet_condconv": alexnet_condconv,
    "alexnet_acmix": alexnet_acmix,
    # ResNet, CIFAR stem (3x3/1, no max-pool) unless stem="imagenet" is passed
    "resnet18": resnet18,
    "resnet34": resnet34,
    "resnet50": resnet50,
    "resnet101": resnet101,
    "resnet152": resnet152,
    "resnet18_nam": resnet18_nam,
    "resnet34_nam": resnet34_nam,
    "resnet50_nam": resnet50_nam,
    "resnet101_nam": resnet101_nam,
    "resnet152_nam": resnet152_nam,
    # = paddle.vision.models.resnet50(): the NAM notebook's baseline (ImageNet stem, 1000 classes)
    "resnet50_imagenet": resnet50_imagenet,
    # ShuffleNetV2 for 32x32 inputs
    "shufflenetv2_x0_5": shufflenetv2_x0_5,
    "shufflenetv2_x1_0": shufflenetv2_x1_0,
    "shufflenetv2_x1_5": shufflenetv2_x1_5,
    "shufflenetv2_x2_0": shufflenetv2_x2_0,
}


class UnknownModelError(UserError, KeyError):
    """An ``Arch.name`` that is not in ``MODELS``; the message lists the valid names."""

    def __str__(self):  # KeyError would print the message inside quotes
        return str(self.args[0])


def _accepted_kwargs(builder):
    """Names of the keyword arguments ``builder`` accepts (``**kwargs`` excluded)."""
    params = inspect.signature(builder).parameters.values()
    return [p.name for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def build_model(name, init="paddle_default", **kwargs):
    """Builds a registered model.

    Args:
        name: registry key, e.g. ``"resnet50_nam"`` (see ``MODELS``).
        init: weight initialisation, a key of ``models.init.INITS``: ``paddle_default``
            (the Paddle notebooks') or ``torch_default`` (the PyTorch notebook 004's).
            ``Arch.init`` in a config; any model takes it.
        **kwargs: builder keyword arguments, e.g. ``num_classes=100``.

    Returns:
        The ``paddle.nn.Layer``.

    Raises:
        UnknownModelError (a KeyError): ``name`` is not registered (the message lists the
            valid names).
        ModelArgumentError (a TypeError): a keyword argument is not accepted by that builder,
            or ``init`` is not a known scheme.
    """
    if init not in INITS:
        raise ModelArgumentError(f"Unknown Arch.init {init!r}; valid: {', '.join(INITS)}.")
    if name not in MODELS:
        match = closest(name, MODELS)
        hint = f" Did you mean {match!r}?" if match else ""
        raise UnknownModelError(f"Unknown model {name!r}.{hint} "
                                f"Valid names: {', '.join(sorted(MODELS))}.")
    builder = MODELS[name]
    accepted = _accepted_kwargs(builder)
    has_var_kw = any(p.kind == p.VAR_KEYWORD
                     for p in inspect.signature(builder).parameters.values())
    if not has_var_kw:  # builders with **kwargs (AlexNet's) check them themselves, the same way
        check_arguments(name, kwargs, accepted)
    return INITS[init](builder(**kwargs))


__all__ = ["MODELS", "INITS", "build_model", "UnknownModelError", "ModelArgumentError", "count_params", "load_weights",
           "WeightsError"]
