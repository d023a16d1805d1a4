"""PyTorch peers of the suite's custom-layer networks, for ``bench_deploy_peers.py`` only.

torch is a benchmark-only dependency (nothing in the package or the tests imports this file).

* ``alexnet_condconv``: AlexNet-BN with CondConv in the last three convs. The CondConv layer
  is timm's ``CondConv2d`` (``timm.layers``) when timm imports, else ``GroupedCondConv2d``
  below: the same grouped-conv formulation (one conv with ``groups = B`` over per-sample
  mixed kernels, the notebook's and timm's), the same parameter layout (weight [E, out*in*k*k],
  bias [E, out]) and call (``conv(x, routing_weights)``). timm leaves routing to the caller;
  ``CondConvBlock`` adds ours, sigmoid of a bias-free 1x1 conv of the pooled input.
* ``alexnet_acmix``: AlexNet with ACmix. The official code (LeapLabTHU/ACmix,
  ``ResNet/test_bottleneck.py``) is not on PyPI and is not copied here: pass its file with
  ``--acmix-official PATH`` and its ``ACmix`` class is used. Otherwise ``NotebookACmix``
  below: the suite's reference formulation (``tests/reference/notebook_acmix.py``, unfold +
  reflect pad) written in PyTorch. The official class has no ``dep_conv`` bias; ours is one
  scalar, 0 at init, which the port requires to be 0.
* ``resnet50_nam``: ``torch_models.ResNet50Cifar`` with NAM's channel gate at the end of every
  bottleneck, in its eval form with |gamma|/sum|gamma| folded into the BN affine (as
  ``paddle_repro.layers.nam``, impl "fast").

Every builder returns a model whose ``port(model, paddle_state)`` loads the Paddle weights,
so ``bench_deploy_peers.py`` can check equal outputs before it times anything.
"""
import importlib.util

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import torch_models


def _timm_condconv():
    """timm's CondConv2d class and timm's version, or (None, None) when timm does not import."""
    try:
        import timm  # noqa: PLC0415  (optional peer: imported only when asked for)
        from timm.layers import CondConv2d  # noqa: PLC0415
        return CondConv2d, timm.__version__
    except Exception:  # noqa: BLE001  ImportError, or a torchvision built for another torch
        return None, None


class GroupedCondConv2d(nn.Module):
    """CondConv, grouped-conv formulation; timm's parameter layout and call.

    Shapes: x [B, in, H, W], routing_weights [B, E] -> [B, out, H', W'].
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, padding=1, bias=True,
                 num_experts=2):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.padding = (kernel_size, kernel_size), padding
        self.weight = nn.Parameter(torch.zeros(num_experts, out_channels * in_channels * kernel_size ** 2))
        self.bias = nn.Parameter(torch.zeros(num_experts, out_channels)) if bias else None

    def forward(self, x, routing_weights):
        b, c, h, w = x.shape
        weight = torch.matmul(routing_weights, self.weight)
        weight = weight.view((b * self.out_channels, self.in_channels) + self.kernel_size)
        bias = None if self.bias is None else torch.matmul(routing_weights, self.bias).view(-1)
        out = F.conv2d(x.reshape(1, b * c, h, w), weight, bias, padding=self.padding, groups=b)
        return out.view(b, self.out_channels, out.shape[-2], out.shape[-1])


class Routing(nn.Module):
    """r(x) = sigmoid(conv1x1_no_bias(GAP(x))): [B, C, H, W] -> [B, E] (the suite's routing)."""

    def __init__(self, in_channels, num_experts):
        super().__init__()
        self.net = nn.Conv2d(in_channels, num_experts, 1, bias=False)

    def forward(self, x):
        return torch.sigmoid(self.net(F.adaptive_avg_pool2d(x, 1)).flatten(1))


class CondConvBlock(nn.Module):
    """Routing + a CondConv layer (timm's or ``GroupedCondConv2d``); [B, in, H, W] -> [B, out, H, W]."""

    def __init__(self, in_channels, out_channels, conv_class, num_experts=2):
        super().__init__()
        self.routing = Routing(in_channels, num_experts)
        self.conv = conv_class(in_channels, out_channels, kernel_size=3, padding=1, bias=True,
                               num_experts=num_experts)

    def forward(self, x):
        return self.conv(x, self.routing(x))


def _position(h, w, dtype):
    """[-1, 1] coordinate grid [1, 2, h, w] (x, then y), as ``paddle_repro.layers.acmix``."""
    loc_w = torch.linspace(-1.0, 1.0, w, dtype=dtype).unsqueeze(0).repeat(h, 1)
    loc_h = torch.linspace(-1.0, 1.0, h, dtype=dtype).unsqueeze(1).repeat(1, w)
    return torch.cat([loc_w.unsqueeze(0), loc_h.unsqueeze(0)], 0).unsqueeze(0)


class NotebookACmix(nn.Module):
    """The suite's reference ACmix formulation in PyTorch (stride 1, dilation 1, kernel_conv 3).

    Shapes: x [B, in, H, W] -> [B, out, H, W] (H, W >= 4 for the 7x7 reflect-padded window).
    """

    def __init__(self, in_planes, out_planes, kernel_att=7, head=4, kernel_conv=3):
        super().__init__()
        self.out_planes, self.head, self.kernel_att = out_planes, head, kernel_att
        self.head_dim = out_planes // head
        self.rate1 = nn.Parameter(torch.full((1,), 0.5))
        self.rate2 = nn.Parameter(torch.full((1,), 0.5))
        self.conv1 = nn.Conv2d(in_planes, out_planes, 1)
        self.conv2 = nn.Conv2d(in_planes, out_planes, 1)
        self.conv3 = nn.Conv2d(in_planes, out_planes, 1)
        self.conv_p = nn.Conv2d(2, self.head_dim, 1)
        self.padding_att = (kernel_att - 1 + 1) // 2
        self.fc = nn.Conv2d(3 * head, kernel_conv * kernel_conv, 1, bias=False)
        self.dep_conv = nn.Conv2d(kernel_conv * kernel_conv * self.head_dim, out_planes, kernel_conv,
                                  bias=False, groups=self.head_dim, padding=1)
        self.dep_bias = nn.Parameter(torch.zeros(1))  # the notebook's one shared scalar

    def _unfold(self, t, h, w):
        """[N, C, H, W] -> [N, C, k^2, H, W] windows of the reflect-padded map."""
        t = F.unfold(F.pad(t, [self.padding_att] * 4, mode="reflect"), self.kernel_att)
        return t.view(t.shape[0], self.head_dim, self.kernel_att ** 2, h, w)

    def forward(self, x):
        q, k, v = self.conv1(x), self.conv2(x), self.conv3(x)
        b, _, h, w = q.shape
        bh, c = b * self.head, self.head_dim
        pe = self.conv_p(_position(h, w, x.dtype))
        q_att = q.view(bh, c, h, w) * float(c) ** -0.5
        att = (q_att.unsqueeze(2) * (self._unfold(k.view(bh, c, h, w), h, w) + pe.unsqueeze(2)
                                     - self._unfold(pe, h, w))).sum(1)
        att = F.softmax(att, dim=1)
        out_att = (att.unsqueeze(1) * self._unfold(v.view(bh, c, h, w), h, w)).sum(2)
        out_att = out_att.view(b, self.out_planes, h, w)
        f_all = self.fc(torch.cat([t.view(b, self.head, c, h * w) for t in (q, k, v)], 1))
        f_conv = f_all.permute(0, 2, 1, 3).reshape(b, -1, h, w)
        return self.rate1 * out_att + self.rate2 * (self.dep_conv(f_conv) + self.dep_bias)


def official_acmix_class(path):
    """The ``ACmix`` class of the official file at ``path`` (LeapLabTHU/ACmix)."""
    spec = importlib.util.spec_from_file_location("official_acmix", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ACmix


class AlexNetMixer(nn.Module):
    """AlexNet at 128x128 whose last three convs are ``mixer(cin, cout)``; indices as the suite's.

    Shapes: x [B, 3, 128, 128] -> [B, num_classes].
    """

    def __init__(self, mixer, bn, num_classes=10):
        super().__init__()

        def block(layer, cout):
            return [layer] + ([nn.BatchNorm2d(cout)] if bn else []) + [nn.ReLU()]

        self.features = nn.Sequential(
            *block(nn.Conv2d(3, 48, 11, stride=4, padding=5), 48), nn.MaxPool2d(3, 2),
            *block(nn.Conv2d(48, 128, 5, padding=2), 128), nn.MaxPool2d(3, 2),
            *block(mixer(128, 192), 192), *block(mixer(192, 192), 192),
            *block(mixer(192, 128), 128), nn.MaxPool2d(3, 2))
        self.classifier = torch_models.AlexNet(num_classes).classifier  # same Linear stack

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class NAM(nn.Module):
    """NAM channel gate, eval form: sigmoid(BN(x) * |g|/sum|g|) * x, [N, C, H, W] -> same."""

    def __init__(self, channels):
        super().__init__()
        self.bn_channel = nn.BatchNorm2d(channels)

    def forward(self, x):
        bn = self.bn_channel
        w = bn.weight.abs() / bn.weight.abs().sum()
        y = F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight * w, bn.bias * w,
                         False, 0.0, bn.eps)
        return torch.sigmoid(y) * x


class BottleneckNAM(torch_models.Bottleneck):
    """The suite's bottleneck with NAM before the residual add."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__(inplanes, planes, stride, downsample)
        self.attention = NAM(planes * 4)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        return F.relu(self.attention(self.bn3(self.conv3(out))) + identity)


class ResNet50CifarNAM(torch_models.ResNet50Cifar):
    def _make_layer(self, planes, blocks, stride):
        out = planes * 4
        downsample = None
        if stride != 1 or self.inplanes != out:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, out, 1, stride=stride, bias=False),
                                       nn.BatchNorm2d(out))
        layers = [BottleneckNAM(self.inplanes, planes, stride, downsample)]
        self.inplanes = out
        layers += [BottleneckNAM(out, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)


def build(name, acmix_official=None):
    """(torch model in eval mode, description of the peer) for a registry name.

    Raises:
        KeyError: no peer for ``name``.
    """
    if name == "alexnet_condconv":
        timm_class, version = _timm_condconv()
        conv_class = timm_class or GroupedCondConv2d
        model = AlexNetMixer(lambda cin, cout: CondConvBlock(cin, cout, conv_class), bn=True)
        peer = f"timm {version} CondConv2d" if timm_class else \
            "GroupedCondConv2d (timm's formulation; timm not importable)"
    elif name == "alexnet_acmix":
        acmix = official_acmix_class(acmix_official) if acmix_official else NotebookACmix
        model = AlexNetMixer(lambda cin, cout: acmix(cin, cout, kernel_att=7, head=4, kernel_conv=3),
                             bn=False)
        peer = f"official ACmix ({acmix_official})" if acmix_official else \
            "NotebookACmix (the suite's reference formulation; no --acmix-official)"
    elif name == "resnet50_nam":
        model, peer = ResNet50CifarNAM(10), "ResNet50-CIFAR + NAM channel gate (folded BN)"
    elif name == "resnet50":
        model, peer = torch_models.ResNet50Cifar(10), "torch_models.ResNet50Cifar"
    else:
        model, peer = torch_models.BUILDERS[name](), f"torch_models.{name}"
    return model.eval(), peer


def port(model, paddle_state):
    """Loads ``{key: numpy array}`` of the suite's Paddle model into the peer (in place).

    CondConv: Paddle's weight [E, out, in, k, k] and bias [E, out] go to the layer's
    [E, out*in*k*k] and [E, out]. ACmix: the scalar ``dep_conv.bias`` goes to ``dep_bias``,
    or must be 0 for the official class, which has none.
    """
    state = dict(paddle_state)
    for prefix, module in model.named_modules():
        if isinstance(module, CondConvBlock):
            weight = np.asarray(state.pop(prefix + ".weight"))
            state[prefix + ".conv.weight"] = weight.reshape(weight.shape[0], -1)
            state[prefix + ".conv.bias"] = state.pop(prefix + ".bias")
        elif hasattr(module, "rate1") and prefix + ".dep_conv.bias" in state:
            bias = np.asarray(state.pop(prefix + ".dep_conv.bias")).reshape(1)
            if isinstance(module, NotebookACmix):
                state[prefix + ".dep_bias"] = bias
            elif np.any(bias != 0):
                raise ValueError(f"{prefix}: dep_conv.bias is {bias[0]}, the official ACmix has "
                                 "no bias; port an untrained (bias 0) model.")
    return torch_models.port_from_paddle(model, state)
