"""The peer networks in PyTorch, for ``bench_peers.py`` only (torch is an optional,
benchmark-only dependency: nothing in the package or the tests imports this file).

* ``ShuffleNetV2`` (0.5x): notebook 004's code (kuangliu/pytorch-cifar), transcribed, with
  its hard-coded 10 outputs;
* ``AlexNet`` / AlexNet-BN: notebooks 000/002's architecture at 128x128 (see
  ``paddle_repro/models/alexnet.py``), written in PyTorch;
* ``resnet50_cifar``: torchvision-style ResNet50 (stride on the 3x3 conv) with a CIFAR stem
  (3x3 stride-1 conv, no max-pool), as ``paddle_repro.models.resnet50``.

``port_from_paddle`` copies a Paddle state dict into one of these (same key names; Linear
weights transposed; BN statistics renamed), so outputs can be compared.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# ----- notebook 004 ----------------------------------------------------------------------
class ShuffleBlock(nn.Module):
    def __init__(self, groups=2):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c, h, w = x.size()
        g = self.groups
        return x.view(n, g, c // g, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w)


class SplitBlock(nn.Module):
    def __init__(self, ratio):
        super().__init__()
        self.ratio = ratio

    def forward(self, x):
        c = int(x.size(1) * self.ratio)
        return x[:, :c, :, :], x[:, c:, :, :]


class BasicBlock(nn.Module):
    def __init__(self, in_channels, split_ratio=0.5):
        super().__init__()
        self.split = SplitBlock(split_ratio)
        in_channels = int(in_channels * split_ratio)
        self.conv1 = nn.Conv2d(in_channels, in_channels, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, in_channels, kernel_size=3, stride=1, padding=1,
                               groups=in_channels, bias=False)
        self.bn2 = nn.BatchNorm2d(in_channels)
        self.conv3 = nn.Conv2d(in_channels, in_channels, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(in_channels)
        self.shuffle = ShuffleBlock()

    def forward(self, x):
        x1, x2 = self.split(x)
        out = F.relu(self.bn1(self.conv1(x2)))
        out = self.bn2(self.conv2(out))
        out = F.relu(self.bn3(self.conv3(out)))
        return self.shuffle(torch.cat([x1, out], 1))


class DownBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        mid = out_channels // 2
        self.conv1 = nn.Conv2d(in_channels, in_channels, kernel_size=3, stride=2, padding=1,
                               groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, mid, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(in_channels, mid, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv4 = nn.Conv2d(mid, mid, kernel_size=3, stride=2, padding=1, groups=mid,
                               bias=False)
        self.bn4 = nn.BatchNorm2d(mid)
        self.conv5 = nn.Conv2d(mid, mid, kernel_size=1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid)
        self.shuffle = ShuffleBlock()

    def forward(self, x):
        out1 = self.bn1(self.conv1(x))
        out1 = F.relu(self.bn2(self.conv2(out1)))
        out2 = F.relu(self.bn3(self.conv3(x)))
        out2 = self.bn4(self.conv4(out2))
        out2 = F.relu(self.bn5(self.conv5(out2)))
        return self.shuffle(torch.cat([out1, out2], 1))


SHUFFLE_CONFIGS = {0.5: {"out_channels": (48, 96, 192, 1024), "num_blocks": (3, 7, 3)}}


class ShuffleNetV2(nn.Module):
    def __init__(self, net_size=0.5):
        super().__init__()
        out_channels = SHUFFLE_CONFIGS[net_size]["out_channels"]
        num_blocks = SHUFFLE_CONFIGS[net_size]["num_blocks"]
        self.conv1 = nn.Conv2d(3, 24, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.in_channels = 24
        self.layer1 = self._make_layer(out_channels[0], num_blocks[0])
        self.layer2 = self._make_layer(out_channels[1], num_blocks[1])
        self.layer3 = self._make_layer(out_channels[2], num_blocks[2])
        self.conv2 = nn.Conv2d(out_channels[2], out_channels[3], kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels[3])
        self.linear = nn.Linear(out_channels[3], 10)

    def _make_layer(self, out_channels, num_blocks):
        layers = [DownBlock(self.in_channels, out_channels)]
        layers += [BasicBlock(out_channels) for _ in range(num_blocks)]
        self.in_channels = out_channels
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.view(out.size(0), -1))


# ----- notebooks 000 / 002 ---------------------------------------------------------------
class AlexNet(nn.Module):
    """x [B, 3, 128, 128] -> [B, num_classes]; ``bn=True`` is 000's baseline."""

    def __init__(self, num_classes=10, bn=False, dropout=0.5):
        super().__init__()

        def block(conv, cout):
            return [conv] + ([nn.BatchNorm2d(cout)] if bn else []) + [nn.ReLU()]

        self.features = nn.Sequential(
            *block(nn.Conv2d(3, 48, 11, stride=4, padding=5), 48), nn.MaxPool2d(3, 2),
            *block(nn.Conv2d(48, 128, 5, padding=2), 128), nn.MaxPool2d(3, 2),
            *block(nn.Conv2d(128, 192, 3, padding=1), 192),
            *block(nn.Conv2d(192, 192, 3, padding=1), 192),
            *block(nn.Conv2d(192, 128, 3, padding=1), 128), nn.MaxPool2d(3, 2))
        self.classifier = nn.Sequential(
            nn.Linear(3 * 3 * 128, 2048), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(2048, 2048), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(2048, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


# ----- ResNet50, CIFAR stem ---------------------------------------------------------------
class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, stride=stride, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        return F.relu(self.bn3(self.conv3(out)) + identity)


class ResNet50Cifar(nn.Module):
    def __init__(self, num_classes=100):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.inplanes = 64
        stages = []
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3))):
            stages.append(self._make_layer(planes, blocks, 1 if i == 0 else 2))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(2048, num_classes)

    def _make_layer(self, planes, blocks, stride):
        out = planes * 4
        downsample = None
        if stride != 1 or self.inplanes != out:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, out, 1, stride=stride,
                                                 bias=False), nn.BatchNorm2d(out))
        layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = out
        layers += [Bottleneck(out, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


BUILDERS = {
    "shufflenetv2_x0_5": lambda: ShuffleNetV2(0.5),
    "alexnet": lambda: AlexNet(bn=False),
    "alexnet_bn": lambda: AlexNet(bn=True),
    "resnet50": lambda: ResNet50Cifar(100),
}


def count_params(model):
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def port_from_paddle(model, paddle_state):
    """Loads ``{key: numpy array}`` of the Paddle twin into ``model`` (in place)."""
    rename = {"_mean": "running_mean", "_variance": "running_var"}
    linears = {n for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    state = {}
    for key, value in paddle_state.items():
        prefix, _, leaf = key.rpartition(".")
        value = np.asarray(value)
        if prefix in linears and leaf == "weight":
            value = value.T  # Paddle Linear: [in, out]; torch: [out, in]
        state[f"{prefix}.{rename.get(leaf, leaf)}"] = torch.from_numpy(np.ascontiguousarray(value))
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise KeyError(f"port_from_paddle: missing {missing}, unexpected {unexpected}")
    return model
