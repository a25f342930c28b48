"""Offline evaluation of logged pep talks (the SLaM method)."""

from evaluation.records import CallRecord, DatasetItem, ShadowExportRow

__all__ = ["CallRecord", "DatasetItem", "ShadowExportRow"]
