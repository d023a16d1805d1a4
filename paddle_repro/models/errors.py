"""Errors a user can cause when naming or configuring a model."""


class ModelArgumentError(TypeError):
    """An ``Arch`` keyword argument the builder does not accept; the message names it,
    the closest accepted one, and every accepted one. A ``TypeError`` so callers that
    catch the builtin keep working."""
