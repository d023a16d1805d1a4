"""The model registry: ``MODELS`` (name -> builder), ``build_model(name, **kwargs)`` and
``build_model_from_config(cfg)``, the one way every tool builds the model of a config.

Every builder takes ``num_classes`` plus its own keyword arguments; the ``Arch`` section of a
config is ``name`` + exactly those keyword arguments, checked here against the builder's
signature so a typo is an error naming the key instead of a silent default. A user's module
adds builders with ``paddle_repro.register_model`` (``docs/extending.md``).
"""
from .alexnet import alexnet, alexnet_acmix, alexnet_bn, alexnet_condconv
from .resnet import (resnet18, resnet18_nam, resnet34, resnet34_nam, resnet50, resnet50_imagenet,
                     resnet50_nam, resnet101, resnet101_nam, resnet152, resnet152_nam)
from .shufflenet_v2 import (shufflenetv2_x0_5, shufflenetv2_x1_0, shufflenetv2_x1_5,
                            shufflenetv2_x2_0)
from ..custom_imports import import_custom_modules
from ..errors import UserError
from ..registry import Registry
from ..suggest import closest
from .errors import ModelArgumentError, ModelChoiceError, check_arguments, keyword_arguments
from .init import INITS
from .weights import WeightsError, count_params, load_weights

MODELS = Registry("model", {
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
})


class UnknownModelError(UserError, KeyError):
    """An ``Arch.name`` that is not in ``MODELS``; the message lists the valid names."""

    def __str__(self):  # KeyError would print the message inside quotes
        return str(self.args[0])


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
                                f"Valid names: {', '.join(sorted(MODELS))}. A module of your own "
                                "adds one with paddle_repro.register_model and is listed in the "
                                "config's custom_imports (docs/extending.md).")
    builder = MODELS[name]
    accepted = keyword_arguments(builder)
    if accepted is not None:  # a builder with **kwargs checks them itself
        check_arguments(name, kwargs, accepted)
    return INITS[init](builder(**kwargs))


def build_model_from_config(cfg, num_classes=None, weights=None):
    """The model of a resolved config: its ``custom_imports``, its ``Arch``, its weights.

    Training, evaluation, prediction, the summary, the export and the run-folder figures all
    build through here, so a model (built-in or registered by a user's module) is the same
    network wherever it is built.

    Args:
        cfg: a resolved config, or a run folder's ``config.yaml`` as read (a plain dict with
            ``Arch`` and optionally ``custom_imports``, imported first so their names exist).
        num_classes: the data's class count, used when ``Arch`` does not give ``num_classes``.
        weights: a ``.pdparams`` path, checkpoint prefix or state dict loaded strictly
            (``load_weights``); None keeps the initialisation (``Arch.init``).

    Returns:
        The ``paddle.nn.Layer``, in train mode.

    Raises:
        ConfigError (a custom import fails), UnknownModelError, ModelArgumentError,
        WeightsError.
    """
    import_custom_modules(cfg.get("custom_imports"), "custom_imports")
    kwargs = {k: v for k, v in cfg["Arch"].items() if k != "name"}
    if num_classes is not None:
        kwargs.setdefault("num_classes", num_classes)
    model = build_model(cfg["Arch"]["name"], **kwargs)
    if weights is not None:
        load_weights(model, weights)
    return model


__all__ = ["MODELS", "INITS", "build_model", "build_model_from_config", "UnknownModelError",
           "ModelArgumentError", "ModelChoiceError", "count_params", "load_weights", "WeightsError"]
