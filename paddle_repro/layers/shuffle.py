"""ShuffleNetV2 building blocks (Ma et al., 2018, https://arxiv.org/abs/1807.11164).

Ported line by line from the PyTorch notebook (seed 004: ``ShuffleBlock``, ``SplitBlock``,
``BasicBlock``, ``DownBlock``), which follows kuangliu/pytorch-cifar.

Deviations / porting notes:

* ``channel_shuffle`` and ``channel_split`` are functions instead of parameter-free
  ``nn.Module`` wrappers; outputs are identical and no state-dict key depends on them.
* BatchNorm: PyTorch's ``momentum=0.1`` updates ``running = 0.9*running + 0.1*batch``;
  Paddle's ``momentum`` is the weight of the OLD value, so the same rule is
  ``momentum=0.9``. Epsilon stays 1e-5. (Both happen to be Paddle's defaults; they are
  written out so the correspondence is visible.)
* Child names (``conv1``/``bn1``…) are the seed's, so a Paddle port of the notebook
  model has exactly our state-dict keys.
* ``impl="fast"`` (default) computes the same numbers with fewer copies: the split is one
  ``paddle.split`` (its backward is one concat, where two slices each scatter into a
  zero-filled full-size gradient), and concat + shuffle is one ``paddle.stack`` on a new
  axis 2 (``concat_shuffle``), the same element order without the materialised transpose.
  Both are pure data movement, so outputs and gradients are bit-identical to
  ``impl="notebook"`` (the seed's slice / concat / view-permute-reshape), which is kept for
  comparison (``tests/test_shufflenet.py``, ``benchmarks/bench_shufflenet.py``).
* As in the seed, the down unit's left branch has no ReLU after its depthwise conv and the
  basic unit splits 1/2 : 1/2 with the untouched half first in the concat.
"""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

BN_MOMENTUM = 0.9  # = PyTorch momentum 0.1 (see module docstring)
BN_EPSILON = 1e-5


def batch_norm(channels):
    return nn.BatchNorm2D(channels, momentum=BN_MOMENTUM, epsilon=BN_EPSILON)


def _conv(cin, cout, k, stride=1, groups=1):
    return nn.Conv2D(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias_attr=False)


def channel_shuffle(x, groups):
    """Interleaves channel groups: [N, g*n, H, W] -> view [N, g, n, H, W] -> [N, n, g, H, W].

    Args:
        x: [N, C, H, W] tensor with C divisible by ``groups``.
        groups: g.

    Returns:
        [N, C, H, W] tensor whose channel order is c' = (c % n) * g + c // n.
    """
    n, c, h, w = x.shape
    if c % groups:
        raise ValueError(f"channel_shuffle: {c} channels are not divisible by groups={groups}.")
    x = x.reshape([n, groups, c // groups, h, w]).transpose([0, 2, 1, 3, 4])
    return x.reshape([n, c, h, w])


def concat_shuffle(a, b):
    """``channel_shuffle(concat([a, b], 1), 2)`` in one copy.

    Args:
        a, b: [N, n, H, W] each.

    Returns:
        [N, 2n, H, W] with channels a0, b0, a1, b1, ...: stacking on a new axis 2 gives
        [N, n, 2, H, W], which is the shuffle's [N, n, g, H, W] view already.
    """
    n, c, h, w = a.shape
    return paddle.stack([a, b], axis=2).reshape([n, 2 * c, h, w])


IMPLS = ("fast", "notebook")


def _check_impl(impl):
    if impl not in IMPLS:
        raise ValueError(f"ShuffleNetV2 unit impl must be one of {IMPLS}, got {impl!r}.")
    return impl


def channel_split(x, ratio):
    """Splits channels into the first ``int(C * ratio)`` and the rest (the seed's SplitBlock).

    Args:
        x: [N, C, H, W].
        ratio: fraction of channels in the first part.

    Returns:
        ``(x[:, :c], x[:, c:])`` with c = int(C * ratio).
    """
    c = int(x.shape[1] * ratio)
    return x[:, :c, :, :], x[:, c:, :, :]


class ShuffleBasicUnit(nn.Layer):
    """Stride-1 unit: split, transform the second half (1x1 → dw3x3 → 1x1), concat, shuffle.

    Args:
        in_channels: C of input and output.
        split_ratio: fraction of channels passed through untouched (seed: 0.5).
        impl: ``"fast"`` or ``"notebook"`` (same numbers; see the module docstring).

    Input/output: [N, C, H, W].
    """

    def __init__(self, in_channels, split_ratio=0.5, impl="fast"):
        super().__init__()
        self.split_ratio = split_ratio
        self.impl = _check_impl(impl)
        self.fast_split = impl == "fast" and 2 * int(in_channels * split_ratio) == in_channels
        c = int(in_channels * split_ratio)
        self.conv1 = _conv(c, c, 1)
        self.bn1 = batch_norm(c)
        self.conv2 = _conv(c, c, 3, groups=c)
        self.bn2 = batch_norm(c)
        self.conv3 = _conv(c, c, 1)
        self.bn3 = batch_norm(c)

    def forward(self, x):
        if self.fast_split:  # halves: one split op, whose backward is one concat
            x1, x2 = paddle.split(x, 2, axis=1)
        else:
            x1, x2 = channel_split(x, self.split_ratio)
        out = F.relu(self.bn1(self.conv1(x2)))
        out = self.bn2(self.conv2(out))
        out = F.relu(self.bn3(self.conv3(out)))
        if self.impl == "fast" and x1.shape[1] == out.shape[1]:
            return concat_shuffle(x1, out)
        return channel_shuffle(paddle.concat([x1, out], axis=1), 2)


class ShuffleDownUnit(nn.Layer):
    """Stride-2 unit: both branches see the whole input, each ends with out/2 channels.

    Args:
        in_channels: C_in.
        out_channels: C_out (even); spatial size halves.
        impl: ``"fast"`` or ``"notebook"`` (same numbers; see the module docstring).

    Input: [N, C_in, H, W]; output: [N, C_out, ceil(H/2), ceil(W/2)].
    """

    def __init__(self, in_channels, out_channels, impl="fast"):
        super().__init__()
        self.impl = _check_impl(impl)
        mid = out_channels // 2
        # left: dw3x3/2 -> 1x1
        self.conv1 = _conv(in_channels, in_channels, 3, stride=2, groups=in_channels)
        self.bn1 = batch_norm(in_channels)
        self.conv2 = _conv(in_channels, mid, 1)
        self.bn2 = batch_norm(mid)
        # right: 1x1 -> dw3x3/2 -> 1x1
        self.conv3 = _conv(in_channels, mid, 1)
        self.bn3 = batch_norm(mid)
        self.conv4 = _conv(mid, mid, 3, stride=2, groups=mid)
        self.bn4 = batch_norm(mid)
        self.conv5 = _conv(mid, mid, 1)
        self.bn5 = batch_norm(mid)

    def forward(self, x):
        left = self.bn1(self.conv1(x))
        left = F.relu(self.bn2(self.conv2(left)))
        right = F.relu(self.bn3(self.conv3(x)))
        right = self.bn4(self.conv4(right))
        right = F.relu(self.bn5(self.conv5(right)))
        if self.impl == "fast":
            return concat_shuffle(left, right)
        return channel_shuffle(paddle.concat([left, right], axis=1), 2)
