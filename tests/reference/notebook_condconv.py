"""Reference transcriptions of the notebooks' CondConv and AlexNet code (the specification).

These classes copy the notebooks' logic line by line so tests and benchmarks can check that
``paddle_repro`` computes the same numbers. They are NOT part of the package and must stay
as written in the notebooks, quirks included; only the names below were changed so that
classes from different notebooks can live in one file.

Sources (``/work/shared/seeds``):
- 000 (CondConv, Paddle): ``RoutingAttention``, ``CondConv2D``, ``AlexNet_CondConv`` and the
  BN baseline, called ``AlexNet`` in the notebook, here ``AlexNet_BN``.
- 001 (CondConv explainer, PyTorch): the per-sample-loop ``CondConv2D``, ported to Paddle as
  ``ExplainerCondConv2D`` (routing ``_routing`` -> ``ExplainerRouting``). Differences from 000
  that are the explainer's own: routing is dropout + Linear WITH bias on the pooled vector,
  and the bias is ONE shared ``(out,)`` vector, not routed per expert. With dropout 0, routing
  bias 0 and no conv bias it computes exactly 000's function.
- 002 (ACmix, Paddle): the plain baseline without BN, called ``AlexNet`` in the notebook, here
  ``AlexNet_Plain``; and ``AlexNet_ACmix``, which takes the ACmix class as an argument because
  the ACmix layer is transcribed elsewhere (``paddle_repro.layers.acmix``, impl="notebook").
"""
import paddle
import paddle.nn.functional as F
from paddle import nn


# ----------------------------------------------------------------------------- 000
class RoutingAttention(nn.Layer):
    def __init__(self, inplanes, num_experts):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2D(1)
        self.net = nn.Conv2D(inplanes, num_experts, 1, bias_attr=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        attn = self.avgpool(x)
        attn = self.net(attn).reshape((attn.shape[0], -1))
        return self.sigmoid(attn)


class CondConv2D(nn.Layer):
    def __init__(self, inplanes, outplanes, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias_attr=True, num_experts=4):
        super().__init__()
        self.inplanes = inplanes
        self.outplanes = outplanes
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.bias = bias_attr
        self.num_experts = num_experts
        self.routing = RoutingAttention(inplanes=inplanes, num_experts=num_experts)
        self.weight = self.create_parameter(
            (num_experts, outplanes, inplanes // groups, kernel_size, kernel_size),
            default_initializer=nn.initializer.KaimingNormal())
        if bias_attr:
            self.bias = self.create_parameter((num_experts, outplanes),
                                              default_initializer=nn.initializer.KaimingNormal())
        else:
            self.bias = None

    def forward(self, x):
        b, c, h, w = x.shape
        attn = self.routing(x)
        x = x.reshape((1, -1, h, w))
        weight = paddle.mm(attn, self.weight.reshape((self.num_experts, -1))).reshape(
            (-1, self.inplanes // self.groups, self.kernel_size, self.kernel_size))
        if self.bias is not None:
            bias = paddle.mm(attn, self.bias.reshape((self.num_experts, -1))).reshape([-1])
            output = F.conv2d(x, weight=weight, bias=bias, stride=self.stride, padding=self.padding,
                              dilation=self.dilation, groups=self.groups * b)
        else:
            bias = None
            output = F.conv2d(x, weight=weight, bias=bias, stride=self.stride, padding=self.padding,
                              dilation=self.dilation, groups=self.groups * b)
        output = output.reshape((b, self.outplanes, output.shape[-2], output.shape[-1]))
        return output


def _classifier(num_classes):
    return nn.Sequential(
        nn.Linear(3 * 3 * 128, 2048), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(2048, 2048), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(2048, num_classes),
    )


class AlexNet_CondConv(nn.Layer):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2D(3, 48, kernel_size=11, stride=4, padding=11 // 2),
            nn.BatchNorm(48),
            nn.ReLU(),
            nn.MaxPool2D(kernel_size=3, stride=2),
            nn.Conv2D(48, 128, kernel_size=5, padding=2),
            nn.BatchNorm(128),
            nn.ReLU(),
            nn.MaxPool2D(kernel_size=3, stride=2),
            CondConv2D(128, 192, kernel_size=3, stride=1, padding=1, num_experts=2),
            nn.BatchNorm(192),
            nn.ReLU(),
            CondConv2D(192, 192, kernel_size=3, stride=1, padding=1, num_experts=2),
            nn.BatchNorm(192),
            nn.ReLU(),
            CondConv2D(192, 128, kernel_size=3, stride=1, padding=1, num_experts=2),
            nn.BatchNorm(128),
            nn.ReLU(),
            nn.MaxPool2D(kernel_size=3, stride=2),
        )
        self.classifier = _classifier(num_classes)

    def forward(self, x):
        x = self.features(x)
        x = paddle.flatten(x, 1)
        x = self.classifier(x)
        return x


class AlexNet_BN(nn.Layer):
    """000's baseline (``AlexNet`` in the notebook): plain convs, ``nn.BatchNorm2D``."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2D(3, 48, kernel_size=11, stride=4, padding=11 // 2),
            nn.BatchNorm2D(48),
            nn.ReLU(),
            nn.MaxPool2D(kernel_size=3, stride=2),
            nn.Conv2D(48, 128, kernel_size=5, padding=2),
            nn.BatchNorm2D(128),
            nn.ReLU(),
            nn.MaxPool2D(kernel_size=3, stride=2),
            nn.Conv2D(128, 192, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2D(192),
            nn.ReLU(),
            nn.Conv2D(192, 192, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2D(192),
            nn.ReLU(),
            nn.Conv2D(192, 128, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2D(128),
            nn.ReLU(),
            nn.MaxPool2D(kernel_size=3, stride=2),
        )
        self.classifier = _classifier(num_classes)

    def forward(self, x):
        x = self.features(x)
        x = paddle.flatten(x, 1)
        x = self.classifier(x)
        return x


# ----------------------------------------------------------------------------- 002
class AlexNet_Plain(nn.Layer):
    """002's baseline (``AlexNet`` in the ACmix notebook): no BatchNorm."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2D(3, 48, kernel_size=11, stride=4, padding=11 // 2),
            nn.ReLU(),
            nn.MaxPool2D(kernel_size=3, stride=2),
            nn.Conv2D(48, 128, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2D(kernel_size=3, stride=2),
            nn.Conv2D(128, 192, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.Conv2D(192, 192, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.Conv2D(192, 128, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2D(kernel_size=3, stride=2),
        )
        self.classifier = _classifier(num_classes)

    def forward(self, x):
        x = self.features(x)
        x = paddle.flatten(x, 1)
        x = self.classifier(x)
        return x


class AlexNet_ACmix(nn.Layer):
    """002's ``AlexNet_ACmix``; ``ACmix`` is passed in (the notebook's class, or an equivalent)."""

    def __init__(self, ACmix, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2D(3, 48, kernel_size=11, stride=4, padding=11 // 2),
            nn.ReLU(),
            nn.MaxPool2D(kernel_size=3, stride=2),
            nn.Conv2D(48, 128, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2D(kernel_size=3, stride=2),
            ACmix(128, 192, kernel_conv=3, stride=1),
            nn.ReLU(),
            ACmix(192, 192, kernel_conv=3, stride=1),
            nn.ReLU(),
            ACmix(192, 128, kernel_conv=3, stride=1),
            nn.ReLU(),
            nn.MaxPool2D(kernel_size=3, stride=2),
        )
        self.classifier = _classifier(num_classes)

    def forward(self, x):
        x = self.features(x)
        x = paddle.flatten(x, 1)
        x = self.classifier(x)
        return x


# ----------------------------------------------------------------------------- 001 (PyTorch -> Paddle)
class ExplainerRouting(nn.Layer):
    """001's ``_routing``: flatten the pooled (1, C, 1, 1) input, dropout, Linear, sigmoid."""

    def __init__(self, in_channels, num_experts, dropout_rate):
        super().__init__()
        self.dropout = nn.Dropout(dropout_rate)
        self.fc = nn.Linear(in_channels, num_experts)

    def forward(self, x):
        x = paddle.flatten(x)
        x = self.dropout(x)
        x = self.fc(x)
        return F.sigmoid(x)


class ExplainerCondConv2D(nn.Layer):
    """001's ``CondConv2D``: a Python loop over the samples, one conv per sample."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, num_experts=3, dropout_rate=0.2):
        super().__init__()
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self._routing_fn = ExplainerRouting(in_channels, num_experts, dropout_rate)
        self.weight = self.create_parameter(
            (num_experts, out_channels, in_channels // groups, kernel_size, kernel_size))
        self.bias = self.create_parameter((out_channels,), is_bias=True) if bias else None

    def _conv_forward(self, input, weight):
        return F.conv2d(input, weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def forward(self, inputs):
        res = []
        for input in inputs:
            input = input.unsqueeze(0)
            pooled_inputs = F.adaptive_avg_pool2d(input, output_size=(1, 1))
            routing_weights = self._routing_fn(pooled_inputs)
            kernels = paddle.sum(routing_weights[:, None, None, None, None] * self.weight, 0)
            out = self._conv_forward(input, kernels)
            res.append(out)
        return paddle.concat(res, axis=0)
