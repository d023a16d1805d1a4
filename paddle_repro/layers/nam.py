"""NAM: Normalization-based Attention Module (Liu et al., 2021, https://arxiv.org/abs/2111.12419).

Channel attention re-weights each channel by how much its BatchNorm scale factor says it
varies: ``M_c(x) = sigmoid(BN(x) * |γ| / Σ|γ|)``, output ``x * M_c(x)``.

Relation to the notebook (seed 003, ``Att`` wrapping ``Channel_Att``):

* Default ``impl="fast"`` folds the channel weights ``w = |γ|/Σ|γ|`` into the BN affine:
  ``BN(x) * w = x̂ * (γ*w) + β*w``, so one ``F.batch_norm`` call with ``weight=γ*w`` and
  ``bias=β*w`` replaces the notebook's BN, two transposes and multiply. Against merely
  broadcasting ``w`` this saves one full-tensor pass forward, two backward (the multiply's
  input gradient and its ∂w reduction) and one saved activation. Measured ResNet50-NAM
  train-step time over the fair ResNet50 (1 thread, batch 16 at 32x32, medians of CPU time,
  one interleaved run per Paddle): notebook 1.21 / broadcast 1.11 / folded 1.03 on 3.3.1,
  1.46 / 1.11 / 1.04 on 2.6.2 (the shared machine adds about ±5%). Same function, so outputs and
  gradients (γ still gets its gradient through both the affine and ``w``) match to float
  rounding; the BN running statistics are updated by the same op with the same momentum,
  so they match exactly. ``impl="notebook"`` keeps the notebook's ops in its order as the
  reference: same outputs and gradients to the last bit (tests/test_nam.py), so a run with it
  is bit-identical to the notebook's (tests/test_loop_equivalence.py).
* Parameter names: the notebook's ``nam.Channel_Att.bn2.*`` is our ``nam.bn_channel.*``
  (``NOTEBOOK_KEY_MAP`` below; ``paddle_repro.models.weights`` applies it).
* Like the notebook (and unlike the official PyTorch code, Christian-lyc/NAM, which reads
  ``bn.weight.data``, i.e. detaches them), the weights ``|γ|/Σ|γ|`` are *not* detached: γ
  also receives a gradient through them. Forward outputs are the same; gradients of γ differ.
* BN: Paddle defaults (momentum 0.9, epsilon 1e-5), as the notebook.

Beyond the notebook, both OFF by default:

* ``spatial=True``: the paper's pixel attention (its Eq. 3), applied after the channel
  branch as in CBAM's sequential layout. Every pixel position is treated as a BN "channel":
  ``[N, C, H, W]`` → ``[N, H*W, C]`` → ``BatchNorm1D(H*W)`` (statistics per position over
  batch and channels) → weighted by ``|λ|/Σ|λ|`` per position → back to ``[N, C, H, W]`` →
  sigmoid gate (the weights folded into the BN affine in both impls). Because the BN has
  one γ per position, the layer needs a FIXED spatial size ``spatial_size = H*W`` at
  construction; other input sizes raise a ValueError.
* ``sparsity > 0``: the paper's L1 penalty (Eq. 4) ``sparsity * (Σ|γ| + Σ|λ|)`` over the
  attention BNs, returned by ``sparsity_loss()`` for the trainer to add to the loss. The
  notebook omitted it.
"""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

# notebook parameter-name fragment -> ours, applied inside a block's ``nam.`` prefix.
NOTEBOOK_KEY_MAP = {"nam.Channel_Att.bn2.": "nam.bn_channel."}

IMPLS = ("fast", "notebook")


def _scale_weights(bn):
    """|γ| / Σ|γ| of a BN layer, shape [C] (not detached, as the notebook)."""
    gamma = bn.weight.abs()
    return gamma / paddle.sum(gamma)


def _weighted_bn(bn, x, training):
    """``bn(x) * w`` with ``w = |γ|/Σ|γ|`` folded into the [C]-sized affine (γ*w, β*w).

    The scaling then costs C multiplies instead of a pass over the whole tensor (and its
    backward). Every other argument is what ``nn.BatchNorm*.forward`` passes, so train/eval
    behaviour and the running-statistics update (momentum convention included) are the
    layer's own.

    Args:
        bn: a ``BatchNorm1D``/``BatchNorm2D`` with affine parameters.
        x: its input, ``[N, C, ...]`` in the layer's data format.
        training: batch statistics (and running-stat update) if True, else running stats.

    Returns:
        Tensor shaped like ``x``.
    """
    w = _scale_weights(bn)
    return F.batch_norm(x, bn._mean, bn._variance, weight=bn.weight * w, bias=bn.bias * w,
                        training=training, momentum=bn._momentum, epsilon=bn._epsilon,
                        data_format=bn._data_format, use_global_stats=bn._use_global_stats)


class NAM(nn.Layer):
    """Normalization-based attention: channel gate, optionally followed by a pixel gate.

    Args:
        channels: C, channels of the input.
        impl: ``"fast"`` (``w`` folded into the BN affine) or ``"notebook"`` (the seed's
            transpose form).
        spatial: add the paper's pixel-attention branch (needs ``spatial_size``).
        spatial_size: H*W of the inputs, required when ``spatial`` is True.
        sparsity: λ of the L1 penalty returned by ``sparsity_loss()``; 0 disables it.

    Input/output: ``[N, C, H, W]`` float tensor, same shape out.
    """

    def __init__(self, channels, impl="fast", spatial=False, spatial_size=None, sparsity=0.0):
        super().__init__()
        if impl not in IMPLS:
            raise ValueError(f"NAM impl must be one of {IMPLS}, got {impl!r}.")
        if spatial and not (isinstance(spatial_size, int) and spatial_size > 0):
            raise ValueError("NAM(spatial=True) needs spatial_size=H*W of its input (the pixel "
                             f"BN has one scale per position); got {spatial_size!r}.")
        if sparsity < 0:
            raise ValueError(f"NAM sparsity must be >= 0, got {sparsity}.")
        self.channels = channels
        self.impl = impl
        self.sparsity = float(sparsity)
        self.spatial_size = spatial_size if spatial else None
        self.bn_channel = nn.BatchNorm2D(channels)
        self.bn_spatial = nn.BatchNorm1D(spatial_size) if spatial else None

    def _channel_gate(self, x):
        if self.impl == "fast":
            y = _weighted_bn(self.bn_channel, x, self.training)
        else:  # the notebook's ops in its order, so its gradients to the last bit: BN, then
            # |γ| taken twice (γ's gradient sums three terms, in the notebook's order), then
            # NCHW -> NHWC so w broadcasts on the last axis, and back
            y = self.bn_channel(x)
            w = self.bn_channel.weight.abs() / paddle.sum(self.bn_channel.weight.abs())
            y = paddle.multiply(w, y.transpose([0, 2, 3, 1])).transpose([0, 3, 1, 2])
        return F.sigmoid(y) * x

    def _spatial_gate(self, x):
        n, c, h, w = x.shape
        if h * w != self.spatial_size:
            raise ValueError(f"NAM pixel attention was built for H*W={self.spatial_size} but got "
                             f"a {h}x{w} input; set the model's image_size to the real input.")
        residual = x
        y = x.reshape([n, c, h * w]).transpose([0, 2, 1])  # [N, HW, C]: positions as channels
        y = _weighted_bn(self.bn_spatial, y, self.training)  # not in the notebook: always folded
        y = y.transpose([0, 2, 1]).reshape([n, c, h, w])
        return F.sigmoid(y) * residual

    def forward(self, x):
        """x: [N, C, H, W] -> [N, C, H, W]."""
        x = self._channel_gate(x)
        if self.bn_spatial is not None:
            x = self._spatial_gate(x)
        return x

    def sparsity_loss(self):
        """``sparsity * (Σ|γ| + Σ|λ|)`` over this module's attention BNs (scalar tensor).

        Returns None when ``sparsity`` is 0, so callers can skip the addition.
        """
        if self.sparsity == 0:
            return None
        total = self.bn_channel.weight.abs().sum()
        if self.bn_spatial is not None:
            total = total + self.bn_spatial.weight.abs().sum()
        return self.sparsity * total

    def extra_repr(self):
        return (f"channels={self.channels}, impl={self.impl}, spatial_size={self.spatial_size}, "
                f"sparsity={self.sparsity}")


def collect_sparsity_loss(model):
    """Sum of ``sparsity_loss()`` over every NAM inside ``model``; None if all are off.

    Args:
        model: any ``nn.Layer``.

    Returns:
        Scalar tensor, or None when no NAM has a positive ``sparsity``.
    """
    total = None
    for layer in model.sublayers(include_self=True):
        if isinstance(layer, NAM):
            term = layer.sparsity_loss()
            if term is not None:
                total = term if total is None else total + term
    return total
