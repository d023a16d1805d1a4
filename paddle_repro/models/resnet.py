"""ResNet (He et al., 2015, https://arxiv.org/abs/1512.03385) with optional NAM attention
(Liu et al., 2021, https://arxiv.org/abs/2111.12419).

One class, ``ResNet(depth, stem, attention)``, covers both networks of the NAM notebook
(seed 003), which copied ``paddle.vision.models.resnet`` and changed it:

* ``stem="cifar"`` (the notebook's NAM model): 3x3 stride-1 conv, no max-pool, as in
  weiaicunzai/pytorch-cifar100. ``stem="imagenet"``: 7x7/2 conv + 3x3/2 max-pool, exactly
  ``paddle.vision.models.resnet*`` (same state-dict keys, so its weights load as they are).
* ``attention="nam"``: a ``NAM`` at the end of every block, after the last BN and before
  the residual add, as the notebook. The slot is generic: ``ATTENTIONS`` maps a name to a
  builder ``(channels, hw, **options) -> nn.Layer`` whose layer maps [N, C, H, W] to the same
  shape, so another block attention (SE, CBAM) is one registration
  (``paddle_repro.register_attention``, ``docs/extending.md``) and then
  ``Arch: {name: resnet18, attention: se}`` on any depth. Its parameters live under
  ``<block>.attention.*`` (NAM: ``<block>.attention.bn_channel``; the notebook's
  ``<block>.nam.Channel_Att.bn2`` and our checkpoints' earlier ``<block>.nam.*`` load
  through ``models.weights``).
* Beyond the notebook, off by default: ``nam_spatial`` (the paper's pixel attention, which
  needs the input ``image_size`` to size its per-position BNs) and ``nam_lambda`` (the
  paper's L1 sparsity penalty, returned by ``regularization_loss()``).
* The notebook's baseline was ``paddle.vision.models.resnet50()``: ImageNet stem and 1000
  classes on CIFAR-100. That is ``resnet50_imagenet`` here; ``resnet50`` is the fair
  baseline (CIFAR stem, no NAM, 100 classes).
"""
import paddle
import paddle.nn as nn

from ..layers.nam import NAM, collect_sparsity_loss
from ..registry import Registry
from ..suggest import check_choice
from .errors import ModelChoiceError, check_options, check_registered

STEMS = ("cifar", "imagenet")


def _nam_attention(channels, hw, sparsity=0.0, spatial=False, impl="fast"):
    """NAM (arXiv:2111.12419) for a block with ``channels`` outputs on ``hw`` = H*W pixels."""
    return NAM(channels, impl=impl, spatial=spatial, spatial_size=hw if spatial else None,
               sparsity=sparsity)


# name -> builder(channels, hw, **options) of the Layer each block applies before its add
ATTENTIONS = Registry("attention", {"nam": _nam_attention})


class BasicBlock(nn.Layer):
    """Two 3x3 convs; ``expansion`` 1. ``attention``: None or a Layer applied before the add.

    Input [N, inplanes, H, W] -> [N, planes, H/stride, W/stride].
    """

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, attention=None):
        super().__init__()
        self.conv1 = nn.Conv2D(inplanes, planes, 3, padding=1, stride=stride, bias_attr=False)
        self.bn1 = nn.BatchNorm2D(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2D(planes, planes, 3, padding=1, bias_attr=False)
        self.bn2 = nn.BatchNorm2D(planes)
        self.downsample = downsample
        self.attention = attention  # None adds no state-dict keys, so plain keys = paddle.vision

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.attention is not None:
            out = self.attention(out)
        return self.relu(out + identity)


class BottleneckBlock(nn.Layer):
    """1x1 reduce, 3x3 (carries the stride, as paddle.vision), 1x1 expand; ``expansion`` 4.

    Input [N, inplanes, H, W] -> [N, 4*planes, H/stride, W/stride].
    """

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, attention=None):
        super().__init__()
        self.conv1 = nn.Conv2D(inplanes, planes, 1, bias_attr=False)
        self.bn1 = nn.BatchNorm2D(planes)
        self.conv2 = nn.Conv2D(planes, planes, 3, padding=1, stride=stride, bias_attr=False)
        self.bn2 = nn.BatchNorm2D(planes)
        self.conv3 = nn.Conv2D(planes, planes * 4, 1, bias_attr=False)
        self.bn3 = nn.BatchNorm2D(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.attention = attention

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.attention is not None:
            out = self.attention(out)
        return self.relu(out + identity)


LAYER_CFG = {
    18: (BasicBlock, [2, 2, 2, 2]),
    34: (BasicBlock, [3, 4, 6, 3]),
    50: (BottleneckBlock, [3, 4, 6, 3]),
    101: (BottleneckBlock, [3, 4, 23, 3]),
    152: (BottleneckBlock, [3, 8, 36, 3]),
}


def _half(size):
    """Output size of a stride-2 conv/pool with 'same' padding: ceil(size / 2)."""
    return (size + 1) // 2


class ResNet(nn.Layer):
    """ResNet-{18,34,50,101,152} with a CIFAR or ImageNet stem and optional block attention.

    Args:
        depth: 18, 34, 50, 101 or 152.
        num_classes: outputs of ``fc``.
        stem: ``"cifar"`` (3x3/1 conv, no max-pool) or ``"imagenet"`` (7x7/2 + max-pool).
        attention: None or a name in ``ATTENTIONS`` (``"nam"``: channel NAM at the end of
            every block; a user's ``register_attention`` name likewise).
        attention_options: keyword arguments of that builder (NAM: ``sparsity``, the L1
            penalty weight of ``regularization_loss``; ``spatial``, its pixel branch;
            ``impl``, ``"fast"`` or ``"notebook"``).
        image_size: input H (=W) or [H, W]; gives each block's H*W to the builder (NAM's
            pixel-attention BNs are sized by it).

    Input: [N, 3, H, W]; output: logits [N, num_classes].
    """

    def __init__(self, depth=50, num_classes=100, stem="cifar", attention=None,
                 attention_options=None, image_size=32):
        super().__init__()
        check_choice("ResNet depth", depth, sorted(LAYER_CFG), ModelChoiceError)
        check_choice("ResNet stem", stem, STEMS, ModelChoiceError)
        check_registered("ResNet attention", attention, ATTENTIONS, "register_attention")
        if attention is None and attention_options:
            raise ModelChoiceError(f"ResNet: attention_options {attention_options} need an attention "
                                   f"(one of {sorted(ATTENTIONS)}).")
        if attention is not None:  # after (channels, hw), the builder's own keyword arguments
            check_options(f"attention {attention!r}", ATTENTIONS[attention], attention_options,
                          "Arch.attention_options", skip=2)
        block, layers = LAYER_CFG[depth]
        self.depth, self.stem, self.attention = depth, stem, attention
        self.num_classes = num_classes
        h, w = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)

        if stem == "cifar":
            self.conv1 = nn.Conv2D(3, 64, 3, stride=1, padding=1, bias_attr=False)
        else:
            self.conv1 = nn.Conv2D(3, 64, 7, stride=2, padding=3, bias_attr=False)
            self.maxpool = nn.MaxPool2D(kernel_size=3, stride=2, padding=1)
            h, w = _half(_half(h)), _half(_half(w))
        self.bn1 = nn.BatchNorm2D(64)
        self.relu = nn.ReLU()

        def make_attention(channels, hw):
            if attention is None:
                return None
            return ATTENTIONS[attention](channels, hw, **(attention_options or {}))

        self.inplanes = 64
        stages = []
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
            stride = 1 if i == 0 else 2
            if stride == 2:
                h, w = _half(h), _half(w)
            stages.append(self._make_layer(block, planes, blocks, stride,
                                           lambda c, hw=h * w: make_attention(c, hw)))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2D((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride, make_attention):
        out = planes * block.expansion
        downsample = None
        if stride != 1 or self.inplanes != out:
            downsample = nn.Sequential(
                nn.Conv2D(self.inplanes, out, 1, stride=stride, bias_attr=False),
                nn.BatchNorm2D(out))
        layers = [block(self.inplanes, planes, stride, downsample, make_attention(out))]
        self.inplanes = out
        layers += [block(out, planes, attention=make_attention(out)) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        """x: [N, 3, H, W] -> logits [N, num_classes]."""
        x = self.relu(self.bn1(self.conv1(x)))
        if self.stem == "imagenet":
            x = self.maxpool(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(paddle.flatten(self.avgpool(x), 1))

    def regularization_loss(self):
        """NAM's L1 sparsity penalty ``λ·Σ|γ|`` (scalar tensor), or None when λ = 0 / no NAM."""
        return collect_sparsity_loss(self)


# ----- registry builders: CIFAR stem, no attention unless Arch.attention names one ---------
# ``attention``/``attention_options``: any ``ATTENTIONS`` entry and its keyword arguments;
# ``image_size``: the input H (=W) or [H, W] that sizes each block's ``hw`` for it.
def resnet18(num_classes=100, stem="cifar", attention=None, attention_options=None, image_size=32):
    """ResNet-18, CIFAR stem by default."""
    return ResNet(18, num_classes, stem, attention, attention_options, image_size)


def resnet34(num_classes=100, stem="cifar", attention=None, attention_options=None, image_size=32):
    """ResNet-34, CIFAR stem by default."""
    return ResNet(34, num_classes, stem, attention, attention_options, image_size)


def resnet50(num_classes=100, stem="cifar", attention=None, attention_options=None, image_size=32):
    """ResNet-50, CIFAR stem by default (the NAM run's fair baseline)."""
    return ResNet(50, num_classes, stem, attention, attention_options, image_size)


def resnet101(num_classes=100, stem="cifar", attention=None, attention_options=None, image_size=32):
    """ResNet-101, CIFAR stem by default."""
    return ResNet(101, num_classes, stem, attention, attention_options, image_size)


def resnet152(num_classes=100, stem="cifar", attention=None, attention_options=None, image_size=32):
    """ResNet-152, CIFAR stem by default."""
    return ResNet(152, num_classes, stem, attention, attention_options, image_size)


def resnet50_imagenet(num_classes=1000):
    """= ``paddle.vision.models.resnet50()``: ImageNet stem, 1000 classes (notebook baseline)."""
    return ResNet(50, num_classes, stem="imagenet")


# ----- registry builders: NAM -------------------------------------------------------------
def _nam(depth, num_classes, stem, nam_lambda, nam_spatial, nam_impl, image_size):
    """The config's ``nam_*`` keys (Arch kwargs of the *_nam models) -> NAM's options."""
    return ResNet(depth, num_classes, stem, "nam",
                  dict(sparsity=nam_lambda, spatial=nam_spatial, impl=nam_impl), image_size)


def resnet18_nam(num_classes=100, stem="cifar", nam_lambda=0.0, nam_spatial=False,
                 nam_impl="fast", image_size=32):
    """ResNet-18 + NAM."""
    return _nam(18, num_classes, stem, nam_lambda, nam_spatial, nam_impl, image_size)


def resnet34_nam(num_classes=100, stem="cifar", nam_lambda=0.0, nam_spatial=False,
                 nam_impl="fast", image_size=32):
    """ResNet-34 + NAM."""
    return _nam(34, num_classes, stem, nam_lambda, nam_spatial, nam_impl, image_size)


def resnet50_nam(num_classes=100, stem="cifar", nam_lambda=0.0, nam_spatial=False,
                 nam_impl="fast", image_size=32):
    """ResNet-50 + NAM, the notebook's model: 23,818,788 parameters (BN stats included)."""
    return _nam(50, num_classes, stem, nam_lambda, nam_spatial, nam_impl, image_size)


def resnet101_nam(num_classes=100, stem="cifar", nam_lambda=0.0, nam_spatial=False,
                  nam_impl="fast", image_size=32):
    """ResNet-101 + NAM."""
    return _nam(101, num_classes, stem, nam_lambda, nam_spatial, nam_impl, image_size)


def resnet152_nam(num_classes=100, stem="cifar", nam_lambda=0.0, nam_spatial=False,
                  nam_impl="fast", image_size=32):
    """ResNet-152 + NAM."""
    return _nam(152, num_classes, stem, nam_lambda, nam_spatial, nam_impl, image_size)
