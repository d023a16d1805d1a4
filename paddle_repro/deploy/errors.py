"""The one exception of the deploy package: its message names the problem and the fix."""
from ..errors import UserError


class ExportError(UserError, RuntimeError):
    """An export or inference request that cannot be honoured (bad folder, shape, checkpoint)."""
