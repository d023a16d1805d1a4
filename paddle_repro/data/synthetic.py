"""Synthetic CIFAR-format tarballs with learnable class structure.

Not a paper module: this writes files in exactly the layout of the official CIFAR
"python version" archives (https://www.cs.toronto.edu/~kriz/cifar.html), so tests,
offline demos and CI exercise the *same* loading code as real data
(``paddle.vision.datasets.Cifar10/Cifar100``), without a download.

Layout written (Python-2 style pickles, protocol 2, bytes keys):

* ``flavour="cifar10"``: ``cifar-10-batches-py/data_batch_1..5``, ``test_batch`` with
  ``b'data'`` (N x 3072 uint8, channel-major R,G,B planes), ``b'labels'``,
  ``b'batch_label'``, ``b'filenames'``; ``batches.meta`` with ``b'label_names'``.
* ``flavour="cifar100"``: ``cifar-100-python/train``, ``test`` with ``b'fine_labels'`` and
  ``b'coarse_labels'``; ``meta`` with ``b'fine_label_names'``, ``b'coarse_label_names'``.

Each class has its own colour and its own grating orientation/frequency; every image gets
a random phase, a random brightness offset and Gaussian noise, so a small CNN learns the
task in a few epochs but cannot solve it from a single pixel. The orientations are
``pi * k / K``: a horizontal flip turns class k's grating into class K-k's orientation, so
train on it without flips (configs/demo/synthetic_quick.yaml; with flips the demo mistook
synth_03 for synth_07, whose colour is close). The archive bytes are a pure function of the
arguments (fixed tar/gzip mtimes), so its md5 is reproducible.
"""
import gzip
import io
import os
import pickle
import tarfile
import tempfile

import numpy as np

FLAVOURS = ("cifar10", "cifar100")
_NUM_COARSE = 20  # CIFAR-100 has 20 superclasses


def class_names(num_classes):
    """Names of the synthetic classes: ``['synth_00', 'synth_01', ...]``."""
    width = max(2, len(str(num_classes - 1)))
    return ["synth_%0*d" % (width, c) for c in range(num_classes)]


def _class_params(num_classes):
    """Per-class colour [K,3] in 0..255, grating angle [K] and frequency [K]."""
    rng = np.random.RandomState(1234)  # fixed: the classes never depend on `seed`
    colours = rng.uniform(40, 215, size=(num_classes, 3))
    angles = np.pi * np.arange(num_classes) / max(num_classes, 1)
    freqs = 2 * np.pi / rng.uniform(4.0, 10.0, size=num_classes)
    return colours, angles, freqs


def make_images(labels, num_classes, rng):
    """Render images for ``labels``.

    Args:
        labels: int array [N] of class ids in ``[0, num_classes)``.
        num_classes: number of classes K.
        rng: ``np.random.RandomState`` for the per-image randomness.

    Returns:
        uint8 array [N, 32, 32, 3] (RGB, HWC).
    """
    colours, angles, freqs = _class_params(num_classes)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    n = len(labels)
    phase = rng.uniform(0, 2 * np.pi, size=n)
    offset = rng.uniform(-25, 25, size=n)
    ang, fr = angles[labels], freqs[labels]
    proj = (np.cos(ang)[:, None, None] * xx + np.sin(ang)[:, None, None] * yy)
    grating = np.sin(fr[:, None, None] * proj + phase[:, None, None])  # [N,32,32]
    img = colours[labels][:, None, None, :] + 45.0 * grating[..., None]
    img = img + offset[:, None, None, None] + rng.normal(0, 18.0, size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _balanced_labels(n, num_classes, rng):
    labels = np.arange(n) % num_classes
    rng.shuffle(labels)
    return labels.astype(np.int64)


def _pickle_bytes(obj):
    # protocol 2 writes bytes so that they unpickle as bytes, like the Python-2 originals
    return pickle.dumps(obj, protocol=2)


def _batch(images, labels, batch_label, prefix, flavour, num_classes):
    data = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)  # channel-major rows
    out = {
        b"batch_label": batch_label.encode(),
        b"data": np.ascontiguousarray(data),
        b"filenames": [("%s_%05d.png" % (prefix, i)).encode() for i in range(len(images))],
    }
    if flavour == "cifar10":
        out[b"labels"] = [int(v) for v in labels]
    else:
        out[b"fine_labels"] = [int(v) for v in labels]
        out[b"coarse_labels"] = [int(v) * _NUM_COARSE // num_classes for v in labels]
    return out


def _members(num_classes, train_size, test_size, seed, flavour):
    rng = np.random.RandomState(seed)
    names = [n.encode() for n in class_names(num_classes)]
    tr_lab = _balanced_labels(train_size, num_classes, rng)
    te_lab = _balanced_labels(test_size, num_classes, rng)
    tr_img = make_images(tr_lab, num_classes, rng)
    te_img = make_images(te_lab, num_classes, rng)
    members = []
    if flavour == "cifar10":
        top = "cifar-10-batches-py"
        n_batches = 5
        for i, idx in enumerate(np.array_split(np.arange(train_size), n_batches), start=1):
            b = _batch(tr_img[idx], tr_lab[idx], "training batch %d of 5" % i, "train%d" % i,
                       flavour, num_classes)
            members.append((top + "/data_batch_%d" % i, b))
        members.append((top + "/test_batch",
                        _batch(te_img, te_lab, "testing batch 1 of 1", "test", flavour, num_classes)))
        meta = {b"label_names": names, b"num_cases_per_batch": int(np.ceil(train_size / 5)),
                b"num_vis": 3072}
        members.append((top + "/batches.meta", meta))
    else:
        top = "cifar-100-python"
        members.append((top + "/train", _batch(tr_img, tr_lab, "training batch 1 of 1", "train",
                                               flavour, num_classes)))
        members.append((top + "/test", _batch(te_img, te_lab, "testing batch 1 of 1", "test",
                                              flavour, num_classes)))
        meta = {b"fine_label_names": names,
                b"coarse_label_names": [("synth_super_%02d" % i).encode()
                                        for i in range(_NUM_COARSE)]}
        members.append((top + "/meta", meta))
    return members


def write_synthetic_cifar(path, num_classes=10, train_size=500, test_size=100, seed=0,
                          flavour="cifar10"):
    """Write a CIFAR-format ``.tar.gz`` with learnable, class-balanced synthetic images.

    Args:
        path: file to write (parent folders are created). Written atomically, so concurrent
            writers of the same file (parallel tests, data-parallel ranks) are safe.
        num_classes: number of classes K (>= 2).
        train_size: images in the train split (labels ``i % K``, shuffled).
        test_size: images in the test split.
        seed: seeds the labels order, phases, offsets and noise (not the class look).
        flavour: ``"cifar10"`` (5 data batches + test_batch) or ``"cifar100"`` (train/test
            with fine and coarse labels).

    Returns:
        ``str`` path of the written tarball.
    """
    if flavour not in FLAVOURS:
        raise ValueError("flavour must be one of %s, got %r" % (list(FLAVOURS), flavour))
    if num_classes < 2 or train_size < 1 or test_size < 1:
        raise ValueError("need num_classes >= 2 and train_size, test_size >= 1; got %d, %d, %d"
                         % (num_classes, train_size, test_size))
    path = os.path.abspath(os.fspath(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for name, obj in _members(num_classes, train_size, test_size, seed, flavour):
                payload = _pickle_bytes(obj)
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = len(payload), 0, 0o644
                tar.addfile(info, io.BytesIO(payload))
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, path)
    return path
