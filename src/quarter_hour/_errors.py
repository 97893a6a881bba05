"""Exception hierarchy for quarter_hour.

Every error subclasses a built-in (``ValueError``, ``OSError`` ...) so that ``except ValueError``
in user code keeps working, and :class:`QuarterHourError` so that one ``except`` catches them all.
"""

from __future__ import annotations


class QuarterHourError(Exception):
    """Base class for all quarter_hour errors."""


class InputError(QuarterHourError, ValueError):
    """Input data (a file, a table, a parameter) is missing, malformed or inconsistent."""


class InputFileError(InputError, OSError):
    """A file is missing, unreadable, or not of the format its extension says."""


class CRSError(InputError):
    """A coordinate reference system is missing, geographic where metres are needed, or mismatched."""


class EmptyNetworkError(InputError):
    """No walkable street was found in the requested data or area."""


class RubricError(InputError):
    """A rubric file is malformed (names the key and line)."""


class MissingFontError(QuarterHourError, RuntimeError):
    """No font able to draw Chinese text is installed (posters, charts)."""


class QuarterHourWarning(UserWarning):
    """Base class for warnings a user must act on (points not snapped, data dropped, ...)."""
