"""What a load or cleanup raises: refused before writing, or failed and rolled back."""


class LoadRefused(ValueError):
    """The safety guard said no. Nothing was written."""


class LoadError(RuntimeError):
    """The load failed and was rolled back. Nothing was written."""


class NotOurs(LoadRefused):
    """An object the project did not create is in the way: it is never replaced or dropped."""
