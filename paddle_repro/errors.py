"""The errors a user can cause and fix, shown by the tools as one paragraph (exit code 2).

Every such error type derives from ``UserError`` (besides the builtin it has always been, so
callers catching ``ValueError`` / ``KeyError`` / ``RuntimeError`` keep working); the tools
catch ``UserError`` (in ``paddle_repro.cli.runner.run``, their one exit path), so a new error
type needs no table entry anywhere.
"""


class UserError(Exception):
    """An error whose message tells the user what to fix; never shown as a traceback."""


class ConfigError(UserError, ValueError):
    """A config file or override is wrong; the message names the key, the file and a fix."""


def user_error_message(err):
    """``<TypeName>: <message>``, not wrapped: messages hold paths and commands to copy."""
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    return f"{type(err).__name__}: {text}"

