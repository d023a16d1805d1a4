"""What ``tools/infer.py`` reads and writes: ``--input`` images, the ``--output`` JSON file.

Both are checked before anything is predicted: an ``--output`` that is a folder, under a
missing or read-only folder, or an immutable file fails at once, not after the predictions;
the file is then written whole or not at all (a temporary file moved in).
"""
import json
import os
import tempfile

from ..inference.images import IMAGE_EXTS, folder_images
from ..writable import cannot_write_reason, probe_file, probe_folder
from .errors import InferenceModelError


def list_images(source):
    """Image paths named by ``source`` (sorted for a folder, in file order for a list).

    A text list holds one path per line (blank lines and ``#`` comments skipped); relative
    paths are taken relative to the list file's folder.

    Raises:
        InferenceModelError: ``source`` does not exist, or names no image.
    """
    if os.path.isdir(source):
        paths = folder_images(source)
    elif os.path.isfile(source) and source.lower().endswith(IMAGE_EXTS):
        paths = [source]
    elif os.path.isfile(source):
        base = os.path.dirname(os.path.abspath(source))
        with open(source, encoding="utf-8") as f:
            lines = [ln.strip() for ln in f]
        paths = [ln if os.path.isabs(ln) else os.path.join(base, ln)
                 for ln in lines if ln and not ln.startswith("#")]
    else:
        raise InferenceModelError(f"--input {source} does not exist (give an image, a folder or a "
                                  "list file).")
    if not paths:
        raise InferenceModelError(f"--input {source} names no image ({', '.join(IMAGE_EXTS)}).")
    return paths


def _cannot_write(path, err):
    reason = cannot_write_reason(err) or err.strerror
    return InferenceModelError(f"Cannot write --output {path} ({err.strerror}): {reason}. Nothing was "
                               "written; give a writable --output file.")


def check_output(path):
    """Refuses an ``--output`` that cannot be written, before anything is predicted.

    Tries the folder and an existing file (``paddle_repro.writable``): a read-only folder or
    an immutable file is found even by root, for whom permission bits do not count.
    """
    if os.path.isdir(path):
        raise InferenceModelError(f"--output {path} is a folder; give a file name, e.g. "
                                  f"{os.path.join(path, 'infer_results.json')}.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InferenceModelError(f"--output {path}: the folder {folder} does not exist.")
    try:
        probe_folder(folder)
        probe_file(path)
    except OSError as err:
        raise _cannot_write(path, err) from None


def write_results(path, results):
    """Writes ``results`` as JSON to ``path`` whole or not at all."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".infer-", suffix=".json", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
        os.replace(tmp, path)
    except OSError as err:
        raise _cannot_write(path, err) from None
    finally:
        if tmp and os.path.exists(tmp):
            os.remove(tmp)
