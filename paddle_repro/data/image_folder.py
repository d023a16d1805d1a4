"""``image_folder``: your own images laid out as ``root/{train,test}/<class>/*.png|jpg``.

Not a paper module. Images are read with cv2 and converted BGR -> RGB, so they reach the
transforms exactly like CIFAR images do (uint8 RGB HWC). Classes are the sorted folder
names under ``root/train``; ``root/test`` may use a subset of them.

A file that cannot be decoded must stop the run at once, naming the file, with any number
of loader workers. Raising inside ``__getitem__`` does not do that: with ``num_workers: 0``
Paddle's loader thread dies and the main thread waits forever. So a bad item is returned
in-band: a black image of the first image's size and the label ``-(index + 1)``; the training
loop and ``evaluate`` check every batch with :func:`raise_if_bad` and raise the ``DataError``
naming the file in the main process.
"""
import os

import cv2
import numpy as np
from paddle.io import Dataset

from .cifar import as_chw_float32
from .errors import DataError
from .subset import balanced_subset

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")


def _scan(root, mode):
    train_dir, split_dir = os.path.join(root, "train"), os.path.join(root, mode)
    for d in (train_dir, split_dir):
        if not os.path.isdir(d):
            raise DataError("image_folder: %s is not a folder. Expected DataLoader.dataset.root "
                            "(%s) to contain train/<class>/*.png and test/<class>/*.png."
                            % (d, root))
    classes = sorted(e.name for e in os.scandir(train_dir) if e.is_dir())
    if not classes:
        raise DataError("image_folder: %s has no class sub-folders (train/<class>/*.png)."
                        % train_dir)
    for name in classes:  # an empty one would be a class the model can never see
        folder = os.path.join(train_dir, name)
        if not any(f.lower().endswith(EXTENSIONS) for f in os.listdir(folder)):
            raise DataError("image_folder: class folder %s has no %s images, so it would be a "
                            "class with no training example; add images or remove the folder."
                            % (folder, "/".join(EXTENSIONS)))
    files, labels = [], []
    for entry in sorted(os.scandir(split_dir), key=lambda e: e.name):
        if not entry.is_dir():
            continue
        if entry.name not in classes:
            raise DataError("image_folder: class folder %s is not among the train classes %s."
                            % (entry.path, classes))
        for f in sorted(os.listdir(entry.path)):
            if f.lower().endswith(EXTENSIONS):
                files.append(os.path.join(entry.path, f))
                labels.append(classes.index(entry.name))
    if not files:
        raise DataError("image_folder: no %s images under %s." % ("/".join(EXTENSIONS), split_dir))
    return classes, files, np.asarray(labels, dtype=np.int64)


def read_rgb(path):
    """uint8 RGB [H,W,3] image from ``path``; DataError if cv2 cannot decode it."""
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise DataError("image_folder: cannot read image %s (missing, empty or not an image); "
                        "remove or replace it." % path)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


class ImageFolderDataset(Dataset):
    """One split of an image folder. Items: ``(float32 [C,H,W], int64 scalar label)``.

    Attributes:
        num_classes, class_names, labels, files: as the names say (labels/files of the
            subset items).
    """

    def __init__(self, root, mode, transform, num_samples=None):
        if not root:
            raise DataError("image_folder needs DataLoader.dataset.root (folder with train/ "
                            "and test/ class folders).")
        root = os.path.abspath(os.path.expanduser(root))
        self.class_names, files, labels = _scan(root, mode)
        self.num_classes = len(self.class_names)
        keep = balanced_subset(labels, num_samples,
                               "DataLoader.%s" % ("Train" if mode == "train" else "Eval"))
        self.files = [files[i] for i in keep]
        self.labels = labels[keep]
        self.transform = transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        label = self.labels[i]
        try:
            img = read_rgb(self.files[i])
        except DataError:  # in-band, see the module docstring
            img, label = np.zeros_like(self._template()), -(int(i) + 1)
        if self.transform is not None:
            img = self.transform(img)
        return as_chw_float32(img, "image_folder"), np.array(label, dtype=np.int64)

    def _template(self):
        """A decodable image of this split (its size makes the placeholder of a bad item)."""
        for path in self.files:
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img is not None:
                return img
        raise DataError("image_folder: none of the %d images can be decoded." % len(self.files))

    def bad_item_message(self, label):
        """The error for the in-band bad-item label ``-(index + 1)``."""
        path = self.files[-int(label) - 1]
        return ("image_folder: cannot read image %s (missing, empty, truncated or not an image); "
                "remove or replace it and run again." % path)

    def raw_images(self, idxs):
        """uint8 RGB images (a list if sizes differ, else an array [n,H,W,3])."""
        imgs = [read_rgb(self.files[int(i)]) for i in idxs]
        if imgs and all(im.shape == imgs[0].shape for im in imgs):
            return np.stack(imgs)
        return imgs
