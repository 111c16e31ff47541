"""The known-behaviour history of bench/forecast_history.py, for the tests (one generator for both)."""
from __future__ import annotations

import sys

from conftest import ROOT

if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from bench.forecast_history import (DAY, LEAD_MEAN, LEAD_TO_OFFER, OFFER_MEAN, OFFER_TO_WON, START,  # noqa: E402,F401
                                    draw_paths, history, won_between)
