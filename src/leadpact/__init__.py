"""LeadPact: the sales & marketing SLA, run as software.

The small public API: load a pact, use its business calendars. Names are imported lazily so
that `leadpact --help` does not pay for numpy and the holiday tables.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadpact.core.calendar import BusinessCalendar
    from leadpact.core.pact import Pact
    from leadpact.errors import LeadPactError, PactError
    from leadpact.pact_file import load_pact

__version__ = "0.1.0"

__all__ = [
    "BusinessCalendar",
    "LeadPactError",
    "Pact",
    "PactError",
    "__version__",
    "load_pact",
]

_LAZY = {
    "BusinessCalendar": "leadpact.core.calendar",
    "Pact": "leadpact.core.pact",
    "LeadPactError": "leadpact.errors",
    "PactError": "leadpact.errors",
    "load_pact": "leadpact.pact_file",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'leadpact' has no attribute {name!r}")
