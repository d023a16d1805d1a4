"""AlexNet for 128x128 CIFAR inputs, as in the CondConv (000) and ACmix (002) notebooks.

Krizhevsky et al., 2012 (the network); CondConv arXiv:1904.04971; ACmix arXiv:2111.14556.
One class covers the four notebook models; the ablation is two constructor arguments:
``conv`` (what the last three convs are: a name of the ``CONVS`` slot, which a user's module
can fill too) and ``norm`` (BatchNorm after every conv or not).

    features: conv11/4 3->48 [bn] relu maxpool3/2 | conv5 48->128 [bn] relu maxpool3/2 |
              X 128->192 [bn] relu | X 192->192 [bn] relu | X 192->128 [bn] relu maxpool3/2
    classifier: 1152->2048 relu dropout | 2048->2048 relu dropout | 2048->num_classes
    with X = Conv2D 3x3 pad 1 | CondConv2D 3x3 pad 1 (2 experts) | ACmix(kernel_conv=3)

The ``nn.Sequential`` indices are the notebooks', so their state dicts load as they are
(no key map is needed). Deviations / choices, all numerically neutral:
- 000's CondConv model uses the legacy ``nn.BatchNorm``, its baseline ``nn.BatchNorm2D``. Both
  have the same parameters (weight, bias, _mean, _variance), momentum 0.9 and epsilon 1e-5 and
  give identical outputs in train and eval mode (tested), so we use ``nn.BatchNorm2D`` always.
- Initialization is Paddle's default (``Arch.init: paddle_default``, see ``models/init.py``).
  The notebooks' ``init_weight`` was a no-op: its Kaiming line builds an initializer without
  applying it, and its BN lines restate the defaults.
"""

from paddle import nn

from ..layers.acmix import ACmix
from ..layers.condconv import CondConv2D
from ..registry import Registry
from .errors import ModelChoiceError, check_options, check_registered


def _plain(cin, cout):
    return nn.Conv2D(cin, cout, kernel_size=3, stride=1, padding=1)


def _condconv(cin, cout, num_experts=2, impl="auto"):
    return CondConv2D(cin, cout, kernel_size=3, stride=1, padding=1, num_experts=num_experts,
                      impl=impl)


def _acmix(cin, cout, impl="fast"):
    # The notebook's call: ACmix(cin, cout, kernel_conv=3, stride=1), kernel_att 7, head 4.
    return ACmix(cin, cout, kernel_att=7, head=4, kernel_conv=3, stride=1, impl=impl)


# The conv slot: name -> builder(in_channels, out_channels, **options) of a layer mapping
# [N, in, H, W] to [N, out, H, W] (a 3x3 "same" conv's shapes). A user's module adds one with
# ``paddle_repro.register_conv``; ``Arch: {name: alexnet_bn, conv: <name>}`` then uses it.
CONVS = Registry("conv", {"plain": _plain, "condconv": _condconv, "acmix": _acmix})
NORMS = {None: None, "bn": nn.BatchNorm2D}


class AlexNet(nn.Layer):
    """AlexNet with a choice of the last three convolutions and of BatchNorm.

    Args:
        num_classes: K, size of the last Linear.
        conv: a ``CONVS`` name for the three 3x3 layers: ``"plain" | "condconv" | "acmix"``
            or one a user registered.
        norm: ``None`` (002's models) or ``"bn"`` (000's models): BatchNorm2D after every conv.
        conv_options: keyword arguments of that conv's builder (``condconv``: ``num_experts``,
            000: 2, and ``impl``, ``"auto" | "grouped" | "bmm" | "per_expert"``; ``acmix``:
            ``impl``, ``"fast" | "notebook"``).
        dropout: dropout probability in the classifier (notebooks: 0.5).

    Shapes:
        x [B, 3, 128, 128] -> logits [B, K]. The classifier expects 128x128 inputs
        (3x3x128 features), as the notebooks resize CIFAR to 128.
    """

    def __init__(self, num_classes=10, conv="plain", norm=None, conv_options=None, dropout=0.5):
        super().__init__()
        check_registered("AlexNet conv", conv, CONVS, "register_conv")
        if norm not in NORMS:
            raise ModelChoiceError(f"AlexNet: unknown norm {norm!r}; valid: None (no norm), 'bn'.")
        check_options(f"conv {conv!r}", CONVS[conv], conv_options, "Arch.conv_options", skip=2)
        make_conv, norm_layer = CONVS[conv], NORMS[norm]

        def block(layer, cout):
            return [layer] + ([norm_layer(cout)] if norm_layer else []) + [nn.ReLU()]

        def mixer(cin, cout):
            return make_conv(cin, cout, **(conv_options or {}))

        self.features = nn.Sequential(
            *block(nn.Conv2D(3, 48, kernel_size=11, stride=4, padding=11 // 2), 48),
            nn.MaxPool2D(kernel_size=3, stride=2),
            *block(nn.Conv2D(48, 128, kernel_size=5, padding=2), 128),
            nn.MaxPool2D(kernel_size=3, stride=2),
            *block(mixer(128, 192), 192),
            *block(mixer(192, 192), 192),
            *block(mixer(192, 128), 128),
            nn.MaxPool2D(kernel_size=3, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(3 * 3 * 128, 2048), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(2048, 2048), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(2048, num_classes),
        )

    def forward(self, x):
        """x: [B, 3, 128, 128] -> logits [B, num_classes]."""
        x = self.features(x)
        return self.classifier(x.flatten(1))


# ----- registry builders -------------------------------------------------------------------
# ``alexnet`` / ``alexnet_bn`` take any ``CONVS`` entry (``conv``, ``conv_options``); the
# notebooks' CondConv and ACmix models fix theirs and expose its options as their own keys.
def alexnet(num_classes=10, conv="plain", conv_options=None, dropout=0.5):
    """002's baseline ``AlexNet``: plain convs, no BatchNorm (7,524,042 params at K=10)."""
    return AlexNet(num_classes, conv, None, conv_options, dropout)


def alexnet_bn(num_classes=10, conv="plain", conv_options=None, dropout=0.5):
    """000's baseline ``AlexNet``: plain convs with BatchNorm (7,526,794 params at K=10)."""
    return AlexNet(num_classes, conv, "bn", conv_options, dropout)


def alexnet_condconv(num_classes=10, num_experts=2, dropout=0.5, condconv_impl="auto"):
    """000's ``AlexNet_CondConv``: BN, CondConv with 2 experts (8,302,474 params at K=10)."""
    return AlexNet(num_classes, "condconv", "bn", dict(num_experts=num_experts, impl=condconv_impl),
                   dropout)


def alexnet_acmix(num_classes=10, dropout=0.5, acmix_impl="fast"):
    """002's ``AlexNet_ACmix``: ACmix, no BatchNorm (7,051,159 params at K=10)."""
    return AlexNet(num_classes, "acmix", None, dict(impl=acmix_impl), dropout)
