"""Errors a user can cause in the data layer (missing/corrupt files, offline download)."""


class DataError(RuntimeError):
    """A data file is missing, corrupt, unofficial or cannot be downloaded.

    The message always names the file and says how to fix the problem.
    """
