"""The errors a user can cause and fix, shown by the tools as one paragraph (exit code 2).

Every such error type derives from ``UserError`` (besides the builtin it has always been, so
callers catching ``ValueError`` / ``KeyError`` / ``RuntimeError`` keep working); the tools
catch ``UserError``, so a new error type needs no table entry anywhere.
"""
import contextlib
import errno
import sys


class UserError(Exception):
    """An error whose message tells the user what to fix; never shown as a traceback."""


class ConfigError(UserError, ValueError):
    """A config file or override is wrong; the message names the key, the file and a fix."""


# what a write fails with when the disk or the folder will not take it, in words; a
# file-size limit (ulimit -f) is EFBIG because Python ignores its SIGXFSZ
CANNOT_WRITE = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                errno.EFBIG: "a file reached the file-size limit (ulimit -f)",
                errno.EROFS: "the file system is read-only",
                errno.EACCES: "the folder or file is read-only",
                errno.EPERM: "the folder or file is immutable (chattr +i) or otherwise protected"}


def cannot_write_reason(err):
    """Why the OSError ``err`` could not write, in words; None for any other error."""
    return CANNOT_WRITE.get(getattr(err, "errno", None))


def user_error_message(err):
    """``<TypeName>: <message>``, not wrapped: messages hold paths and commands to copy."""
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    return f"{type(err).__name__}: {text}"


@contextlib.contextmanager
def user_errors():
    """Turns a ``UserError`` into its paragraph on stderr and ``SystemExit(2)``, no traceback."""
    try:
        yield
    except UserError as err:
        print(user_error_message(err), file=sys.stderr)
        raise SystemExit(2) from None
