"""The public decorators that plug a user's module into the suite (``docs/extending.md``).

Not a paper module. Each decorator adds one entry to one slot's registry
(``paddle_repro.registry``) and returns the object unchanged; a config then lists the module
under ``custom_imports`` and names the entry. The slots and their contracts:

=====================================  ===================================================
decorator (registry)                   entry, and what a config says
=====================================  ===================================================
``register_model(name)``               ``builder(num_classes=..., **kwargs) -> nn.Layer``,
(``models.MODELS``)                    [N, 3, H, W] -> logits [N, num_classes];
                                       ``Arch: {name: <name>, <kwarg>: ...}``
``register_attention(name)``           ``(channels, hw, **options) -> nn.Layer`` mapping
(``models.resnet.ATTENTIONS``)         [N, C, H, W] to the same shape (hw = H*W of the
                                       block's output); ResNet puts it at the end of every
                                       block, before the residual add:
                                       ``Arch: {name: resnet18, attention: <name>,
                                       attention_options: {...}}``, any depth
``register_conv(name)``                ``(in_channels, out_channels, **options) -> nn.Layer``
(``models.alexnet.CONVS``)             mapping [N, in, H, W] to [N, out, H, W]; AlexNet's
                                       three 3x3 convs (CondConv's and ACmix's slot):
                                       ``Arch: {name: alexnet_bn, conv: <name>,
                                       conv_options: {...}}``
``register_transform(name)``           ``builder(**kwargs) -> callable(image) -> image`` on
(``data.transform_table.TABLE``)       uint8 RGB HWC images (an image op, before ToTensor);
                                       ``- <name>: {kwarg: ...}`` in a transform list,
                                       ``pipeline: paddle`` only
``register_init(name)``                ``scheme(model) -> model``, re-drawing weights in place;
(``models.init.INITS``)                ``Arch: {init: <name>}``
``register_flops(layer_class)``        ``rule(layer, x, y) -> int``: FLOPs of the whole layer
(``models.summary.CUSTOM_FLOPS``)      for input ``x`` and output ``y`` at batch 1, or
                                       ``sublayers_flops`` for a layer whose own ops are
                                       element-wise (without a rule, the layer's sublayers
                                       are counted and its own ops are marked "not counted")
=====================================  ===================================================

A name registered twice raises ``DuplicateNameError`` naming both definitions, at
registration; an entry that cannot fit its contract (not callable, a model builder without
``num_classes``, an attention that cannot take ``(channels, hw)``) raises
``RegistrationError`` there too, not at the first training step.
"""
import inspect

import paddle

from .data.transform_table import IMAGE, TABLE, Row
from .models import MODELS
from .models.alexnet import CONVS
from .models.init import INITS
from .models.resnet import ATTENTIONS
from .models.summary import CUSTOM_FLOPS, sublayers_flops
from .registry import RegistrationError, definition_of

__all__ = ["register_model", "register_attention", "register_conv", "register_transform",
           "register_init", "register_flops", "sublayers_flops"]


def _check(decorator, key, entry, positional=None, needs=()):
    """Raises ``RegistrationError`` unless ``entry`` is callable (with ``positional`` positional
    arguments when given) and takes the keywords ``needs`` (or ``**kwargs``)."""
    what = f"{decorator}({key!r}) on {definition_of(entry)}"
    if not callable(entry):
        raise RegistrationError(f"{what}: expected a function or class, got {type(entry).__name__}.")
    try:
        params = inspect.signature(entry).parameters
    except (TypeError, ValueError):  # a builtin without a signature: trust it
        return
    if positional is not None:
        try:
            inspect.signature(entry).bind(*range(positional))
        except TypeError as err:
            raise RegistrationError(f"{what}: must be callable with {positional} positional "
                                    f"argument(s) ({err}).") from None
    var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    missing = [n for n in needs if n not in params and not var_kw]
    if missing:
        raise RegistrationError(f"{what}: must take the keyword argument(s) {', '.join(missing)}.")


def _name(decorator, name):
    if not isinstance(name, str) or not name.strip():
        raise RegistrationError(f"{decorator}: the name must be a non-empty string, got {name!r} "
                                f"(use it as @{decorator}(\"my_name\")).")
    return name


def register_model(name):
    """Registers a model builder ``(num_classes=..., **kwargs) -> nn.Layer`` as ``Arch.name``."""
    _name("register_model", name)

    def add(builder):
        _check("register_model", name, builder, needs=("num_classes",))
        return MODELS.add(name, builder)
    return add


def register_attention(name):
    """Registers a block attention ``(channels, hw, **options) -> nn.Layer`` ([N, C, H, W] to
    the same shape) as ResNet's ``Arch.attention``."""
    _name("register_attention", name)

    def add(builder):
        _check("register_attention", name, builder, 2)
        return ATTENTIONS.add(name, builder)
    return add


def register_conv(name):
    """Registers a conv ``(in_channels, out_channels, **options) -> nn.Layer`` ([N, in, H, W]
    to [N, out, H, W]) as AlexNet's ``Arch.conv``."""
    _name("register_conv", name)

    def add(builder):
        _check("register_conv", name, builder, 2)
        return CONVS.add(name, builder)
    return add


def register_transform(name):
    """Registers an image transform ``builder(**kwargs) -> callable(image) -> image`` (uint8
    RGB HWC in and out) as a transform-list name of ``pipeline: paddle``."""
    _name("register_transform", name)

    def add(builder):
        _check("register_transform", name, builder)
        TABLE.add(name, Row(builder, None, IMAGE, ()))
        return builder
    return add


def register_init(name):
    """Registers a weight initialisation ``scheme(model) -> model`` as ``Arch.init``."""
    _name("register_init", name)

    def add(scheme):
        _check("register_init", name, scheme, 1)
        return INITS.add(name, scheme)
    return add


def register_flops(layer_class, rule=None):
    """Registers ``rule(layer, x, y) -> int``, the FLOPs of a whole ``layer_class`` layer.

    As a decorator, ``@register_flops(MyLayer)`` on the rule; or
    ``register_flops(MyLayer, sublayers_flops)`` for a layer whose own operations are
    element-wise (its sublayers are counted, nothing is marked as not counted).
    """
    if not (inspect.isclass(layer_class) and issubclass(layer_class, paddle.nn.Layer)):
        raise RegistrationError(f"register_flops: expected a paddle.nn.Layer subclass, got "
                                f"{layer_class!r} (use it as @register_flops(MyLayer)).")

    def add(rule):
        _check("register_flops", layer_class.__name__, rule, 3)
        return CUSTOM_FLOPS.add(layer_class, rule)
    return add if rule is None else add(rule)
