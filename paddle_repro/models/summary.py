"""Model summaries: per-layer table, parameter counts and FLOPs (logic of tools/summary.py).

FLOPs follow ``paddle.flops`` exactly: its own per-layer rules
(``paddle.hapi.dynamic_flops.register_hooks``: multiply-accumulates of ``Conv*D`` and
``Linear``, 2 per element for ``BatchNorm2D``, average pooling; ReLU and Dropout are 0) applied
to leaf layers in eval mode at batch 1. Every other leaf type (e.g. ``MaxPool2D``,
``BatchNorm1D``) and every functional op inside a layer (``F.relu``, CondConv's per-sample
grouped conv, ACmix's attention, NAM's gate) counts as zero; the summary lists the
zero-counted leaf types so comparisons are read with that in mind.

Why not call ``paddle.flops`` itself: under Paddle 3.x with NumPy 2 it crashes after the
forward pass (``int()`` of a shape-[1] tensor) and leaves its bookkeeping buffers in the
model's state dict. ``count_flops`` drives the same rule functions through its own hooks;
a test checks it equals ``paddle.flops`` wherever that works (Paddle 2.6).
"""
import contextlib
import io

import paddle
from paddle.hapi.dynamic_flops import register_hooks as PADDLE_FLOPS_RULES

from . import build_model
from .weights import count_params


def _quiet(fn, *args, **kwargs):
    """Runs ``fn`` capturing what it prints; returns ``(result, printed text)``."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        result = fn(*args, **kwargs)
    return result, buf.getvalue()


def count_flops(model, input_size=(3, 32, 32)):
    """FLOPs of one forward pass at batch 1 by ``paddle.flops``'s rules (see module doc).

    Args:
        model: ``nn.Layer`` (run in eval mode, no grad; its mode is restored).
        input_size: C, H, W.

    Returns:
        ``(flops int, sorted names of leaf layer types counted as zero)``.
    """
    handles, counted, uncounted = [], [], set()
    for layer in model.sublayers(include_self=True):
        if list(layer.children()):
            continue  # paddle.flops only hooks leaves
        rule = PADDLE_FLOPS_RULES.get(type(layer))
        if rule is None:
            uncounted.add(type(layer).__name__)
            continue
        layer.total_ops = 0  # plain attribute, not a buffer: never reaches the state dict
        handles.append(layer.register_forward_post_hook(rule))
        counted.append(layer)
    was_training = model.training
    model.eval()
    try:
        with paddle.no_grad():
            model(paddle.zeros([1] + [int(v) for v in input_size]))
        total = sum(int(layer.total_ops) for layer in counted)
    finally:
        for handle in handles:
            handle.remove()
        for layer in counted:
            del layer.total_ops
        model.train() if was_training else model.eval()
    return total, sorted(uncounted)


def summarize(model, input_size=(3, 32, 32)):
    """Summarises ``model`` for one input of shape ``input_size`` (C, H, W).

    Args:
        model: ``nn.Layer``; left in its previous train/eval mode.
        input_size: C, H, W of one image (``Global.image_shape``).

    Returns:
        dict ``table`` (paddle.summary's per-layer text), ``total_params`` (BN statistics
        included), ``trainable_params``, ``flops`` (paddle.flops, batch 1) and
        ``uncounted_types`` (leaf layer types paddle.flops counted as zero).
    """
    shape = [1] + [int(v) for v in input_size]
    was_training = model.training
    model.eval()  # BN statistics must not move while we only look at the model
    try:
        _, table = _quiet(paddle.summary, model, tuple(shape))
    finally:
        model.train() if was_training else model.eval()
    flops, uncounted = count_flops(model, input_size)
    total, trainable = count_params(model)
    return {"table": table.rstrip(), "total_params": total, "trainable_params": trainable,
            "flops": int(flops), "uncounted_types": uncounted}


def build_for_summary(target, num_classes=None, input_size=None):
    """Builds the model named by ``target``: a registry name or a config YAML path.

    Args:
        target: e.g. ``"resnet50_nam"`` or ``"configs/nam/resnet50_nam.yaml"``.
        num_classes: overrides the builder default / the config's ``Arch.num_classes``.
        input_size: overrides the config's ``Global.image_shape`` (default [3, 32, 32]).

    Returns:
        ``(name, model, input_size)``.
    """
    if str(target).endswith((".yaml", ".yml")):
        from ..config import load_config  # only needed for configs

        cfg = load_config(target)
        arch = dict(cfg["Arch"])
        name = arch.pop("name")
        shape = input_size or cfg["Global"]["image_shape"]
    else:
        name, arch, shape = target, {}, input_size or [3, 32, 32]
    if num_classes is not None:
        arch["num_classes"] = num_classes
    return name, build_model(name, **arch), list(shape)


def format_summary(name, info, input_size):
    """The human-readable report printed by tools/summary.py."""
    lines = [info["table"], "",
             f"model: {name}   input: {list(input_size)}",
             f"parameters: total {info['total_params']:,} (BN running statistics included), "
             f"trainable {info['trainable_params']:,}",
             f"FLOPs (paddle.flops, batch 1): {info['flops']:,}"]
    if info["uncounted_types"]:
        lines.append(f"  counted as zero by paddle.flops: {', '.join(info['uncounted_types'])}")
    lines.append("  (functional ops inside layers -- CondConv's expert conv, ACmix's attention, "
                 "NAM's gate -- are not counted either)")
    return "\n".join(lines)
