"""The one error of a vector sync that cannot go ahead."""


class VectorSyncError(Exception):
    """A vector sync that cannot go ahead; the message says what is wrong and what is allowed."""
