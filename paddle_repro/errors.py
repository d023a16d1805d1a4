"""The errors a user can cause and fix, shown by the tools as one paragraph (exit code 2).

Every such error type derives from ``UserError`` (besides the builtin it has always been, so
callers catching ``ValueError`` / ``KeyError`` / ``RuntimeError`` keep working); the tools
catch ``UserError``, so a new error type needs no table entry anywhere.
"""


class UserError(Exception):
    """An error whose message tells the user what to fix; never shown as a traceback."""


class ConfigError(UserError, ValueError):
    """A config file or override is wrong; the message names the key, the file and a fix."""
