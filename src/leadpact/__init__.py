"""LeadPact: the sales & marketing SLA, run as software.

The small public API: load a pact, use its business calendars, compute goals.
"""

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
