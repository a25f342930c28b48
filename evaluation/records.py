"""Re-exports the shared record types, which live in the leaf module `peptalk.records` (serving writes them too)."""

from peptalk.records import CallRecord, CallSource, DatasetItem, ShadowExportRow, UsageSource

__all__ = ["CallRecord", "CallSource", "DatasetItem", "ShadowExportRow", "UsageSource"]
