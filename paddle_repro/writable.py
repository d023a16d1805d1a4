"""Can this process write there, and why not: checked before long work, by trying.

Permission bits do not stop root, and ``chattr +i`` or a read-only mount stop everyone, so
``os.access`` cannot tell; the tools instead create and remove a temporary entry where they
will write (``probe_folder``) and open an existing file for appending without writing
(``probe_file``). ``cannot_write_reason`` says in words what a failed write means, so each
tool's one-line message can name the cause and the fix.
"""
import errno
import os
import tempfile

# what a write fails with when the disk or the folder will not take it; a file-size limit
# (ulimit -f) is EFBIG because Python ignores its SIGXFSZ
CANNOT_WRITE = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                errno.EFBIG: "a file reached the file-size limit (ulimit -f)",
                errno.EROFS: "the file system is read-only",
                errno.EACCES: "the folder or file is read-only",
                errno.EPERM: "the folder or file is immutable (chattr +i) or otherwise protected"}


def cannot_write_reason(err):
    """Why the OSError ``err`` could not write, in words; None for any other error."""
    return CANNOT_WRITE.get(getattr(err, "errno", None))


def nearest_existing(path):
    """``path`` itself when it exists, else its closest existing parent folder."""
    path = os.path.abspath(path)
    while not os.path.lexists(path):
        path = os.path.dirname(path)
    return path


def probe_folder(folder):
    """Raises the OSError a write into ``folder`` (or, absent, where it would be made) gives.

    Returns:
        The folder actually probed (``folder`` or its nearest existing parent).
    """
    where = nearest_existing(folder)
    if not os.path.isdir(where):
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory", where)
    os.rmdir(tempfile.mkdtemp(prefix=".probe-", dir=where))
    return where


def probe_file(path):
    """Raises the OSError that replacing or appending to the existing file ``path`` gives."""
    if os.path.isfile(path):
        open(path, "a").close()
