"""``inference.yml``: what a predictor needs beside the program, and nothing else.

PaddleClas's deploy convention, reduced to this suite::

    Model:      {name: <registry key>, checkpoint_sha256: <hex>, program: inference.json}
    PreProcess: {image_shape: [C, H, W], transforms: <DataLoader.Eval.transforms>,
                 custom_imports: [module, ...]}     # only when a transform needs one
    PostProcess: {class_names: [...]}

``transforms`` are the config's Eval entries verbatim, applied by
``paddle_repro.data.transforms.build_transforms`` -- the very code ``tools/eval.py`` uses.
The program is self-contained: Paddle Inference runs the traced operators, so a model a
user's module registered needs nothing of that module. Only a transform the module
registered does: then ``PreProcess.custom_imports`` names the config's ``custom_imports``,
which the predictor imports before building the transforms.
"""
import hashlib
import os

import yaml

from .errors import ExportError
from .files import META_FILE


def sha256_of(path, chunk=1 << 20):
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def build_meta(name, checkpoint_sha256, program, image_shape, transforms, class_names,
               custom_imports=None):
    """The inference.yml dict (see module doc); ``custom_imports`` only when given."""
    pre = {"image_shape": [int(v) for v in image_shape], "transforms": list(transforms)}
    if custom_imports:
        pre["custom_imports"] = list(custom_imports)
    return {"Model": {"name": name, "checkpoint_sha256": checkpoint_sha256, "program": program},
            "PreProcess": pre,
            "PostProcess": {"class_names": [str(n) for n in class_names]}}


def write_meta(folder, meta):
    path = os.path.join(folder, META_FILE)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(meta, f, sort_keys=False, allow_unicode=True)
    return path


def read_meta(folder):
    """The inference.yml of an exported folder.

    Raises:
        ExportError: absent or not the layout above.
    """
    path = os.path.join(folder, META_FILE)
    if not os.path.isfile(path):
        raise ExportError(f"{folder} has no {META_FILE}: it is not a folder written by "
                          "tools/export_model.py (export the model first).")
    with open(path, encoding="utf-8") as f:
        meta = yaml.safe_load(f)
    try:
        meta["Model"]["name"], meta["PreProcess"]["image_shape"], meta["PreProcess"]["transforms"]
        meta["PostProcess"]["class_names"]
    except (TypeError, KeyError) as err:
        raise ExportError(f"{path} lacks {err}; re-export the model with tools/export_model.py.") from None
    return meta
