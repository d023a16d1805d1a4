"""``export_model(cfg)``: what ``tools/export_model.py`` does.

Build ``Arch``, load ``Global.checkpoint`` strictly, trace it in eval mode with
``InputSpec [None, C, H, W]`` (``Global.image_shape``; any batch size) under the export
formulation (``formulation.py``), save with ``paddle.jit.save`` and write ``inference.yml``
(``meta.py``). The folder is ``Global.save_inference_dir`` (default ``<output_dir>/inference``).

Files are first written to a temporary folder beside the target and moved in only once the
export succeeded, so a failed export (a full disk, a file-size limit) leaves an existing
folder as it was; a folder that holds another model (other registry name or checkpoint) is
refused, never overwritten. A target that is a file or cannot be written (read-only,
immutable) is refused before the model is even built.
"""
import os
import resource
import shutil
import tempfile

import numpy as np
import paddle

from paddle_repro.config import ConfigError
from paddle_repro.writable import cannot_write_reason, nearest_existing, probe_file, probe_folder
from paddle_repro.data import build_dataset
from paddle_repro.data.transform_entries import entry_names
from paddle_repro.data.transform_table import TABLE
from paddle_repro.data.transforms import build_transforms
from paddle_repro.inference.images import class_names_for
from paddle_repro.models import build_model_from_config
from paddle_repro.models.weights import resolve_weights_file

from .errors import ExportError, InferenceModelError
from .files import META_FILE, PARAMS_FILE, PREFIX, PROGRAM_FILES, model_files, program_file
from .formulation import export_formulation
from .meta import build_meta, read_meta, sha256_of, write_meta
from .predictor import InferenceModel

# the saved program's logits may differ from dygraph's by float rounding only: tests/test_export.py
# sees <= 1e-5 of the logits' scale for every model (CondConv's export formulation ~1e-6)
VERIFY_RTOL = 1e-3
NATIVE_SIZE = {"cifar10": 32, "cifar100": 32, "synthetic": 32}  # stored image side of the data sets


def image_shape_of(cfg):
    """``Global.image_shape`` as (C, H, W) ints, checked against the Eval transforms.

    The transforms run on a blank image of the data set's stored size (``image_shape``'s own
    H, W for an image folder); their output must be ``image_shape``, else the config's
    image_shape was left at its default for a model that sees another size.

    Raises:
        ExportError: absent, not three positive ints, or not what the Eval transforms produce.
    """
    shape = cfg["Global"].get("image_shape")
    if not shape:
        raise ExportError("Export needs Global.image_shape ([C, H, W] of one input), e.g. "
                          "-o Global.image_shape=[3,32,32].")
    if len(shape) != 3 or not all(isinstance(v, int) and v > 0 for v in shape):
        raise ExportError(f"Global.image_shape must be three positive ints [C, H, W], got {shape!r}.")
    side = NATIVE_SIZE.get(cfg["DataLoader"]["dataset"]["name"])
    hw = (side, side) if side else (shape[1], shape[2])
    blank = np.zeros(hw + (shape[0],), dtype=np.uint8)
    produced = list(np.asarray(build_transforms(cfg["DataLoader"]["Eval"]["transforms"])(blank)).shape)
    if produced != list(shape):
        raise ExportError(f"Global.image_shape is {list(shape)} but the Eval transforms turn a "
                          f"{hw[0]}x{hw[1]} image into {produced}: the exported input would not match "
                          f"the preprocessing. Set -o Global.image_shape=[{','.join(map(str, produced))}].")
    return tuple(shape)


def save_program(model, folder, image_shape):
    """``paddle.jit.save`` of ``model`` (eval mode) for inputs [None, *image_shape].

    Returns:
        Path of the program file written (inference.json on Paddle 3, .pdmodel on 2.6).
    """
    model.eval()
    spec = [paddle.static.InputSpec([None] + list(image_shape), "float32", "x")]
    with export_formulation(model):
        paddle.jit.save(model, os.path.join(folder, PREFIX), input_spec=spec)
    path = program_file(folder)
    if path is None or not os.path.isfile(os.path.join(folder, PARAMS_FILE)):
        raise ExportError(f"paddle.jit.save wrote {sorted(os.listdir(folder))} to {folder}; expected "
                          f"one of {PROGRAM_FILES} and {PARAMS_FILE}.")
    return path


def check_target(folder, name, checkpoint_sha256):
    """Refuse a folder that already holds a different (or unidentifiable) exported model."""
    present = model_files(folder) if os.path.isdir(folder) else []
    if not present:
        return
    if not os.path.isfile(os.path.join(folder, META_FILE)):
        raise ExportError(f"{folder} already holds {', '.join(os.path.basename(p) for p in present)} "
                          f"without an {META_FILE}, so it cannot be told apart from this model; "
                          "choose another -o Global.save_inference_dir or delete those files.")
    old = read_meta(folder)["Model"]
    if (old["name"], old.get("checkpoint_sha256")) != (name, checkpoint_sha256):
        raise ExportError(f"{folder} already holds an exported {old['name']!r} (checkpoint sha256 "
                          f"{str(old.get('checkpoint_sha256'))[:12]}...), not {name!r} from this "
                          f"checkpoint ({checkpoint_sha256[:12]}...). Refusing to overwrite it: "
                          "choose another -o Global.save_inference_dir or delete the folder.")


def _cannot_write(folder, err):
    reason = cannot_write_reason(err) or err.strerror
    return ExportError(f"Cannot write {err.filename or folder} ({err.strerror}): {reason}. The export "
                       f"stopped and {folder} is as it was; make room, or choose another "
                       "-o Global.save_inference_dir.")


def _room_message(folder, need):
    """Why ``need`` bytes will not fit under ``folder`` (file-size limit, free space), or None."""
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY and soft < need:
        return (f"the file-size limit (ulimit -f) is {soft} bytes and {PARAMS_FILE} needs about "
                f"{need} bytes")
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    if free < need:
        return f"the disk holding {folder} has {free} bytes free and the export needs about {need}"
    return None


def weights_bytes(model):
    """Bytes of ``model``'s tensors: a lower bound of its ``inference.pdiparams`` size."""
    return sum(int(v.size) * v.element_size() for v in model.state_dict().values())


def check_room(folder, need):
    """Refuses an export whose ``need`` bytes of weights cannot fit (file-size limit, free
    space), before tracing.

    Paddle writes ``inference.pdiparams`` in C++ and does not report a short write: a
    file-size limit or a full disk leaves a truncated file behind a successful call (and a
    predictor that loads it computes garbage), so the file is also measured after the save.
    """
    why = _room_message(nearest_existing(folder), need)
    if why:
        raise ExportError(f"Cannot export to {folder}: {why}. Nothing was written; make room, or "
                          "choose another -o Global.save_inference_dir.")


def check_writable(folder):
    """Refuses a target that is a file or cannot be written, before anything is exported.

    Tries where the export will write (the target, or its nearest existing parent) and its
    existing model files (``paddle_repro.writable``): a read-only or immutable folder is found
    even by root.
    """
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ExportError(f"Global.save_inference_dir {folder} is a file, not a folder: choose "
                          "another -o Global.save_inference_dir or move the file.")
    try:
        probe_folder(folder)
        for path in model_files(folder) if os.path.isdir(folder) else []:
            probe_file(path)
    except OSError as err:
        name = err.filename if os.path.isfile(err.filename or "") else nearest_existing(folder)
        raise ExportError(f"Cannot write to {name} ({err.strerror}): "
                          f"{cannot_write_reason(err) or err.strerror}. Nothing was exported; "
                          "choose another -o Global.save_inference_dir or make the folder "
                          "writable.") from None


def _verify(tmp, probe, reference, folder):
    """Max |logits| difference of the saved program (Paddle Inference) and the dygraph model.

    Raises:
        ExportError: the files do not load back, or their logits are not the model's (beyond
            float rounding: ``VERIFY_RTOL`` of the logits' scale); ``folder`` stays as it was.
    """
    try:
        got = InferenceModel(tmp).logits(probe)
    except InferenceModelError as err:
        raise _cut_short(tmp, folder, f"the exported files do not load back ({err})") from None
    diff = float(np.max(np.abs(got - reference)))
    scale = max(1.0, float(np.max(np.abs(reference))))
    if not np.isfinite(diff) or diff > VERIFY_RTOL * scale:
        raise _cut_short(tmp, folder, f"the exported program's logits differ from the trained "
                                      f"model's by {diff:.3g} (allowed {VERIFY_RTOL * scale:.3g})")
    return diff


def _cut_short(tmp, folder, what):
    """The ExportError for exported files that came out wrong, saying why when it can tell."""
    path = os.path.join(tmp, PARAMS_FILE)
    size = os.path.getsize(path) if os.path.isfile(path) else 0
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    stat = os.statvfs(tmp)
    if soft != resource.RLIM_INFINITY and size >= soft:
        why = f"{PARAMS_FILE} stopped at the file-size limit (ulimit -f) of {soft} bytes"
    elif stat.f_bavail * stat.f_frsize < (1 << 20):
        why = f"the disk holding {folder} is full"
    else:
        return ExportError(f"Export failed: {what}. {folder} is as it was. Please report it with "
                           "the config and the checkpoint.")
    return ExportError(f"Export cut short: {what}, because {why}. {folder} is as it was; make room, "
                       "or choose another -o Global.save_inference_dir.")


def _move_in(tmp, folder):
    os.makedirs(folder, exist_ok=True)
    for name in PROGRAM_FILES:  # a re-export by another Paddle version must not leave both
        stale = os.path.join(folder, name)
        if os.path.isfile(stale) and not os.path.isfile(os.path.join(tmp, name)):
            os.remove(stale)
    for name in os.listdir(tmp):
        os.replace(os.path.join(tmp, name), os.path.join(folder, name))


def _num_classes(cfg):
    """Classes from the Eval data set when it can be read (as tools/eval.py), else None."""
    try:
        return build_dataset(cfg["DataLoader"]["dataset"], cfg["DataLoader"]["Eval"], "test").num_classes
    except Exception:  # offline / absent data: Arch.num_classes (or the builder's default) decides
        return None


def preprocess_imports(cfg):
    """The config's ``custom_imports`` when its Eval transforms use a name they register, else
    None: the exported program itself needs no Python module (meta.py)."""
    imports = cfg.get("custom_imports")
    used = set(entry_names(cfg["DataLoader"]["Eval"]["transforms"]))
    return list(imports) if imports and used - set(TABLE.builtin()) else None


def export_model(cfg, verify=True):
    """Exports ``Global.checkpoint`` of ``cfg``'s Arch (see module doc).

    Args:
        cfg: a resolved config (``paddle_repro.config.load_config``).
        verify: run the saved program once with Paddle Inference at batch 2 and compare its
            logits with the dygraph model's.

    Returns:
        dict: ``folder``, ``files`` (paths written), ``image_shape``, ``max_abs_diff`` (None
        unless verified).

    Raises:
        ExportError, WeightsError (checkpoint of another architecture), ConfigError.
    """
    g = cfg["Global"]
    if not g.get("checkpoint"):
        raise ConfigError("tools/export_model.py needs weights: add "
                          "-o Global.checkpoint=<run>/best_model.pdparams.")
    image_shape = image_shape_of(cfg)
    folder = g.get("save_inference_dir") or os.path.join(g["output_dir"], "inference")
    name = cfg["Arch"]["name"]
    checkpoint = resolve_weights_file(g["checkpoint"])
    digest = sha256_of(checkpoint)
    check_target(folder, name, digest)
    check_writable(folder)

    paddle.set_device("cpu")
    with paddle.utils.unique_name.guard():
        model = build_model_from_config(cfg, _num_classes(cfg), weights=checkpoint)
    need = weights_bytes(model)
    check_room(folder, need)
    model.eval()
    probe = np.random.RandomState(0).rand(2, *image_shape).astype("float32")
    try:
        with paddle.no_grad():
            reference = model(paddle.to_tensor(probe)).numpy()
    except (ValueError, RuntimeError) as err:
        raise ExportError(f"{name} cannot run on inputs of Global.image_shape {list(image_shape)}: "
                          f"{str(err).splitlines()[0]}") from None
    tmp = None
    try:
        os.makedirs(os.path.dirname(os.path.abspath(folder)), exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".export-", dir=os.path.dirname(os.path.abspath(folder)))
        program = save_program(model, tmp, image_shape)
        written = os.path.getsize(os.path.join(tmp, PARAMS_FILE))
        if written < need:  # a short write Paddle's C++ did not report
            raise _cut_short(tmp, folder, f"{PARAMS_FILE} came out {written} bytes long, less than "
                                          f"the {need} bytes of the weights")
        names = class_names_for(cfg, checkpoint, reference.shape[1])
        write_meta(tmp, build_meta(name, digest, os.path.basename(program), image_shape,
                                   cfg["DataLoader"]["Eval"]["transforms"], names[:reference.shape[1]],
                                   preprocess_imports(cfg),
                                   params_sha256=sha256_of(os.path.join(tmp, PARAMS_FILE))))
        diff = None
        if verify:
            diff = _verify(tmp, probe, reference, folder)
        _move_in(tmp, folder)
    except OSError as err:
        if cannot_write_reason(err) is None:
            raise
        raise _cannot_write(folder, err) from None
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return {"folder": folder, "files": model_files(folder), "image_shape": list(image_shape),
            "max_abs_diff": diff, "name": name}
