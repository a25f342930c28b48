"""Offline evaluation of logged pep talks (the SLaM method).

The heavier parts are imported from their modules: `evaluation.pipeline` (judges, metrics, rankings and
agreement), `evaluation.generator`, `evaluation.judges` and `evaluation.metrics`.
"""

from evaluation.loaders import load_dataset, load_items, load_shadow_dataset, write_dataset
from evaluation.records import CallRecord, DatasetItem, ShadowExportRow
from evaluation.scores import ScoreRow, read_scores, write_scores

__all__ = [
    "CallRecord",
    "DatasetItem",
    "ScoreRow",
    "ShadowExportRow",
    "load_dataset",
    "load_items",
    "load_shadow_dataset",
    "read_scores",
    "write_dataset",
    "write_scores",
]
