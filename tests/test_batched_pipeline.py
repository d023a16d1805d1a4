"""The batched input pipeline against Paddle's per-image ``paddle.vision.transforms``.

Deterministic transforms must give identical floats. Random transforms must give identical
images when fed the parameters Paddle's own classes draw (we re-seed Python's and numpy's
RNGs, run the Paddle class, re-seed, and replay its draws), and draw their parameters from
the same distributions (sample statistics vs Paddle's samplers).
"""
import random

import numpy as np
import paddle
import paddle.vision.transforms as T
import paddle.vision.transforms.functional as F
import pytest

from paddle_repro.data import batched as B
from paddle_repro.data.batched import compiler as C
from paddle_repro.data.batched.loader import BatchedLoader
from paddle_repro.data.loader import build_loader
from tests.reference.notebook_nam_transforms import NotebookRandomApply, NotebookToArray

RNG = np.random.default_rng(0)
IMGS = RNG.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
LABELS = np.arange(12) % 10
NORM = {"Normalize": {"mean": [0.4914, 0.4822, 0.4465], "std": [0.247, 0.243, 0.261]}}


def per_image(compose, imgs):
    out = [compose(im) for im in imgs]
    return np.stack([o.numpy() if isinstance(o, paddle.Tensor) else o for o in out])


@pytest.mark.parametrize("spec, ref", [
    ([{"Resize": {"size": [40, 40]}}, {"ToTensor": None}, NORM],
     T.Compose([T.Resize((40, 40)), T.ToTensor(), T.Normalize(NORM["Normalize"]["mean"],
                                                               NORM["Normalize"]["std"])])),
    ([{"Resize": {"size": 20}}, {"ToTensor": None}],
     T.Compose([T.Resize(20), T.ToTensor()])),
    ([{"ToArray": None}, NORM],
     T.Compose([NotebookToArray(), T.Normalize(NORM["Normalize"]["mean"], NORM["Normalize"]["std"])])),
    ([{"MixupImage": None}, {"ToTensor": None}, {"Normalize": {"mean": 0.5, "std": 0.5}}],
     T.Compose([T.ToTensor(), T.Normalize(0.5, 0.5)])),
])
@pytest.mark.parametrize("group_pixels", [None, 1000])  # 1000: tail groups of 1-2 images
def test_deterministic_lists_equal_paddle_exactly(spec, ref, group_pixels, monkeypatch):
    if group_pixels:
        monkeypatch.setattr(C, "GROUP_PIXELS", group_pixels)
    ours = C.BatchTransform(spec)(list(IMGS), np.random.default_rng(0))
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, per_image(ref, IMGS))


def _replay(paddle_tf, draw, ours, img, seed):
    """Run Paddle's class with seeded RNGs, replay its draws with ``draw``, apply ours."""
    random.seed(seed), np.random.seed(seed)
    expected = paddle_tf(img)
    random.seed(seed), np.random.seed(seed)
    np.testing.assert_array_equal(ours.apply(img, draw()), expected)


def test_random_geometry_equals_paddle_given_its_parameters():
    img = IMGS[0]
    big = F.resize(img, (130, 130))
    for seed in range(6):
        rrc = T.RandomResizedCrop(128)
        _replay(rrc, lambda: rrc._dynamic_get_param(big), B.RandomResizedCrop(128), big, seed)
        rrc = T.RandomResizedCrop(24, scale=(0.6, 1.0))
        _replay(rrc, lambda: rrc._dynamic_get_param(img), B.RandomResizedCrop(24, scale=(0.6, 1.0)),
                img, seed)
        rc = T.RandomCrop(32, padding=4)
        _replay(rc, lambda: rc._get_param(F.pad(img, 4), rc.size)[:2], B.RandomCrop(32, padding=4),
                img, seed)
        flip = T.RandomHorizontalFlip(0.5)
        _replay(flip, lambda: random.random() < 0.5, B.RandomHorizontalFlip(0.5), img, seed)
        rot = T.RandomRotation(15)
        _replay(rot, lambda: rot._get_param(rot.degrees), B.RandomRotation(15), img, seed)


def test_random_colour_equals_paddle_given_its_parameters():
    img = IMGS[1]
    for seed in range(6):
        bt, ours_b = T.BrightnessTransform(0.2), B.BrightnessTransform(0.2)
        _replay(bt, lambda: ours_b.table(np.array([random.uniform(*bt.value)]))[0], ours_b, img, seed)
        ct, ours_c = T.ContrastTransform(0.2), B.ContrastTransform(0.2)
        _replay(ct, lambda: ours_c.table(np.array([random.uniform(*ct.value)]))[0], ours_c, img, seed)

        def sat_draw():
            f = random.uniform(0.8, 1.2)
            return np.random.uniform(max(0, 1 - f), 1 + f)  # Paddle's second, hidden draw
        _replay(T.SaturationTransform(0.2), sat_draw, B.SaturationTransform(0.2), img, seed)
        _replay(T.HueTransform(0.1), lambda: random.uniform(-0.1, 0.1), B.HueTransform(0.1), img, seed)


def test_color_jitter_and_random_apply_equal_paddle_given_its_parameters():
    img = IMGS[2]
    cj, ours = T.ColorJitter(0.2, 0.2, 0.2), B.ColorJitter(0.2, 0.2, 0.2)
    kinds = {T.BrightnessTransform: 0, T.ContrastTransform: 1, T.SaturationTransform: 2}

    def cj_draw():  # replay: Paddle's shuffle, then each member's draws in that order
        order, sub = [], [None] * 3
        for t in cj._get_param(cj.brightness, cj.contrast, cj.saturation, cj.hue).transforms:
            if type(t) not in kinds or t.value is None:
                continue
            k = kinds[type(t)]
            f = random.uniform(*t.value)
            sub[k] = (ours.ops[k].table(np.array([f]))[0] if k < 2
                      else np.random.uniform(max(0, 1 - f), 1 + f))
            order.append(k)
        return order, sub
    for seed in range(6):
        _replay(cj, cj_draw, ours, img, seed)
        ra = NotebookRandomApply(T.BrightnessTransform(0.1), p=0.5)
        ours_ra = B.RandomApply(C.compile_op({"BrightnessTransform": {"value": 0.1}}), p=0.5)

        def ra_draw():
            on = not 0.5 < random.random()
            f = random.uniform(0.9, 1.1) if on else 1.0
            return on, ours_ra.op.table(np.array([f]))[0]
        _replay(ra, ra_draw, ours_ra, img, seed)


def test_random_parameter_distributions_match_paddle():
    rng, n = np.random.default_rng(1), 4000
    hw = np.full((n, 2), 130)
    ours = np.array(B.RandomResizedCrop(128).sample(rng, hw)[0], dtype=float)  # i, j, h, w
    random.seed(1), np.random.seed(1)
    ref_tf, big = T.RandomResizedCrop(128), np.zeros((130, 130, 3), np.uint8)
    ref = np.array([ref_tf._dynamic_get_param(big) for _ in range(n)], dtype=float)
    area_o, area_r = ours[:, 2] * ours[:, 3] / 130 ** 2, ref[:, 2] * ref[:, 3] / 130 ** 2
    assert area_o.min() >= 0.07 and area_o.max() <= 1.0
    assert abs(area_o.mean() - area_r.mean()) < 0.03          # sd of a mean ~ 0.004
    assert abs(np.median(ours[:, 3] / ours[:, 2]) - np.median(ref[:, 3] / ref[:, 2])) < 0.05
    assert np.all(ours[:, 0] + ours[:, 2] <= 130) and np.all(ours[:, 1] + ours[:, 3] <= 130)
    flips = np.array(B.RandomHorizontalFlip(0.5).sample(rng, hw)[0])
    assert abs(flips.mean() - 0.5) < 0.04
    offs = np.array(B.RandomCrop(32, padding=4).sample(rng, np.full((n, 2), 32))[0])
    assert set(offs.ravel()) == set(range(9)) and abs(offs.mean() - 4) < 0.2
    angles = np.array(B.RandomRotation(20).sample(rng, hw)[0])
    assert angles.min() >= -20 and angles.max() <= 20 and abs(angles.mean()) < 1
    contrast = C.compile_op({"ContrastTransform": {"value": 0.1}})
    applied = np.array([p[0] for p in B.RandomApply(contrast, p=0.3).sample(rng, hw)[0]])
    assert abs(applied.mean() - 0.3) < 0.04
    alphas = np.array(B.SaturationTransform(0.2).sample(rng, hw)[0])
    f = np.random.uniform(0.8, 1.2, n)
    ref_alpha = np.random.uniform(np.maximum(0, 1 - f), 1 + f)
    assert alphas.min() >= 0 and alphas.max() <= 2.2 and abs(alphas.std() - ref_alpha.std()) < 0.04


def test_unsupported_and_malformed_transforms_raise_clear_errors():
    with pytest.raises(B.BatchedPipelineError, match="unknown transform `Pad`.*valid transforms: "
                                                     ".*Resize"):
        C.BatchTransform([{"Pad": {"padding": 2}}, {"ToTensor": None}])
    with pytest.raises(B.BatchedPipelineError, match="`Resize`.*unexpected keyword `sz`.*valid "
                                                     "arguments: size"):
        C.BatchTransform([{"Resize": {"sz": 3}}, {"ToTensor": None}])
    with pytest.raises(B.BatchedPipelineError, match="end with ToTensor or ToArray"):
        C.BatchTransform([{"Resize": {"size": 3}}])
    with pytest.raises(B.BatchedPipelineError, match="comes after ToTensor"):
        C.BatchTransform([{"ToTensor": None}, {"RandomHorizontalFlip": None}, NORM])
    with pytest.raises(B.BatchedPipelineError, match="expand"):
        C.BatchTransform([{"RandomRotation": {"degrees": 5, "expand": True}}, {"ToTensor": None}])
    with pytest.raises(B.BatchedPipelineError, match="single-key mapping"):
        C.BatchTransform([{"Resize": {"size": 3}, "ToTensor": None}])


TRAIN = [{"RandomCrop": {"size": 32, "padding": 4}},
         {"RandomApply": {"p": 0.5, "transform": {"BrightnessTransform": {"value": 0.1}}}},
         {"RandomHorizontalFlip": None}, {"RandomRotation": {"degrees": 15}},
         {"ToArray": None}, NORM]


def test_loader_batches_shapes_order_and_determinism():
    dl = BatchedLoader(IMGS, LABELS, TRAIN, batch_size=5, shuffle=True, drop_last=False, seed=3)
    assert len(dl) == 3
    epoch0 = list(dl)
    x, y = epoch0[0]
    assert isinstance(x, paddle.Tensor) and x.dtype == paddle.float32 and x.shape == [5, 3, 32, 32]
    assert y.dtype == paddle.int64 and y.shape == [5]
    seen = np.concatenate([b[1].numpy() for b in epoch0])
    assert sorted(seen.tolist()) == sorted(LABELS.tolist())  # each sample once
    epoch1 = list(dl)  # the epoch advances: new order and augmentations
    assert not np.array_equal(epoch0[0][0].numpy(), epoch1[0][0].numpy())
    dl.set_epoch(0)
    again = list(BatchedLoader(IMGS, LABELS, TRAIN, batch_size=5, shuffle=True, seed=3,
                                 num_workers=2))  # threads: same batches, same order
    for (a, la), (b, lb) in zip(epoch0, again):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_array_equal(la.numpy(), lb.numpy())
    assert len(BatchedLoader(IMGS, LABELS, TRAIN, batch_size=5, drop_last=True)) == 2


def test_loader_sharding_is_disjoint_and_complete():
    shards = [BatchedLoader(IMGS[:11], LABELS[:11], TRAIN, batch_size=4, shuffle=True, seed=0,
                              num_replicas=2, rank=r).indices(0) for r in range(2)]
    assert len(shards[0]) == len(shards[1]) == 6
    assert set(shards[0][:5]).isdisjoint(shards[1][:5])
    assert set(np.concatenate(shards)) == set(range(11))


def test_eval_sharding_has_no_repeats():
    for m, sizes in ((11, [6, 5]), (1, [1, 0])):  # uneven, and a rank with nothing at all
        shards = [BatchedLoader(IMGS[:m], LABELS[:m], TRAIN, batch_size=4, shuffle=True,
                                  seed=0, num_replicas=2, rank=r, pad_shards=False)
                  for r in range(2)]
        idx = [s.indices(0) for s in shards]
        assert [len(i) for i in idx] == sizes
        assert sorted(np.concatenate(idx).tolist()) == list(range(m))  # each sample once
        assert [sum(int(y.shape[0]) for _, y in s) for s in shards] == sizes
        assert [len(s) for s in shards] == [-(-k // 4) for k in sizes]


def test_training_shards_stay_equal_when_padding_exceeds_the_data():
    # 1 image over 3 ranks: every rank still gets one sample, so steps stay in lockstep.
    shards = [BatchedLoader(IMGS[:1], LABELS[:1], TRAIN, batch_size=4, num_replicas=3,
                              rank=r).indices(0) for r in range(3)]
    assert [s.tolist() for s in shards] == [[0], [0], [0]]


def test_worker_error_reaches_the_caller():
    bad = [np.zeros((8, 8, 3), np.uint8)] * 4  # smaller than the crop: a clear error
    dl = BatchedLoader(bad, np.zeros(4), TRAIN, batch_size=2, num_workers=2)
    with pytest.raises(B.BatchedPipelineError, match="smaller than the crop"):
        list(dl)


def test_build_batched_loader_matches_paddle_pipeline_on_eval(cifar10_tarball):
    dataset_cfg = {"name": "cifar10", "data_file": cifar10_tarball, "allow_unofficial": True}
    split = {"batch_size": 16, "shuffle": False, "drop_last": False, "num_workers": 0,
             "num_samples": None, "mixup_alpha": 0.0, "pipeline": "paddle",
             "transforms": [{"Resize": {"size": [40, 40]}}, {"ToTensor": None}, NORM]}
    ref = build_loader(dataset_cfg, split, "test", seed=0)
    ours = build_loader(dataset_cfg, dict(split, pipeline="batched"), "test", seed=0)
    assert isinstance(ours, BatchedLoader)
    assert len(ours) == len(ref)
    for (xa, ya), (xb, yb) in zip(ours, ref):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy().reshape(-1))


# --- the vectorised route (ops' apply_batch, whole-batch tail) against the per-image route ---

def _both_routes(spec, images, seed=0):
    """(vectorised, per-image) outputs of one compiled list with the same batch generator."""
    bt = C.BatchTransform(spec)
    fast = bt(images, np.random.default_rng(seed))
    bt.vectorise = False
    return fast, bt(images, np.random.default_rng(seed))


def _ops_run_batched(spec, images, seed=0):
    """How many leading ops of ``spec`` ran on the whole batch."""
    bt = C.BatchTransform(spec)
    params, _ = bt.sample(np.random.default_rng(seed), np.full((len(images), 2), 32))
    return bt._apply_batched(images, params)[1]


TAIL_T = [{"ToTensor": None}, {"Normalize": {"mean": 0.5, "std": 0.5}}]
BRIGHT = {"RandomApply": {"p": 0.5, "transform": {"BrightnessTransform": {"value": 0.4}}}}
CONTRAST = {"RandomApply": {"p": 0.5, "transform": {"ContrastTransform": {"value": 0.4}}}}
NAM_TRAIN = [{"RandomCrop": {"size": 32, "padding": 4}}, BRIGHT, CONTRAST,
             {"RandomHorizontalFlip": {"prob": 0.5}}, {"RandomRotation": {"degrees": 15}},
             {"ToArray": None}, NORM]


@pytest.mark.parametrize("spec, batched", [
    ([{"RandomCrop": {"size": 32, "padding": 4}}, {"RandomHorizontalFlip": {"prob": 0.5}}]
     + TAIL_T, 2),                                                    # shufflenetv2 train
    (NAM_TRAIN, 4),                                                   # rotation per image
    ([{"RandomCrop": {"size": 28, "padding": [2, 5], "fill": 7}},     # cv2 fill (7, 0, 0)
      {"RandomVerticalFlip": {"prob": 0.5}}, {"MixupImage": None}] + TAIL_T, 3),
    ([{"RandomCrop": {"size": [30, 34], "padding": [1, 2, 3, 4], "fill": [9, 8, 7]}},
      {"BrightnessTransform": {"value": 0.5}}, {"ContrastTransform": {"value": 0.5}},
      {"RandomHorizontalFlip": {"prob": 1.0}}] + TAIL_T, 4),
    ([{"RandomCrop": {"size": 24}}, {"RandomHorizontalFlip": {"prob": 0.0}}] + TAIL_T, 2),
    ([{"RandomCrop": {"size": 32, "padding": 4, "padding_mode": "reflect"}},  # declines
      {"RandomHorizontalFlip": {"prob": 0.5}}] + TAIL_T, 0),
    ([{"RandomCrop": {"size": 36, "pad_if_needed": True}}] + TAIL_T, 0),      # declines
    ([{"RandomHorizontalFlip": {"prob": 0.5}}, {"ColorJitter": {"brightness": 0.3}},
      {"RandomCrop": {"size": 30, "padding": 2}}] + TAIL_T, 1),       # crop after ColorJitter
    ([{"RandomApply": {"p": 0.5, "transform": {"RandomRotation": {"degrees": 10}}}},
      {"RandomVerticalFlip": {"prob": 0.5}}] + TAIL_T, 0),          # inner op per image only
])
def test_vectorised_route_equals_per_image_route(spec, batched, monkeypatch):
    monkeypatch.setattr(C, "GROUP_PIXELS", 5 * 32 * 32)  # several tail groups
    imgs = RNG.integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)
    kept = imgs.copy()
    for images in (imgs, list(imgs)):  # the loader's array, or a list of images
        assert _ops_run_batched(spec, images) == batched
        for seed in range(3):
            fast, slow = _both_routes(spec, images, seed)
            assert fast.dtype == np.float32
            np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(imgs, kept)  # ops work in place on a private copy only


def test_vectorised_route_changes_what_the_ops_say():
    # Guards the comparison above against both routes doing nothing: the crops move, about
    # half the images flip, and a fill colour reaches the border exactly as F.pad writes it.
    imgs = RNG.integers(0, 256, (64, 32, 32, 3), dtype=np.uint8)
    spec = [{"RandomCrop": {"size": 32, "padding": 4, "fill": 5}},
            {"RandomHorizontalFlip": {"prob": 0.5}}, {"ToArray": None}]
    bt = C.BatchTransform(spec)
    (ij, flips), _ = bt.sample(np.random.default_rng(0), np.full((64, 2), 32))
    out = np.rint(bt(imgs, np.random.default_rng(0)) * 255).astype(np.uint8).transpose(0, 2, 3, 1)
    for k in range(64):
        want = F.pad(imgs[k], 4, 5)[ij[k][0]:ij[k][0] + 32, ij[k][1]:ij[k][1] + 32]
        np.testing.assert_array_equal(out[k], want[:, ::-1] if flips[k] else want)
    assert 16 < sum(flips) < 48 and len(set(ij)) > 20
    assert (F.pad(imgs[0], 4, 5)[0, 0] == [5, 0, 0]).all()  # cv2's reading of an int fill


def test_vectorised_route_on_mixed_sizes_and_grey_images():
    mixed = [RNG.integers(0, 256, (32 + k % 3, 30 + k % 2, 3), dtype=np.uint8) for k in range(9)]
    spec = [{"RandomCrop": {"size": 28, "padding": 2}}, BRIGHT,
            {"RandomHorizontalFlip": {"prob": 0.5}}] + TAIL_T
    fast, slow = _both_routes(spec, mixed)  # shapes differ: per image all the way
    assert fast.shape == (9, 3, 28, 28)
    np.testing.assert_array_equal(fast, slow)
    grey = RNG.integers(0, 256, (9, 32, 32, 1), dtype=np.uint8)
    assert _ops_run_batched(spec, grey) == 3
    fast, slow = _both_routes(spec, grey)
    assert fast.shape == (9, 1, 28, 28)
    np.testing.assert_array_equal(fast, slow)
    flat = list(grey[..., 0])  # 2-D images: per image, as before
    fast, slow = _both_routes(spec, flat)
    assert fast.shape == (9, 1, 28, 28)
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(C.BatchTransform(["ToTensor"])(flat, np.random.default_rng(0)),
                                  per_image(T.ToTensor(), flat))


@pytest.mark.parametrize("shape", [(1, 5, 7, 1), (9, 32, 32, 3), (300, 4, 6, 3)])
def test_whole_batch_tail_is_a_per_channel_lookup(shape, monkeypatch):
    monkeypatch.setattr(C, "GROUP_PIXELS", 100)  # several look-up groups
    batch = RNG.integers(0, 256, shape, dtype=np.uint8)
    lut = RNG.random((shape[3], 256)).astype(np.float32)
    out = np.full((shape[0], shape[3]) + shape[1:3], np.nan, dtype=np.float32)
    C._lookup_chw(batch, lut, out)
    want = np.stack([lut[ch][batch[..., ch]] for ch in range(shape[3])], axis=1)
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("kwargs", [{}, {"interpolation": "bilinear", "fill": 30},
                                    {"center": [3, 20], "fill": [10, 20, 30]}])
def test_rotation_matches_f_rotate(kwargs):
    ours = B.RandomRotation(25, **kwargs)
    for img in (IMGS[3], IMGS[4, :20, :, :1]):
        for angle in (-17.3, 0.0, 24.9):
            want = F.rotate(img, angle, kwargs.get("interpolation", "nearest"), False,
                            kwargs.get("center"), kwargs.get("fill", 0))
            got = ours.apply(img, angle)
            assert got.shape == want.shape
            np.testing.assert_array_equal(got, want)


def test_color_jitter_composes_adjacent_lookups_exactly():
    """Every member order: ColorJitter.apply (which merges neighbouring brightness/contrast
    tables into one look-up) equals applying the members one by one."""
    import itertools
    from paddle_repro.data.batched.photometric import ColorJitter
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (17, 19, 3), dtype=np.uint8)
    cj = ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4)
    (_, sub), = cj.sample(np.random.default_rng(4), np.array([[17, 19]]))[0]
    for order in itertools.permutations(range(3)):
        expected = img
        for j in order:
            expected = cj.ops[j].apply(expected, sub[j])
        np.testing.assert_array_equal(cj.apply(img, (list(order), sub)), expected)


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.999, 1.0, 1.001, 1.4])
def test_saturation_matches_paddles_formula_at_the_extremes(alpha):
    """Paddle's cv2 adjust_saturation, written out, on images full of 0s and 255s (the
    blend for alpha <= 1 skips the clip: it must still land on the same bytes)."""
    import cv2
    from paddle_repro.data.batched.photometric import SaturationTransform
    rng = np.random.default_rng(7)
    img = rng.choice(np.array([0, 1, 254, 255], np.uint8), size=(9, 11, 3))
    img[0] = 255
    x = img.astype(np.float32)
    gray = cv2.cvtColor(x, cv2.COLOR_BGR2GRAY)[..., np.newaxis]
    expected = (x * alpha + gray * (1 - alpha)).clip(0, 255).astype(np.uint8)
    np.testing.assert_array_equal(SaturationTransform(0.4).apply(img, alpha), expected)
