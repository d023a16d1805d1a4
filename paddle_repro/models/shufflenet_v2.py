"""ShuffleNetV2 for 32x32 inputs (Ma et al., 2018, https://arxiv.org/abs/1807.11164).

A Paddle port of the PyTorch notebook (seed 004, after kuangliu/pytorch-cifar): 3x3 stride-1
stem to 24 channels (no max-pool, CIFAR images are small), three stages of one down unit
plus (3, 7, 3) basic units, 1x1 conv, ``avg_pool2d(4)``, linear.

Deviations and quirks, all as documented in RECIPES.md:

* ``num_classes``: the seed calls ``ShuffleNetV2(net_size=0.5, num_classes=10)`` but its
  ``__init__`` has no such argument and hard-codes 10 outputs; the port adds it.
* The seed's 2x row uses 224 first-stage channels where the paper's Table 5 has 244; we
  keep 224 so the seed's configs mean what they meant.
* The head pools with a fixed 4x4 window, as the seed: a 32x32 input gives a 4x4 map and
  then 1x1. Other input sizes give a larger map and the linear layer rejects it.
* BN momentum 0.9 in Paddle's convention = PyTorch's 0.1 (see ``layers/shuffle.py``).
* Init: the constructors draw Paddle's default; the configs build it with
  ``Arch.init: torch_default`` (``models/init.py``), the PyTorch notebook's init.
* BN running variance: PyTorch updates it with the unbiased batch variance, Paddle with the
  biased one (a factor n/(n-1), n = batch * H * W >= 2,048 here: <= 0.05 %, eval only).
"""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ..layers.shuffle import ShuffleBasicUnit, ShuffleDownUnit, batch_norm

# net_size -> stage output channels (3 stages + final 1x1 conv) and basic units per stage.
CONFIGS = {
    0.5: {"out_channels": (48, 96, 192, 1024), "num_blocks": (3, 7, 3)},
    1: {"out_channels": (116, 232, 464, 1024), "num_blocks": (3, 7, 3)},
    1.5: {"out_channels": (176, 352, 704, 1024), "num_blocks": (3, 7, 3)},
    2: {"out_channels": (224, 488, 976, 2048), "num_blocks": (3, 7, 3)},  # paper: 244
}


class ShuffleNetV2(nn.Layer):
    """ShuffleNetV2 for CIFAR.

    Args:
        net_size: width multiplier, one of 0.5, 1, 1.5, 2.
        num_classes: outputs of the final linear layer.
        impl: the units' ``"fast"`` (default) or ``"notebook"`` data movement; identical
            outputs and gradients (``layers/shuffle.py``).

    Input: [N, 3, 32, 32]; output: logits [N, num_classes].
    """

    def __init__(self, net_size=0.5, num_classes=10, impl="fast"):
        super().__init__()
        self.impl = impl
        if net_size not in CONFIGS:
            raise ValueError(f"ShuffleNetV2 net_size must be one of {sorted(CONFIGS)}, "
                             f"got {net_size!r}.")
        out_channels = CONFIGS[net_size]["out_channels"]
        num_blocks = CONFIGS[net_size]["num_blocks"]
        self.conv1 = nn.Conv2D(3, 24, 3, stride=1, padding=1, bias_attr=False)
        self.bn1 = batch_norm(24)
        self.in_channels = 24
        self.layer1 = self._make_layer(out_channels[0], num_blocks[0])
        self.layer2 = self._make_layer(out_channels[1], num_blocks[1])
        self.layer3 = self._make_layer(out_channels[2], num_blocks[2])
        self.conv2 = nn.Conv2D(out_channels[2], out_channels[3], 1, bias_attr=False)
        self.bn2 = batch_norm(out_channels[3])
        self.linear = nn.Linear(out_channels[3], num_classes)

    def _make_layer(self, out_channels, num_blocks):
        layers = [ShuffleDownUnit(self.in_channels, out_channels, impl=self.impl)]
        layers += [ShuffleBasicUnit(out_channels, impl=self.impl) for _ in range(num_blocks)]
        self.in_channels = out_channels
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = F.avg_pool2d(out, 4)
        return self.linear(paddle.flatten(out, 1))


def shufflenetv2_x0_5(num_classes=10, impl="fast"):
    """ShuffleNetV2 0.5x (the notebook's model): 352,042 trainable parameters at 10 classes."""
    return ShuffleNetV2(0.5, num_classes, impl)


def shufflenetv2_x1_0(num_classes=10, impl="fast"):
    """ShuffleNetV2 1x."""
    return ShuffleNetV2(1, num_classes, impl)


def shufflenetv2_x1_5(num_classes=10, impl="fast"):
    """ShuffleNetV2 1.5x."""
    return ShuffleNetV2(1.5, num_classes, impl)


def shufflenetv2_x2_0(num_classes=10, impl="fast"):
    """ShuffleNetV2 2x (seed channels 224/488/976/2048, not the paper's 244)."""
    return ShuffleNetV2(2, num_classes, impl)
