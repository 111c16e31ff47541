"""Advice (FNL4xx): warnings from how good funnels are built."""
from __future__ import annotations
