"""Find, download and check CIFAR "python version" tarballs before anything unpickles them.

Not a paper module. The notebooks passed ``data_file=`` to ``paddle.vision.datasets.Cifar10``
/ ``Cifar100``; Paddle's own code turns a missing, truncated or foreign file into an
``AssertionError``, a pickle traceback or a hung download. Here every such case becomes
one ``DataError`` that names the file and the fix:

* no ``data_file`` -> Paddle's cache path (``~/.cache/paddle/dataset/cifar/<official
  name>``); downloaded with Paddle's downloader only when missing AND the server answers
  within a few seconds (offline machines fail fast instead of retrying for minutes);
* md5: a file carrying the official name must have the official md5 (else it is a broken
  download, refused); any other file whose md5 is not official (a sample, a rebuilt archive)
  is read with a one-line note, its format checked like any other
  (``DataLoader.dataset.allow_unofficial`` is no longer needed and is ignored);
* structure: gzip/tar readable, the expected members present, each batch unpickles to
  ``data`` uint8 [N, 3072] with N labels in range;
* safety: the batches are pickles from elsewhere, so they are read through
  ``safe_load``'s allow-list (arrays, lists, dicts): an archive whose pickles ask for
  anything else is refused (``UnsafePickleError``) and nothing in it runs. Paddle's own
  ``Cifar10._load_data`` (a plain ``pickle.load``) is never called: ``cifar.py`` hands it
  these validated rows.
"""
import hashlib
import logging
import os
import socket
import tarfile
import threading
import zlib

import numpy as np
from paddle.dataset import common as paddle_dataset  # Paddle's own CIFAR cache and downloader

from ..safe_load import UnsafePickleError, load_pickle
from .errors import DataError

log = logging.getLogger("paddle_repro")

URL_PREFIX = "https://dataset.bj.bcebos.com/cifar/"
OFFICIAL = {
    "cifar10": {"file": "cifar-10-python.tar.gz", "md5": "c58f30108f718f92721af3b95e74349a",
                "train": "data_batch", "test": "test_batch", "meta": "batches.meta",
                "labels": b"labels", "names": b"label_names"},
    "cifar100": {"file": "cifar-100-python.tar.gz", "md5": "eb9058c3a382ffc7106e4002c42a8d85",
                 "train": "train", "test": "test", "meta": "meta",
                 "labels": b"fine_labels", "names": b"fine_label_names"},
}
_MD5_CACHE = {}  # (path, size, mtime) -> md5; the train and test datasets share one check
_NOTED = set()  # unofficial files already noted in this process (train and test share one note)


def official_url(name):
    return URL_PREFIX + OFFICIAL[name]["file"]


def cache_path(name):
    """Where Paddle's downloader keeps the official tarball (``DATA_HOME/cifar/<file>``)."""
    return os.path.join(paddle_dataset.DATA_HOME, "cifar", OFFICIAL[name]["file"])


def _how_to_fix(name):
    info = OFFICIAL[name]
    return ("Download %s (md5 %s) on a machine with internet and either copy it to %s or "
            "pass its path: `-o DataLoader.dataset.data_file=/path/to/%s`."
            % (official_url(name), info["md5"], cache_path(name), info["file"]))


def _reachable(host, port=443, timeout=3.0):
    """True if a TCP connection to host:port opens within ``timeout`` s (DNS included)."""
    result = []

    def probe():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            pass

    t = threading.Thread(target=probe, daemon=True)  # getaddrinfo has no timeout of its own
    t.start()
    t.join(timeout + 0.5)
    return bool(result)


def resolve_cifar_file(name, data_file):
    """Return the path of the tarball to read, downloading the official one if needed.

    Args:
        name: ``"cifar10"`` or ``"cifar100"``.
        data_file: user-given path, or None for Paddle's cache (download when missing).

    Raises:
        DataError: the given file does not exist, or it must be downloaded and cannot be.
    """
    if data_file is not None:
        path = os.path.abspath(os.path.expanduser(data_file))
        if os.path.isdir(path):
            tarballs = sorted(f for f in os.listdir(path) if f.endswith(".tar.gz"))
            raise DataError("DataLoader.dataset.data_file %s is a folder; give the CIFAR tarball "
                            "itself%s." % (path, ", e.g. one of: " + ", ".join(tarballs)
                                           if tarballs else " (none found in that folder)"))
        if not os.path.isfile(path):
            raise DataError("DataLoader.dataset.data_file %s does not exist. %s"
                            % (path, _how_to_fix(name)))
        return path
    path = cache_path(name)
    if os.path.isfile(path):
        return path
    url = official_url(name)
    host = url.split("/")[2]
    if not _reachable(host):
        raise DataError("%s is not in Paddle's cache (%s) and %s cannot be reached (offline?). %s"
                        % (name, path, host, _how_to_fix(name)))
    try:
        return paddle_dataset._check_exists_and_download(None, url, OFFICIAL[name]["md5"], "cifar", True)
    except Exception as e:  # noqa: BLE001 - any downloader failure gets the same fix
        raise DataError("Downloading %s to %s failed (%s: %s). %s"
                        % (url, path, type(e).__name__, e, _how_to_fix(name)))


def file_md5(path):
    st = os.stat(path)
    key = (path, st.st_size, st.st_mtime_ns)
    if key not in _MD5_CACHE:
        h = hashlib.md5()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _MD5_CACHE[key] = h.hexdigest()
    return _MD5_CACHE[key]


def check_md5(name, path, note=True):
    """Enforce the md5 rules of the module docstring. Returns True if the file is official.

    Args:
        note: log the one-line note for an unofficial file (once per file and process);
            False for the generated synthetic archives, which are never official.

    Raises:
        DataError: the file is named like the official archive but is not it.
    """
    info = OFFICIAL[name]
    md5 = file_md5(path)
    if md5 == info["md5"]:
        return True
    if os.path.basename(path) == info["file"]:
        raise DataError("%s is named like the official %s archive but its md5 is %s, not %s: "
                        "the download is truncated or corrupt. Delete it and download again "
                        "(or, for a deliberately different file, rename it). %s"
                        % (path, name, md5, info["md5"], _how_to_fix(name)))
    if note and path not in _NOTED:
        _NOTED.add(path)
        log.info(f"{path} is not the official {name} archive (md5 {md5}); format checked.")
    return False


def _unpickle(tar, member, path):
    try:
        return load_pickle(tar.extractfile(member), f"{path}:{member.name}", encoding="bytes")
    except UnsafePickleError:
        raise
    except (EOFError, OSError, zlib.error, tarfile.TarError) as e:
        raise DataError("%s is truncated or corrupt: member %s cannot be read (%s). Download "
                        "the archive again." % (path, member.name, e))
    except Exception as e:  # noqa: BLE001 - unpickling garbage raises almost anything
        raise DataError("%s: member %s is not a CIFAR pickle (%s: %s). Is this a CIFAR "
                        "'python version' archive?" % (path, member.name, type(e).__name__, e))


def _as_batch(obj, member, path, label_key):
    if not isinstance(obj, dict) or b"data" not in obj or label_key not in obj:
        keys = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise DataError("%s: member %s lacks b'data' / %r (has %s); not a CIFAR batch of this "
                        "flavour." % (path, member, label_key, keys))
    data, labels = obj[b"data"], np.asarray(obj[label_key])
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == 3072):
        raise DataError("%s: member %s has data of shape %s dtype %s; CIFAR needs uint8 "
                        "[N, 3072]." % (path, member, getattr(data, "shape", "?"),
                                        getattr(data, "dtype", type(data).__name__)))
    if labels.ndim != 1 or len(labels) != len(data):
        raise DataError("%s: member %s has %d images but labels of shape %s."
                        % (path, member, len(data), labels.shape))
    return data, labels.astype(np.int64)


def read_cifar(name, path, mode):
    """Read and validate one split of a CIFAR tarball, in Paddle's member order.

    Args:
        name: ``"cifar10"`` or ``"cifar100"``.
        path: tarball path.
        mode: ``"train"`` or ``"test"``.

    Returns:
        ``(data uint8 [N, 3072], labels int64 [N], class_names list[str])``.

    Raises:
        DataError: unreadable archive, missing members, bad pickles or shapes, labels out
            of range.
    """
    info = OFFICIAL[name]
    flag = info[mode]
    try:
        with tarfile.open(path, mode="r") as tar:
            members = [m for m in tar.getmembers() if m.isfile()]
            # Paddle's rule: every member whose name contains the flag, sorted by name.
            split = sorted((m for m in members if flag in m.name), key=lambda m: m.name)
            meta = [m for m in members if os.path.basename(m.name) == info["meta"]]
            if not split or not meta:
                raise DataError(
                    "%s has no %s member for the %s split and/or no %s file (members: %s). "
                    "Is it a %s 'python version' archive?"
                    % (path, flag, mode, info["meta"], [m.name for m in members][:10], name))
            batches = [_as_batch(_unpickle(tar, m, path), m.name, path, info["labels"])
                       for m in split]
            meta_obj = _unpickle(tar, meta[0], path)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise DataError("%s is not a readable .tar.gz (%s: %s): truncated or corrupt. Download "
                        "it again. %s" % (path, type(e).__name__, e, _how_to_fix(name)))
    if not isinstance(meta_obj, dict) or info["names"] not in meta_obj:
        raise DataError("%s: %s has no %r list of class names." % (path, meta[0].name, info["names"]))
    class_names = [n.decode() if isinstance(n, bytes) else str(n) for n in meta_obj[info["names"]]]
    data = np.concatenate([b[0] for b in batches])
    labels = np.concatenate([b[1] for b in batches])
    if len(labels) and (labels.min() < 0 or labels.max() >= len(class_names)):
        raise DataError("%s: labels span [%d, %d] but the meta file names %d classes."
                        % (path, labels.min(), labels.max(), len(class_names)))
    return data, labels, class_names
