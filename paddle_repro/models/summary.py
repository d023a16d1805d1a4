"""Model summaries: per-layer table, parameter counts and FLOPs (logic of tools/summary.py).

FLOPs follow ``paddle.flops``'s conventions, at batch 1 in eval mode: multiply-accumulates
(MACs) of ``Conv*D``, ``Linear`` and matmuls, +1 per output element when a conv has a bias,
2 per element for batch norm, pooling by paddle's rules, and 0 for activations, softmax,
element-wise arithmetic (residual adds, gate products, scalings) and reshapes.

Two sources of rules:

* ordinary leaf layers: paddle.flops's own rule functions
  (``paddle.hapi.dynamic_flops.register_hooks``), applied through our hooks. Leaf types with
  no rule (e.g. ``MaxPool2D``, ``Flatten``) count 0 and are reported by name, as paddle.flops
  does.
* the project's custom layers (``CUSTOM_FLOPS``): paddle.flops only hooks leaves, so the
  functional ops inside them (CondConv's per-sample conv, ACmix's attention, the fast
  paths' matmuls with a child's weight) would count 0. Each custom layer is instead counted
  as a whole by a hand-written rule, and its descendants are NOT hooked, so a child is never
  counted twice or skipped depending on whether an ``impl`` calls it as a module. Every rule
  counts the math of the notebook's formulation with the conventions above (as paddle.flops
  would if every op were a layer), so the count does not depend on ``impl``. What each rule
  counts is in its docstring. These are FLOPs of the method, not the work of an impl:
  CondConv's ``per_expert`` impl does E times the conv MACs and ACmix's ``fast`` dense
  attention compares every query with all H*W keys, which shows in throughput, not here.

A layer of a user's module (defined outside paddle and this package) is counted like any
other: whole by its rule if it registered one (``paddle_repro.register_flops``), else through
its sublayers, so the operations of its own ``forward`` (a functional conv, or a matmul of
two activations) count 0. Such types are listed by ``not_counted_user_types``, and the summary
and the tables say so beside the number instead of passing it off as complete. A layer whose
own operations are element-wise (0 by the conventions above) registers ``sublayers_flops``:
its sublayers are counted and nothing is marked.

Why not call ``paddle.flops`` itself: under Paddle 3.x with NumPy 2 it crashes after the
forward pass (``int()`` of a shape-[1] tensor) and leaves its bookkeeping buffers in the
model's state dict. A test checks ``count_flops`` equals ``paddle.flops`` on models without
custom layers wherever that works (Paddle 2.6).
"""
import contextlib
import io
import math

import paddle
from paddle.hapi.dynamic_flops import register_hooks as PADDLE_FLOPS_RULES

from ..config import load_config
from ..layers.acmix import ACmix
from ..layers.condconv import CondConv2D
from ..layers.nam import NAM
from ..registry import PACKAGE, Registry
from . import build_model_from_config
from .weights import count_params


def _quiet(fn, *args, **kwargs):
    """Runs ``fn`` capturing what it prints; returns ``(result, printed text)``."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        result = fn(*args, **kwargs)
    return result, buf.getvalue()


def _numel(shape):
    return math.prod(int(v) for v in shape)


def condconv_flops(layer, x, y):
    """CondConv2D (arXiv:1904.04971), any ``impl``: routing + kernel mixing + one conv.

    With x [B, C, H, W], y [B, O, Ho, Wo], E experts, kernels [O, C/g, kh, kw]:

    * routing: ``AdaptiveAvgPool2D(1)`` by paddle's rule, B*C*(H*W + 1), then the bias-free
      1x1 conv C -> E, B*E*C MACs (sigmoid 0);
    * mixing: per sample ``sum_e r_e W_e``, B*E*(O*C/g*kh*kw) MACs, and with a bias
      ``sum_e r_e b_e``, B*E*O MACs;
    * the per-sample conv, counted like an ``nn.Conv2D`` of the same shapes:
      B*O*Ho*Wo*(C/g*kh*kw + 1 if bias).
    """
    b, c, h, w = (int(v) for v in x.shape)
    e = layer.num_experts
    kernel = _numel(layer.weight.shape[1:])  # O * C/g * kh * kw
    has_bias = layer.bias is not None
    routing = b * c * (h * w + 1) + b * e * c
    mixing = b * e * kernel + (b * e * layer.outplanes if has_bias else 0)
    per_output = kernel // layer.outplanes + (1 if has_bias else 0)
    return routing + mixing + _numel(y.shape) * per_output


def acmix_flops(layer, x, y):
    """ACmix (arXiv:2111.14556), either ``impl``: the notebook's ops, each counted as a layer.

    With x [B, Cin, H, W], y [B, O, Ho, Wo], c = head_dim, heads h (O = h*c), attention
    window k x k, conv-path kernel kc x kc:

    * q, k, v: three 1x1 convs with bias, 3*B*O*H*W*(Cin + 1);
    * positional encoding ``conv_p`` (2 -> c, bias) on the coordinate grid, once per
      forward: c*H*W*3;
    * attention: per output position, head and window position one dot product of length c
      for q.k and one multiply-add per channel for attn.v: 2*B*O*Ho*Wo*k^2 MACs (the
      notebook's windowed math; scaling, softmax and the positional-encoding adds are 0);
    * ``fc`` (1x1, 3h -> kc^2, no bias) over [B, 3h, c, H*W]: B*kc^2*c*H*W*3h;
    * ``dep_conv`` (grouped, kc^2*c -> O, groups c, kc x kc, one shared bias):
      B*O*Ho*Wo*(kc^2*kc^2 + 1);
    * ``rate1 * att + rate2 * conv``: element-wise, 0.
    """
    b, cin, h, w = (int(v) for v in x.shape)
    o, c, heads = layer.out_planes, layer.head_dim, layer.head
    outputs = _numel(y.shape)  # B*O*Ho*Wo
    kk_conv = layer.kernel_conv * layer.kernel_conv
    qkv = 3 * b * o * h * w * (cin + 1)
    pos = c * h * w * (2 + 1)
    attention = 2 * outputs * layer.kernel_att * layer.kernel_att
    fc = b * kk_conv * c * h * w * 3 * heads
    dep = outputs * (_numel(layer.dep_conv.weight.shape[1:]) + 1)
    return qkv + pos + attention + fc + dep


def nam_flops(layer, x, y):
    """NAM (arXiv:2111.12419): its batch norms, 2 per element each (paddle's BN rule).

    The channel gate's ``BatchNorm2D`` over x [N, C, H, W] counts 2*N*C*H*W, and with
    ``spatial=True`` the pixel gate's ``BatchNorm1D`` over [N, H*W, C] another 2*N*C*H*W
    (paddle.flops has no rule for ``BatchNorm1D`` and would count it 0). The weighting by
    |gamma|/sum|gamma|, the sigmoid and the gate product are element-wise: 0, like every
    residual add and activation elsewhere in the models.
    """
    branches = 1 if layer.bn_spatial is None else 2
    return branches * 2 * _numel(x.shape)


def sublayers_flops(layer, x, y):
    """The rule of a layer whose own operations are element-wise: it adds nothing, and the
    layer's sublayers are counted as anywhere else (``_plan`` walks into it)."""
    return 0


# Custom layer class -> rule(layer, input tensor, output tensor) -> int FLOPs of the whole
# layer (children included). Subclasses use their nearest listed base class's rule.
CUSTOM_FLOPS = Registry("FLOPs rule", {
    CondConv2D: condconv_flops,
    ACmix: acmix_flops,
    NAM: nam_flops,
})


def _custom_rule(layer):
    for cls in type(layer).__mro__:
        if cls in CUSTOM_FLOPS:
            return CUSTOM_FLOPS[cls]
    return None


def _is_users(layer_type):
    """True for a layer class defined outside paddle and this package (a user's module)."""
    module = layer_type.__module__ or ""
    return not any(module == top or module.startswith(top + ".") for top in ("paddle", PACKAGE))


def not_counted_user_types(model):
    """Sorted names of the user's layer types in ``model`` without a FLOPs rule: their
    sublayers are counted, the operations of their own ``forward`` are not."""
    return sorted({type(layer).__name__ for layer in model.sublayers(include_self=True)
                   if _is_users(type(layer)) and _custom_rule(layer) is None})


def _plan(layer, seen, custom, leaves, uncounted):
    """Sorts ``layer``'s subtree into custom layers (counted whole), ruled leaves and
    zero-counted leaf type names. A custom layer's descendants are not visited."""
    if id(layer) in seen:  # a layer shared by two parents is hooked once
        return
    seen.add(id(layer))
    rule = _custom_rule(layer)
    if rule is not None and rule is not sublayers_flops:
        custom.append((layer, rule))
        return
    children = list(layer.children())
    if not children:
        rule = PADDLE_FLOPS_RULES.get(type(layer))
        if rule is None:
            uncounted.add(type(layer).__name__)
        else:
            leaves.append((layer, rule))
        return
    for child in children:
        _plan(child, seen, custom, leaves, uncounted)


def count_flops(model, input_size=(3, 32, 32)):
    """FLOPs of one forward pass at batch 1 (conventions and rules: module doc).

    Args:
        model: ``nn.Layer`` (run in eval mode, no grad; its mode is restored). Nothing is
            left in its state dict or attributes.
        input_size: C, H, W.

    Returns:
        ``(flops int, sorted names of leaf layer types counted as zero)``; leaves inside a
        ``CUSTOM_FLOPS`` layer are covered by its rule and never listed.
    """
    custom, leaves, uncounted = [], [], set()
    _plan(model, set(), custom, leaves, uncounted)
    custom_total = [0]
    handles = []

    def custom_hook(rule):
        def hook(layer, inputs, output):
            custom_total[0] += int(rule(layer, inputs[0], output))
        return hook

    for layer, rule in leaves:
        layer.total_ops = 0  # plain attribute, not a buffer: never reaches the state dict
        handles.append(layer.register_forward_post_hook(rule))
    for layer, rule in custom:
        handles.append(layer.register_forward_post_hook(custom_hook(rule)))
    was_training = model.training
    model.eval()
    try:
        with paddle.no_grad():
            model(paddle.zeros([1] + [int(v) for v in input_size]))
        total = sum(int(layer.total_ops) for layer, _ in leaves) + custom_total[0]
    finally:
        for handle in handles:
            handle.remove()
        for layer, _ in leaves:
            if hasattr(layer, "total_ops"):
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
        included), ``trainable_params``, ``flops`` (``count_flops``, batch 1),
        ``uncounted_types`` (leaf layer types counted as zero) and ``not_counted_user_types``
        (a user's layer types without a FLOPs rule).
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
            "flops": int(flops), "uncounted_types": uncounted,
            "not_counted_user_types": not_counted_user_types(model)}


def build_for_summary(target, num_classes=None, input_size=None, custom_imports=None):
    """Builds the model named by ``target``: a registry name or a config YAML path.

    Args:
        target: e.g. ``"resnet50_nam"`` or ``"configs/nam/resnet50_nam.yaml"``.
        num_classes: overrides the builder default / the config's ``Arch.num_classes``.
        input_size: overrides the config's ``Global.image_shape`` (default [3, 32, 32]).
        custom_imports: modules to import first when ``target`` is a name a user's module
            registers (a config lists its own).

    Returns:
        ``(name, model, input_size)``.
    """
    if str(target).endswith((".yaml", ".yml")):
        cfg = load_config(target)
        shape = input_size or cfg["Global"]["image_shape"]
    else:
        cfg = {"Arch": {"name": target}, "custom_imports": custom_imports}
        shape = input_size or [3, 32, 32]
    arch = dict(cfg["Arch"])
    if num_classes is not None:
        arch["num_classes"] = num_classes
    return arch["name"], build_model_from_config({**cfg, "Arch": arch}), list(shape)


def format_summary(name, info, input_size):
    """The human-readable report printed by tools/summary.py."""
    lines = [info["table"], "",
             f"model: {name}   input: {list(input_size)}",
             f"parameters: total {info['total_params']:,} (BN running statistics included), "
             f"trainable {info['trainable_params']:,}",
             f"FLOPs (paddle.flops conventions, batch 1): {info['flops']:,}"]
    users = info.get("not_counted_user_types") or []
    leaves = [t for t in info["uncounted_types"] if t not in users]
    if leaves:
        lines.append(f"  leaf layers counted as zero (no paddle.flops rule): {', '.join(leaves)}")
    if users:
        lines.append(f"  NOT COUNTED: the own operations of {', '.join(users)} (layers of your "
                     "module without a FLOPs rule: only their sublayers are counted; add a rule "
                     "with paddle_repro.register_flops)")
    lines.append("  (CondConv2D, ACmix and NAM are counted whole by CUSTOM_FLOPS in "
                 "paddle_repro/models/summary.py; element-wise ops and activations count 0)")
    return "\n".join(lines)
