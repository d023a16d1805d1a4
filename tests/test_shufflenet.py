"""ShuffleNetV2: units and whole model equal the Paddle port of the notebook (seed 004)."""
import numpy as np
import paddle
import pytest

from paddle_repro.layers.shuffle import (ShuffleBasicUnit, ShuffleDownUnit, channel_shuffle,
                                         channel_split)
from paddle_repro.models import count_params, load_weights
from paddle_repro.models.shufflenet_v2 import ShuffleNetV2, shufflenetv2_x0_5
from tests.helpers import input_tensor, randomize_bns
from tests.reference import notebook_shufflenet as ref


def test_channel_shuffle_is_the_interleaving_permutation():
    x = paddle.arange(12, dtype="float32").reshape([1, 12, 1, 1])
    out = channel_shuffle(x, 3).numpy().ravel()
    # groups of 4: [0..3], [4..7], [8..11] -> take one from each group in turn
    np.testing.assert_array_equal(out, [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
    with pytest.raises(ValueError, match="divisible"):
        channel_shuffle(x, 5)


def test_channel_split_matches_seed():
    x = input_tensor((2, 10, 3, 3))
    a, b = channel_split(x, 0.5)
    ra, rb = ref.SplitBlock(0.5)(x)
    assert a.shape[1] == 5 and b.shape[1] == 5
    np.testing.assert_array_equal(a.numpy(), ra.numpy())
    np.testing.assert_array_equal(b.numpy(), rb.numpy())


@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("kind", ["basic", "down"])
def test_units_match_reference(kind, train):
    paddle.seed(0)
    if kind == "basic":
        r, ours, shape = ref.BasicBlock(8), ShuffleBasicUnit(8), (2, 8, 6, 6)
    else:
        r, ours, shape = ref.DownBlock(6, 12), ShuffleDownUnit(6, 12), (2, 6, 7, 7)
    randomize_bns(r, 1)
    load_weights(ours, r.state_dict())
    for m in (r, ours):
        m.train() if train else m.eval()
    x_r, x_o = input_tensor(shape), input_tensor(shape)
    y_r, y_o = r(x_r), ours(x_o)
    np.testing.assert_allclose(y_o.numpy(), y_r.numpy(), rtol=1e-5, atol=1e-6)
    g = paddle.to_tensor(np.random.RandomState(3).randn(*y_r.shape).astype("float32"))
    (y_r * g).sum().backward()
    (y_o * g).sum().backward()
    np.testing.assert_allclose(x_o.grad.numpy(), x_r.grad.numpy(), rtol=1e-5, atol=1e-6)
    params_r = dict(r.named_parameters())
    for name, p in ours.named_parameters():
        if not p.stop_gradient:
            np.testing.assert_allclose(p.grad.numpy(), params_r[name].grad.numpy(),
                                       rtol=1e-4, atol=1e-5, err_msg=name)


def test_bn_momentum_is_pytorch_0_1():
    # PyTorch momentum 0.1: running = 0.9 * running + 0.1 * batch statistic.
    unit = ShuffleBasicUnit(4)
    unit.train()
    x = input_tensor((3, 4, 5, 5))
    unit(x)
    x2 = x.numpy()[:, 2:]  # bn1 normalises conv1(second half)
    conv = paddle.nn.functional.conv2d(paddle.to_tensor(x2), unit.conv1.weight).numpy()
    np.testing.assert_allclose(unit.bn1._mean.numpy(), 0.1 * conv.mean(axis=(0, 2, 3)),
                               rtol=1e-5, atol=1e-6)


def test_x0_5_parameter_count_is_the_notebooks():
    total, trainable = count_params(shufflenetv2_x0_5(num_classes=10))
    assert trainable == 352_042  # the notebook's torchsummary total
    # Paddle also counts BN running mean/variance (non-trainable): 2 per BN channel
    bn_channels = sum(l.weight.shape[0] for l in shufflenetv2_x0_5().sublayers()
                      if isinstance(l, paddle.nn.BatchNorm2D))
    assert total == trainable + 2 * bn_channels


@pytest.mark.parametrize("train", [False, True])
def test_whole_model_loads_notebook_port_and_matches(tmp_path, train):
    paddle.seed(1)
    nb = ref.ShuffleNetV2(0.5, num_classes=10)
    randomize_bns(nb, 2)
    path = tmp_path / "shufflenet_notebook.pdparams"
    paddle.save(nb.state_dict(), str(path))
    ours = ShuffleNetV2(0.5, num_classes=10)
    info = load_weights(ours, str(path))
    assert info["num_tensors"] == len(nb.state_dict())
    for m in (nb, ours):
        m.train() if train else m.eval()
    x = input_tensor((2, 3, 32, 32), seed=5)
    np.testing.assert_allclose(ours(x).numpy(), nb(x).numpy(), rtol=1e-4, atol=1e-5)


def test_bad_net_size_lists_valid_ones():
    with pytest.raises(ValueError, match="0.5"):
        ShuffleNetV2(net_size=0.75)
