"""ACmix: self-attention and convolution sharing their 1x1 projections.

Paper: Pan et al., "On the Integration of Self-Attention and Convolution", CVPR 2022,
https://arxiv.org/abs/2111.14556. Specification: the ACmix notebook (seed 002), whose code
is transcribed in ``tests/reference/notebook_acmix.py``; parameter names and shapes are the
notebook's, so a notebook state dict loads unchanged.

Quirks of the notebook kept on purpose (the official code, LeapLabTHU/ACmix, has the same
ones except the dep_conv bias, see below):

* the attention window (kernel_att x kernel_att) is reflect padded, so near a border some
  positions appear twice in a window; reflect padding needs h, w > padding (h, w >= 4 for
  the default 7x7 window): smaller inputs raise a ValueError;
* positional encoding = 1x1 conv ``conv_p`` (2 -> head_dim) of a [-1, 1] coordinate grid;
  the logit of window position j is ``q . (k_j + pe_query - pe_j)``, softmax over the k^2
  positions, q scaled by head_dim ** -0.5; ``conv_p.bias`` cancels in pe_query - pe_j, so
  its gradient is zero (up to rounding);
* the conv path's ``dep_conv`` is a grouped conv (groups = head_dim) whose weight is
  initialised to the fixed shift pattern, shape (out, k^2, k, k), and stays trainable; its
  bias is ONE scalar shared by all channels (shape [1], init 0); its padding is fixed at 1,
  so only ``kernel_conv=3`` gives shapes that match the attention path (others raise).
  The official code has NO dep_conv bias at all: its ``init_rate_0`` returns None, so
  ``self.dep_conv.bias = init_rate_0(self.dep_conv.bias)`` removes it. With the same
  weights and that scalar at 0 both give the same outputs; the notebook's scalar then trains;
* ``rate1``, ``rate2``: learnable scalars (init 0.5) weighting attention and conv outputs.

Deviations from the notebook (identical results wherever the notebook runs):

* output size is ``(h - 1) // stride + 1`` (what unfold and the strided conv produce); the
  notebook's ``h // stride`` crashes for odd h when stride > 1;
* ``dilation`` dilates the attention window; the notebook padded for it but did not pass it
  to the unfold, which crashes for dilation > 1;
* ``impl="fast"`` (default) computes the same function with matmuls (see
  ``acmix_fast.py``; q, k, v as one matmul); ``impl="notebook"`` keeps the notebook's
  unfold formulation as the reference. Parameters are created in the notebook's order
  (dep_conv's random weight is drawn, then replaced), so a seeded build has the notebook's
  weights.
"""
import numpy as np
import paddle
from paddle import nn
import paddle.nn.functional as F

from paddle_repro.layers import acmix_fast

IMPLS = ("fast", "notebook")
ATTENTION_MODES = ("auto", "dense", "tiled")


def position(h, w):
    """[-1, 1] coordinate grid, [1, 2, h, w] (channel 0: x, channel 1: y), as the notebook."""
    loc_w = paddle.repeat_interleave(paddle.linspace(-1.0, 1.0, w).unsqueeze(0), repeats=h, axis=0)
    loc_h = paddle.repeat_interleave(paddle.linspace(-1.0, 1.0, h).unsqueeze(1), repeats=w, axis=1)
    return paddle.concat([loc_w.unsqueeze(0), loc_h.unsqueeze(0)], axis=0).unsqueeze(0)


class ACmix(nn.Layer):
    """ACmix layer: rate1 * windowed self-attention + rate2 * shift-kernel conv.

    Args:
        in_planes: input channels.
        out_planes: output channels; must be divisible by ``head``.
        kernel_att: attention window size (odd).
        head: attention heads; head_dim = out_planes // head.
        kernel_conv: conv-path kernel; must be 3 (the notebook fixes dep_conv padding at 1).
        stride: spatial stride of both paths.
        dilation: dilation of the attention window.
        impl: "fast" (matmul formulation) or "notebook" (unfold formulation).

    Attributes a benchmark or test may change after construction: ``attention_mode``
    ("auto" | "dense" | "tiled", fast impl only), ``dense_max_keys`` (auto uses dense
    attention while h*w <= this, default 256) and ``tile`` (query tile side of the tiled
    path, default 8; measured fastest at 56x56 on CPU).

    Shapes: x [N, in_planes, H, W] -> [N, out_planes, (H-1)//stride+1, (W-1)//stride+1].
    """

    def __init__(self, in_planes, out_planes, kernel_att=7, head=4, kernel_conv=3, stride=1,
                 dilation=1, impl="fast"):
        super().__init__()
        if impl not in IMPLS:
            raise ValueError(f"ACmix: unknown impl {impl!r}; valid: {', '.join(IMPLS)}")
        if head < 1 or out_planes % head:
            raise ValueError(f"ACmix: out_planes={out_planes} must be divisible by head={head}")
        if kernel_att < 1 or kernel_att % 2 == 0:
            raise ValueError(f"ACmix: kernel_att={kernel_att} must be odd and positive")
        if kernel_conv != 3:
            raise ValueError(f"ACmix: kernel_conv={kernel_conv} is not supported: dep_conv padding "
                             "is fixed at 1 as in the notebook, so only kernel_conv=3 matches "
                             "the attention path's output size")
        if stride < 1 or dilation < 1:
            raise ValueError(f"ACmix: stride={stride} and dilation={dilation} must be >= 1")
        self.in_planes, self.out_planes, self.head = in_planes, out_planes, head
        self.kernel_att, self.kernel_conv = kernel_att, kernel_conv
        self.stride, self.dilation, self.impl = stride, dilation, impl
        self.head_dim = out_planes // head
        self.padding_att = (dilation * (kernel_att - 1) + 1) // 2
        self.attention_mode, self.dense_max_keys, self.tile = "auto", 256, 8
        self._masks = acmix_fast.MaskCache()  # not parameters, not in the state dict
        # creation order as in the notebook, so a seeded build draws the same weights
        self.rate1 = self.create_parameter([1], default_initializer=nn.initializer.Assign([0.5]))
        self.rate2 = self.create_parameter([1], default_initializer=nn.initializer.Assign([0.5]))
        self.conv1 = nn.Conv2D(in_planes, out_planes, kernel_size=1)
        self.conv2 = nn.Conv2D(in_planes, out_planes, kernel_size=1)
        self.conv3 = nn.Conv2D(in_planes, out_planes, kernel_size=1)
        self.conv_p = nn.Conv2D(2, self.head_dim, kernel_size=1)
        self.fc = nn.Conv2D(3 * head, kernel_conv * kernel_conv, kernel_size=1, bias_attr=False)
        self.dep_conv = nn.Conv2D(kernel_conv * kernel_conv * self.head_dim, out_planes,
                                  kernel_size=kernel_conv, bias_attr=True, groups=self.head_dim,
                                  padding=1, stride=stride)
        self.reset_parameters()

    def reset_parameters(self):
        """Shift-pattern dep_conv weight (out, k^2, k, k) and one shared scalar bias."""
        kc = self.kernel_conv
        kernel = np.zeros((kc * kc, kc, kc), dtype=np.float32)
        for i in range(kc * kc):
            kernel[i, i // kc, i % kc] = 1.0
        kernel = np.repeat(kernel[None], self.out_planes, axis=0)
        self.dep_conv.weight = self.create_parameter(
            list(kernel.shape), default_initializer=nn.initializer.Assign(kernel))
        self.dep_conv.bias = self.create_parameter(
            [1], default_initializer=nn.initializer.Assign(np.zeros([1], np.float32)))

    def extra_repr(self):
        return (f"{self.in_planes}, {self.out_planes}, kernel_att={self.kernel_att}, "
                f"head={self.head}, stride={self.stride}, dilation={self.dilation}, impl={self.impl}")

    def _check_size(self, h, w):
        p = self.padding_att
        if not (isinstance(h, int) and isinstance(w, int) and min(h, w) > 0):
            # to_static with InputSpec [None, C, None, None]: masks need the map size
            raise ValueError(f"ACmix: spatial size must be known (got {h}x{w}); under "
                             "paddle.jit.to_static give H and W in the InputSpec "
                             "(the batch may stay None)")
        if min(h, w) <= p:
            raise ValueError(
                f"ACmix: input {h}x{w} is too small for kernel_att={self.kernel_att}, "
                f"dilation={self.dilation}: reflect padding by {p} needs h and w >= {p + 1}. "
                "Use a larger input or a smaller kernel_att.")

    def _mask(self, kind, h, w, like):
        args = (self.kernel_att, self.stride, self.dilation)
        if kind == "dense":
            return self._masks.get(("dense", h, w), like, acmix_fast.dense_mask,
                                   h, w, self.padding_att, *args)
        return self._masks.get(("tiled", self.tile), like, acmix_fast.tile_mask, self.tile, *args)

    def forward(self, x):
        """x [N, in_planes, H, W] -> [N, out_planes, H_out, W_out]."""
        h, w = x.shape[2], x.shape[3]
        self._check_size(h, w)
        if self.impl == "notebook":
            return self._forward_notebook(x)
        # q, k, v as ONE matmul (a 1x1 conv; Paddle's CPU conv backward is slower), whose
        # output [N, 3*out, H*W] is already the layout fc wants
        weight = paddle.concat([self.conv1.weight, self.conv2.weight, self.conv3.weight])
        bias = paddle.concat([self.conv1.bias, self.conv2.bias, self.conv3.bias])
        qkv = paddle.matmul(weight.reshape([3 * self.out_planes, -1]),
                            x.reshape([0, 0, h * w])) + bias.reshape([-1, 1])
        qkv = qkv.reshape([-1, 3 * self.out_planes, h, w])                  # [N, 3*out, H, W]
        # the notebook's head split: [N*head, head_dim, H, W] each (-1: batch may be dynamic)
        q, k, v = [t.reshape([-1, self.head_dim, h, w]) for t in paddle.split(qkv, 3, axis=1)]
        pe = self.conv_p(position(h, w).astype(x.dtype))                     # [1, C, H, W]
        q = q * float(self.head_dim) ** -0.5
        if self.stride > 1:
            q = q[:, :, ::self.stride, ::self.stride]
        k = k - pe  # q . pe_query is constant over the window: softmax drops it
        mode = self.attention_mode
        if mode == "auto":
            mode = "dense" if h * w <= self.dense_max_keys else "tiled"
        if mode == "dense":
            out_att = acmix_fast.attention_dense(q, k, v, self._mask("dense", h, w, x))
        elif mode == "tiled":
            out_att = acmix_fast.attention_tiled(
                q, k, v, self._mask("tiled", h, w, x), self.padding_att, self.kernel_att,
                self.stride, self.dilation, self.tile)
        else:
            raise ValueError(f"ACmix: unknown attention_mode {mode!r}; valid: "
                             f"{', '.join(ATTENTION_MODES)}")
        out_att = out_att.reshape([-1, self.out_planes] + list(out_att.shape[2:]))
        return self.rate1 * out_att + self.rate2 * self._conv_path(qkv, h, w)

    def _conv_path(self, qkv, h, w):
        """fc over the 3*head (q|k|v, head) maps, then the shift-kernel grouped conv."""
        kk = self.kernel_conv * self.kernel_conv
        f_all = paddle.matmul(self.fc.weight.reshape([kk, 3 * self.head]),
                              qkv.reshape([-1, 3 * self.head, self.head_dim * h * w]))
        f_conv = f_all.reshape([-1, kk, self.head_dim, h * w]).transpose([0, 2, 1, 3])
        return self.dep_conv(f_conv.reshape([-1, self.head_dim * kk, h, w]))

    def _forward_notebook(self, x):
        """The notebook's unfold formulation, with the documented size/dilation fixes."""
        q, k, v = self.conv1(x), self.conv2(x), self.conv3(x)
        b, _, h, w = q.shape
        s, kat, bh, c = self.stride, self.kernel_att, b * self.head, self.head_dim
        h_out, w_out = (h - 1) // s + 1, (w - 1) // s + 1
        pe = self.conv_p(position(h, w).astype(x.dtype))
        q_att = q.reshape((bh, c, h, w)) * float(c) ** -0.5
        k_att, v_att = k.reshape((bh, c, h, w)), v.reshape((bh, c, h, w))
        q_pe = pe
        if s > 1:
            q_att, q_pe = q_att[:, :, ::s, ::s], pe[:, :, ::s, ::s]

        def unfold(t):  # [B, C, H, W] -> [B, C, k^2, h_out, w_out]
            t = F.pad(t, [self.padding_att] * 4, mode="reflect")
            t = F.unfold(t, kernel_sizes=kat, strides=s, paddings=0, dilations=self.dilation)
            return t.reshape((t.shape[0], c, kat * kat, h_out, w_out))

        att = (q_att.unsqueeze(2) * (unfold(k_att) + q_pe.unsqueeze(2) - unfold(pe))).sum(1)
        att = F.softmax(att, axis=1)
        out_att = (att.unsqueeze(1) * unfold(v_att)).sum(2).reshape((b, self.out_planes, h_out, w_out))
        f_all = self.fc(paddle.concat([q.reshape((b, self.head, c, h * w)),
                                       k.reshape((b, self.head, c, h * w)),
                                       v.reshape((b, self.head, c, h * w))], axis=1))
        f_conv = f_all.transpose([0, 2, 1, 3]).reshape((b, -1, h, w))
        return self.rate1 * out_att + self.rate2 * self.dep_conv(f_conv)
