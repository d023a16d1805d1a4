"""When two resolved configs give the same run: ``recipe_hash`` and ``config_diff``.

Both configs are first read as today's loader would (``config.with_defaults``: a key an
older version did not write counts as its default). Keys that cannot change a run's recipe
are ignored (``config.RECIPE_NEUTRAL_KEYS``: output folder, resume, overwrite, progress bar,
loader workers), and so is the ``data_file`` path when both paths hold the same bytes.
"""
import hashlib

from paddle_repro.config import RECIPE_NEUTRAL_KEYS, config_changes, config_hash, flatten_config, \
    with_defaults

_DATA_FILE = "DataLoader.dataset.data_file"


def _file_digest(path):
    """sha256 of a data file (None if unreadable), so two paths to one archive compare equal."""
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    except (OSError, TypeError):
        return None


def _comparable(cfg):
    """The flat ``{"Section.key": value}`` that decides whether two configs are one recipe."""
    flat = flatten_config(with_defaults(cfg))
    for key in RECIPE_NEUTRAL_KEYS:
        flat.pop(key, None)
    if flat.get(_DATA_FILE):
        digest = _file_digest(flat[_DATA_FILE])
        if digest:  # the same bytes under another path is the same data
            flat[_DATA_FILE] = "sha256:" + digest
    return flat


def recipe_hash(cfg):
    """``config_hash`` of the resolved config without the keys that cannot change numbers."""
    return config_hash(_comparable(cfg))


def config_diff(a, b):
    """Dotted keys whose values differ between two configs (volatile keys ignored)."""
    return [key for key, _, _ in config_changes(_comparable(a), _comparable(b))]
