"""One module per CRM: a request as received (`Delivery`) -> canonical deal events (`Translation`)."""
from __future__ import annotations

from .delivery import Delivery, Refused, Translation

CRMS = ("amocrm", "hubspot", "pipedrive", "bitrix24")


def translator(crm: str):
    """The `translate(delivery, mapping)` function of one CRM."""
    import importlib

    if crm not in CRMS:
        raise KeyError(crm)
    return importlib.import_module(f"{__name__}.{crm}").translate


__all__ = ["CRMS", "Delivery", "Refused", "Translation", "translator"]
