"""The one exception of the deploy package: its message names the problem and the fix."""


class ExportError(RuntimeError):
    """An export or inference request that cannot be honoured (bad folder, shape, checkpoint)."""
