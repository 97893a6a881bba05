"""quarter_hour: assess the 一刻钟便民生活圈 (15-minute convenient living circle).

From each residential compound's gates, walk the street network for 15 minutes (1,200 m at
80 m/min), find which kinds of everyday business are in reach, and score the community against
the acceptance rubric (杭锦旗 2023, Annex 2, by default).

Importing the package has no side effects on logging, numpy or the environment.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from ._errors import (
    CRSError as CRSError,
)
from ._errors import (
    EmptyNetworkError as EmptyNetworkError,
)
from ._errors import (
    InputError as InputError,
)
from ._errors import (
    InputFileError as InputFileError,
)
from ._errors import (
    MissingFontError as MissingFontError,
)
from ._errors import (
    QuarterHourError as QuarterHourError,
)
from ._errors import (
    QuarterHourWarning as QuarterHourWarning,
)
from ._errors import (
    RubricError as RubricError,
)

try:
    __version__ = _version("quarter_hour")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

logging.getLogger(__name__).addHandler(logging.NullHandler())
