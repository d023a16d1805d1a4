"""Where an export may write, checked before the work and diagnosed after it.

``tools/export_model.py`` traces for tens of seconds; everything that would make it fail
at the end is checked first: a target that holds another model (``check_target``), is a
file or cannot be written -- read-only, immutable, under a file (``check_writable``, by
trying: root ignores permission bits) -- or has no room for the weights under the
file-size limit (``ulimit -f``) or on the disk (``check_room``). Paddle writes
``inference.pdiparams`` in C++ and does not report a short write (a predictor then reads
the truncated file and computes garbage), so ``cut_short`` names the cause when the
saved files come out wrong anyway.
"""
import os
import resource

from paddle_repro.writable import cannot_write_reason, nearest_existing, probe_file, probe_folder

from .errors import ExportError
from .files import META_FILE, PARAMS_FILE, model_files
from .meta import read_meta


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


def cannot_write(folder, err):
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


def cut_short(tmp, folder, what):
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
