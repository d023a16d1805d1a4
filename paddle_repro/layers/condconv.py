"""CondConv: conditionally parameterized convolution (Yang et al., 2019, arXiv:1904.04971).

Every sample ``b`` gets its own kernel, a routing-weighted sum of ``E`` expert kernels:

    r(x_b) = sigmoid(R · GAP(x_b))               (E,)
    W_b    = sum_e r_e(x_b) W_e,  b_b = sum_e r_e(x_b) bias_e
    y_b    = conv(x_b, W_b) + b_b

The math and the parameters are exactly those of the CondConv notebook (seed 000):
``routing.net.weight`` (E, in, 1, 1) is a bias-free 1x1 conv (Paddle's default init),
``weight`` is (E, out, in/groups, k, k) and ``bias`` is (E, out), both KaimingNormal, so the
notebook's state dicts load unchanged.

Against the official implementations (TF ``condconv_layers.py``, timm ``CondConv2d``): their
routing is a Dense/Linear layer WITH a bias (``sigmoid(W·GAP(x) + c)``), the notebook's 1x1
routing conv has none; their expert convs have no bias by default, ours (the notebook's)
has one per expert. Same outputs for the same weights with a zero routing bias and zero
expert biases; our defaults follow the notebook.

Init quirk kept on purpose (faithful default): Paddle's KaimingNormal reads the fan-in of a
5-D shape as ``shape[1] * prod(shape[2:])`` = out*in/g*k*k and of a 2-D shape as ``shape[0]``
= E. So expert kernels get std sqrt(2/(out*in/g*k*k)) (0.0030 for 128->192 3x3, ~14x below
a normal conv's Kaiming std of 0.042) and expert biases std sqrt(2/E) (1.0 for E=2).

Three formulations of the same function (``impl``):

- ``"grouped"``: the notebook's. Fold the batch into channels and run ONE conv with
  ``groups = groups * B`` using B mixed kernels. Builds a (B*out, in/g, k, k) weight tensor.
- ``"bmm"``: im2col (``F.unfold``) then one batched matmul of the B mixed kernels with the
  B column matrices. Same mixed kernels, but a dense matmul instead of a B-way grouped conv.
- ``"per_expert"``: by linearity ``conv(x, sum_e r_e W_e) = sum_e r_e conv(x, W_e)``: one
  ordinary conv of the whole batch with all E experts stacked as output channels, then the
  routing mix. Never builds per-sample kernels, so it needs far less memory at large batch.
- ``"auto"`` (default): the notebook's ``grouped``, which no other formulation beat on every
  shape and BLAS measured; the measurements are at ``AUTO_IMPL``. Pick ``per_expert`` for
  low memory (~10x less at E=2), and time ``bmm`` / ``per_expert`` on your own machine.

All impls agree with the notebook to float rounding, forward and backward (tests). No impl
loops over samples in Python. Deviations from the notebook: ``kernel_size``, ``stride``,
``padding`` and ``dilation`` also accept (h, w) pairs; bad arguments raise ``ValueError``
up front instead of failing inside ``F.conv2d``.
"""
import paddle
import paddle.nn.functional as F
from paddle import nn

IMPLS = ("auto", "grouped", "bmm", "per_expert")


def _pair(v, name):
    if isinstance(v, int):
        return (v, v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(i, int) for i in v):
        return tuple(v)
    raise ValueError(f"CondConv2D: {name} must be an int or a pair of ints, got {v!r}.")


# What ``impl="auto"`` runs: the notebook's grouped conv, with or without gradients.
# Measured with benchmarks/bench_layers.py at AlexNet's CondConv shapes (B 64 and 512, 7x7,
# 128->192, E=2) and at (16, 64, 15, 15) with E=2 and 4, one thread, AMD EPYC, ratios
# within one run. No other formulation was faster everywhere, so none is picked:
# - with gradients, grouped, bmm and per_expert were equal within run-to-run noise;
# - without gradients, the winner depends on the BLAS: with MKL's stock dispatch bmm was
#   1.0-1.1x the notebook and per_expert 0.3-0.8x; with MKL's AVX2 kernels (what the tools
#   run on AMD, see paddle_repro/process.py) bmm was 0.8-0.9x, and per_expert 1.3-1.4x at
#   E=2 on 7x7 maps but 0.3-0.6x at 15x15 or E=4.
# A rule that told training from inference would go in ``forward``; none paid so far.
AUTO_IMPL = "grouped"


class RoutingAttention(nn.Layer):
    """r(x) = sigmoid(conv1x1_no_bias(GAP(x))): one weight per expert and sample.

    Args:
        inplanes: input channels C.
        num_experts: number of experts E.
    """

    def __init__(self, inplanes, num_experts):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2D(1)
        # The notebook's 1x1 conv (not a Linear), kept so the weight is ``routing.net.weight``.
        self.net = nn.Conv2D(inplanes, num_experts, 1, bias_attr=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        """x: [B, C, H, W] -> routing weights [B, E]."""
        attn = self.net(self.avgpool(x))
        return self.sigmoid(attn.reshape([attn.shape[0], -1]))


class CondConv2D(nn.Layer):
    """Conditionally parameterized 2D convolution (drop-in for the notebook's ``CondConv2D``).

    Args:
        inplanes: input channels C_in.
        outplanes: output channels C_out.
        kernel_size: int or (kh, kw).
        stride, padding, dilation: int or pair, as in ``F.conv2d``.
        groups: conv groups; must divide C_in and C_out.
        bias_attr: if truthy, learn one (C_out,) bias per expert, routed like the kernels.
        num_experts: E (the notebook's default is 4; AlexNet-CondConv uses 2).
        impl: ``"auto" | "grouped" | "bmm" | "per_expert"`` (module docstring).

    Shapes:
        x [B, C_in, H, W] -> y [B, C_out, H_out, W_out], H_out = (H + 2p - d(k-1) - 1) // s + 1.
    """

    def __init__(self, inplanes, outplanes, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias_attr=True, num_experts=4, impl="auto"):
        super().__init__()
        if impl not in IMPLS:
            raise ValueError(f"CondConv2D: unknown impl {impl!r}; valid: {', '.join(IMPLS)}.")
        if groups < 1 or inplanes % groups or outplanes % groups:
            raise ValueError(f"CondConv2D: groups={groups} must divide inplanes={inplanes} "
                             f"and outplanes={outplanes}.")
        if num_experts < 1:
            raise ValueError(f"CondConv2D: num_experts must be >= 1, got {num_experts}.")
        self.inplanes, self.outplanes, self.groups = inplanes, outplanes, groups
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding")
        self.dilation = _pair(dilation, "dilation")
        self.num_experts, self.impl = num_experts, impl
        self.routing = RoutingAttention(inplanes, num_experts)
        kh, kw = self.kernel_size
        self.weight = self.create_parameter(
            [num_experts, outplanes, inplanes // groups, kh, kw],
            default_initializer=nn.initializer.KaimingNormal())
        # KaimingNormal on an (E, out) bias, as the notebook did: fan_in = E, std sqrt(2/E).
        self.bias = self.create_parameter(
            [num_experts, outplanes],
            default_initializer=nn.initializer.KaimingNormal()) if bias_attr else None

    def extra_repr(self):
        return (f"{self.inplanes}, {self.outplanes}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"groups={self.groups}, num_experts={self.num_experts}, "
                f"bias={self.bias is not None}, impl={self.impl}")

    def _out_hw(self, h, w):
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (self.kernel_size, self.stride, self.padding,
                                                  self.dilation)
        return (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1

    def _mixed_bias(self, attn):
        return None if self.bias is None else paddle.mm(attn, self.bias)  # [B, out]

    def _mixed_weight(self, attn):
        """Per-sample kernels: [B, E] x [E, out*in/g*kh*kw] -> [B, out*in/g*kh*kw]."""
        return paddle.mm(attn, self.weight.reshape([self.num_experts, -1]))

    def forward(self, x):
        """x: [B, C_in, H, W] -> [B, C_out, H_out, W_out]."""
        if x.ndim != 4 or x.shape[1] != self.inplanes:
            raise ValueError(f"CondConv2D expects [B, {self.inplanes}, H, W], got {list(x.shape)}.")
        attn = self.routing(x)  # [B, E]
        impl = AUTO_IMPL if self.impl == "auto" else self.impl  # deploy may set impl later
        return getattr(self, "_forward_" + impl)(x, attn)

    def _forward_grouped(self, x, attn):
        b, _, h, w = x.shape
        kh, kw = self.kernel_size
        weight = self._mixed_weight(attn).reshape([-1, self.inplanes // self.groups, kh, kw])
        bias = self._mixed_bias(attn)
        out = F.conv2d(x.reshape([1, -1, h, w]), weight,
                       None if bias is None else bias.reshape([-1]),
                       stride=self.stride, padding=self.padding, dilation=self.dilation,
                       groups=self.groups * b)
        return out.reshape([b, self.outplanes, out.shape[-2], out.shape[-1]])

    def _forward_bmm(self, x, attn):
        b, _, h, w = x.shape
        g = self.groups
        ho, wo = self._out_hw(h, w)
        cols = F.unfold(x, list(self.kernel_size), list(self.stride), list(self.padding),
                        list(self.dilation))  # [B, C_in*kh*kw, L], rows ordered (c, kh, kw)
        k = cols.shape[1] // g
        weight = self._mixed_weight(attn)
        # Computing [L, K] x [K, out/g] per sample (both operands transposed) and transposing
        # the small result back measured ~1.3x faster on CPU than [out/g, K] x [K, L]: MKL
        # prefers the long L*... dimension as M here.
        out = paddle.matmul(cols.reshape([b, g, k, -1]),
                            weight.reshape([b, g, self.outplanes // g, k]),
                            transpose_x=True, transpose_y=True)  # [B, g, L, out/g]
        out = out.transpose([0, 1, 3, 2]).reshape([b, self.outplanes, ho, wo])
        bias = self._mixed_bias(attn)
        return out if bias is None else out + bias.reshape([b, self.outplanes, 1, 1])

    def _forward_per_expert(self, x, attn):
        b = x.shape[0]
        e, g, og = self.num_experts, self.groups, self.outplanes // self.groups
        weight = self.weight
        if g > 1:
            # Output channels of a grouped conv must be group-major: (g, E, out/g).
            weight = weight.reshape([e, g, og] + weight.shape[2:]).transpose([1, 0, 2, 3, 4, 5])
        weight = weight.reshape([e * self.outplanes] + self.weight.shape[2:])
        y = F.conv2d(x, weight, None, stride=self.stride, padding=self.padding,
                     dilation=self.dilation, groups=g)  # [B, g*E*og, Ho, Wo]
        ho, wo = y.shape[-2], y.shape[-1]
        # Mix experts with a matmul ([B,1,1,E] @ [B,g,E,og*L]) rather than a broadcast
        # multiply + sum, which would allocate another E-times-output temporary.
        out = paddle.matmul(attn.reshape([b, 1, 1, e]), y.reshape([b, g, e, og * ho * wo]))
        out = out.reshape([b, self.outplanes, ho, wo])
        bias = self._mixed_bias(attn)
        return out if bias is None else out + bias.reshape([b, self.outplanes, 1, 1])
