"""``inference.yml``: what a predictor needs beside the program, and nothing else.

PaddleClas's deploy convention, reduced to this suite::

    Model:      {name: <registry key>, checkpoint_sha256: <hex>, program: inference.json,
                 params_sha256: <hex of inference.pdiparams>}
    PreProcess: {image_shape: [C, H, W], transforms: <DataLoader.Eval.transforms>,
                 custom_imports: [module, ...]}     # only when a transform needs one
    PostProcess: {class_names: [...]}
    Predictor:  {onednn: true|false, onednn_note: <why>}   # exports since oneDNN became the default

``params_sha256`` lets ``tools/infer.py`` refuse a missing, truncated or replaced weights
file before it predicts: Paddle Inference runs a program without its ``.pdiparams`` on
uninitialised weights (NaN probabilities), and reads a damaged one with a C++ traceback.
Folders exported before it was recorded are checked for a missing or empty file only.
``transforms`` are the config's Eval entries verbatim, applied by
``paddle_repro.data.transforms.build_transforms`` -- the very code ``tools/eval.py`` uses.
The program is self-contained: Paddle Inference runs the traced operators, so a model a
user's module registered needs nothing of that module. Only a transform the module
registered does: then ``PreProcess.custom_imports`` names the config's ``custom_imports``,
which the predictor imports before building the transforms.
``Predictor.onednn`` is the export's choice of oneDNN kernels for the CPU predictor
(``onednn.py``); a folder exported before it was recorded gets the default, on.
"""
import hashlib
import os

import yaml

from .errors import InferenceModelError
from .files import META_FILE


def sha256_of(path, chunk=1 << 20):
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def build_meta(name, checkpoint_sha256, program, image_shape, transforms, class_names,
               custom_imports=None, params_sha256=None, predictor=None):
    """The inference.yml dict (see module doc); ``custom_imports``, ``params_sha256`` and
    ``predictor`` (the ``Predictor`` section, ``onednn.predictor_section``) only when given."""
    model = {"name": name, "checkpoint_sha256": checkpoint_sha256, "program": program}
    if params_sha256:
        model["params_sha256"] = params_sha256
    pre = {"image_shape": [int(v) for v in image_shape], "transforms": list(transforms)}
    if custom_imports:
        pre["custom_imports"] = list(custom_imports)
    meta = {"Model": model,
            "PreProcess": pre,
            "PostProcess": {"class_names": [str(n) for n in class_names]}}
    if predictor:
        meta["Predictor"] = dict(predictor)
    return meta


def write_meta(folder, meta):
    path = os.path.join(folder, META_FILE)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(meta, f, sort_keys=False, allow_unicode=True)
    return path


def read_meta(folder):
    """The inference.yml of an exported folder.

    Raises:
        InferenceModelError: the folder does not exist, or its inference.yml is absent, not
            YAML, or not the layout above.
    """
    if not os.path.isdir(folder):
        raise InferenceModelError(
            f"{folder} {'is a file, not a folder' if os.path.exists(folder) else 'does not exist'}: "
            "give the folder tools/export_model.py wrote (Global.save_inference_dir, by default "
            "<output_dir>/inference).")
    path = os.path.join(folder, META_FILE)
    if not os.path.isfile(path):
        raise InferenceModelError(f"{folder} has no {META_FILE}: it is not a folder written by "
                                  "tools/export_model.py (export the model first).")
    try:
        with open(path, encoding="utf-8") as f:
            meta = yaml.safe_load(f)
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        where = getattr(err, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise InferenceModelError(f"{path} is not valid YAML{at} ({getattr(err, 'problem', None) or err}); "
                                  "re-export the model with tools/export_model.py.") from None
    try:
        meta["Model"]["name"], meta["PreProcess"]["image_shape"], meta["PreProcess"]["transforms"]
        meta["PostProcess"]["class_names"]
    except (TypeError, KeyError) as err:
        raise InferenceModelError(f"{path} lacks {err}; re-export the model with "
                                  "tools/export_model.py.") from None
    return meta
