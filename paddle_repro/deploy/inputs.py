"""What ``tools/infer.py --input`` may name: an image, a folder of images, or a list file."""
import os

from .errors import ExportError

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def list_images(source):
    """Image paths named by ``source`` (sorted for a folder, in file order for a list).

    A text list holds one path per line (blank lines and ``#`` comments skipped); relative
    paths are taken relative to the list file's folder.

    Raises:
        ExportError: ``source`` does not exist, or names no image.
    """
    if os.path.isdir(source):
        paths = sorted(os.path.join(source, n) for n in os.listdir(source)
                       if n.lower().endswith(IMAGE_EXTS))
    elif os.path.isfile(source) and source.lower().endswith(IMAGE_EXTS):
        paths = [source]
    elif os.path.isfile(source):
        base = os.path.dirname(os.path.abspath(source))
        with open(source, encoding="utf-8") as f:
            lines = [ln.strip() for ln in f]
        paths = [ln if os.path.isabs(ln) else os.path.join(base, ln)
                 for ln in lines if ln and not ln.startswith("#")]
    else:
        raise ExportError(f"--input {source} does not exist (give an image, a folder or a list file).")
    if not paths:
        raise ExportError(f"--input {source} names no image ({', '.join(IMAGE_EXTS)}).")
    return paths
