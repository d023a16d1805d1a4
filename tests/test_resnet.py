"""ResNet: NAM variants equal the notebook's model, ImageNet stem equals paddle.vision,
parameter counts, the sparsity penalty and the pixel-attention option."""
import numpy as np
import paddle
import pytest

from paddle_repro.models import build_model, count_params, load_weights
from paddle_repro.models.resnet import ResNet
from tests.helpers import input_tensor, randomize_bns
from tests.reference import notebook_resnet_nam as nb


def test_resnet18_nam_equals_notebook_outputs_and_grads(tmp_path):
    paddle.seed(0)
    ref = nb.resnet18(num_classes=7)
    randomize_bns(ref, 1, gamma_mean=0.5, gamma_std=0.5)
    path = tmp_path / "nb_resnet18.pdparams"
    paddle.save(ref.state_dict(), str(path))
    ours = build_model("resnet18_nam", num_classes=7)
    assert load_weights(ours, str(path))["format"] == "nam-notebook"
    ref_params = dict(ref.named_parameters())
    for train in (False, True):
        for m in (ref, ours):
            m.train() if train else m.eval()
            m.clear_gradients()
        x_r, x_o = input_tensor((2, 3, 16, 16)), input_tensor((2, 3, 16, 16))
        y_r, y_o = ref(x_r), ours(x_o)
        np.testing.assert_allclose(y_o.numpy(), y_r.numpy(), rtol=1e-4, atol=1e-5)
        y_r.sum().backward()
        y_o.sum().backward()
        np.testing.assert_allclose(x_o.grad.numpy(), x_r.grad.numpy(), rtol=1e-4, atol=1e-6)
        for name, p in ours.named_parameters():
            if not p.stop_gradient:
                nb_name = name.replace(".attention.bn_channel.", ".nam.Channel_Att.bn2.")
                np.testing.assert_allclose(p.grad.numpy(), ref_params[nb_name].grad.numpy(),
                                           rtol=1e-3, atol=1e-5, err_msg=name)


def test_resnet50_nam_count_and_forward_equal_notebook():
    paddle.seed(0)
    ref = nb.resnet50()
    ours = build_model("resnet50_nam", num_classes=100)
    assert count_params(ours)[0] == 23_818_788  # the notebook's paddle.summary total
    assert count_params(ref) == count_params(ours)
    load_weights(ours, ref.state_dict())
    ref.eval(), ours.eval()
    x = input_tensor((2, 3, 32, 32))
    np.testing.assert_allclose(ours(x).numpy(), ref(x).numpy(), rtol=1e-4, atol=1e-5)


def _hand_count_resnet50_cifar(num_classes):
    """Parameters of ResNet-50 with a 3x3 stem, counted from the architecture by hand.

    BN layers hold 4 numbers per channel (γ, β, running mean, running variance).
    """
    total = 3 * 3 * 3 * 64 + 4 * 64  # stem conv + BN
    inplanes = 64
    for planes, blocks in zip((64, 128, 256, 512), (3, 4, 6, 3)):
        for b in range(blocks):
            total += inplanes * planes + 4 * planes  # 1x1 reduce
            total += 9 * planes * planes + 4 * planes  # 3x3
            total += planes * 4 * planes + 4 * 4 * planes  # 1x1 expand
            if b == 0:  # projection shortcut
                total += inplanes * 4 * planes + 4 * 4 * planes
            inplanes = 4 * planes
    return total + 2048 * num_classes + num_classes


def test_resnet50_cifar_count_by_hand():
    model = build_model("resnet50", num_classes=100)
    total, trainable = count_params(model)
    assert total == _hand_count_resnet50_cifar(100) == 23_758_372
    # NAM adds one 4-number BN per channel at every block output: 4*(3*256+4*512+6*1024+3*2048)
    assert 23_818_788 - total == 4 * (3 * 256 + 4 * 512 + 6 * 1024 + 3 * 2048)
    bn_stats = 2 * sum(l.weight.shape[0] for l in model.sublayers()
                       if isinstance(l, paddle.nn.BatchNorm2D))
    assert total - trainable == bn_stats


def test_resnet50_imagenet_is_paddle_vision_resnet50(tmp_path):
    paddle.seed(0)
    vision = paddle.vision.models.resnet50()
    ours = build_model("resnet50_imagenet")
    assert list(ours.state_dict()) == list(vision.state_dict())
    randomize_bns(vision, 3, gamma_mean=0.5, gamma_std=0.5)
    path = tmp_path / "vision_resnet50.pdparams"
    paddle.save(vision.state_dict(), str(path))
    assert load_weights(ours, str(path))["format"] == "paddle"
    vision.eval(), ours.eval()
    x = input_tensor((2, 3, 32, 32))
    np.testing.assert_allclose(ours(x).numpy(), vision(x).numpy(), rtol=1e-4, atol=1e-5)
    assert ours(x).shape == [2, 1000]


def test_regularization_loss_is_lambda_times_l1_of_nam_gammas():
    assert build_model("resnet18").regularization_loss() is None
    assert build_model("resnet18_nam").regularization_loss() is None  # λ = 0: notebook
    model = build_model("resnet18_nam", nam_lambda=1e-4)
    randomize_bns(model, 4, gamma_mean=0.5, gamma_std=0.5)
    gammas = [l.bn_channel.weight.numpy() for l in model.sublayers()
              if type(l).__name__ == "NAM"]
    assert len(gammas) == 8  # one per BasicBlock
    expected = 1e-4 * sum(np.abs(g).sum() for g in gammas)
    np.testing.assert_allclose(float(model.regularization_loss()), expected, rtol=1e-5)


def test_nam_spatial_runs_and_sizes_bns_per_stage():
    model = build_model("resnet18_nam", num_classes=5, nam_spatial=True, image_size=16)
    sizes = [l.bn_spatial.weight.shape[0] for l in model.sublayers()
             if type(l).__name__ == "NAM"]
    assert sizes == [256, 256, 64, 64, 16, 16, 4, 4]  # 16x16, 8x8, 4x4, 2x2 stages
    model.train()
    x = input_tensor((2, 3, 16, 16))
    model(x).sum().backward()
    assert x.grad is not None
    with pytest.raises(ValueError, match="image_size"):
        model(paddle.randn([2, 3, 32, 32]))


def test_invalid_options_are_explained():
    with pytest.raises(ValueError, match="18, 34, 50"):
        ResNet(depth=20)
    with pytest.raises(ValueError, match="stem"):
        ResNet(18, stem="tiny")
    with pytest.raises(ValueError, match="need an attention"):
        ResNet(18, attention_options={"sparsity": 0.1})
    with pytest.raises(TypeError, match="resnet18: unknown argument.*'nam_lambda'"):
        build_model("resnet18", nam_lambda=0.1)  # a NAM option on the plain model


def test_checkpoints_from_before_the_generic_attention_slot_still_load():
    """Our NAM checkpoints up to 2026-12 keyed the slot as ``<block>.nam.*``."""
    paddle.seed(1)
    saved = build_model("resnet18_nam", num_classes=3)
    old_keys = {k.replace(".attention.", ".nam."): v for k, v in saved.state_dict().items()}
    assert any(".nam.bn_channel." in k for k in old_keys)
    fresh = build_model("resnet18_nam", num_classes=3)
    load_weights(fresh, old_keys)
    for k, v in saved.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[k].numpy(), v.numpy(), err_msg=k)


def test_a_second_block_attention_is_one_registry_line(monkeypatch):
    """A squeeze-and-excitation gate plugged in through ATTENTIONS, nothing else changed."""
    from paddle_repro.models import resnet

    class _SE(paddle.nn.Layer):
        def __init__(self, channels, hw, reduction=4):
            super().__init__()
            self.fc1 = paddle.nn.Conv2D(channels, channels // reduction, 1)
            self.fc2 = paddle.nn.Conv2D(channels // reduction, channels, 1)

        def forward(self, x):
            s = paddle.nn.functional.adaptive_avg_pool2d(x, 1)
            return x * paddle.nn.functional.sigmoid(self.fc2(paddle.nn.functional.relu(self.fc1(s))))

    monkeypatch.setitem(resnet.ATTENTIONS, "se", _SE)
    model = resnet.ResNet(18, num_classes=5, attention="se", attention_options={"reduction": 8})
    assert any(k.startswith("layer1.0.attention.fc1.") for k in model.state_dict())
    assert model(paddle.zeros([2, 3, 16, 16])).shape == [2, 5]
    assert model.regularization_loss() is None
    with pytest.raises(ValueError, match="ResNet attention must be one of .*'se'.*got 'sse'.*did you mean `se`"):
        resnet.ResNet(18, attention="sse")
