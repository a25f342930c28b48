"""The one-command report: quality, agreement, latency, cost and the verdict, as HTML with a Markdown twin."""

from evaluation.report.build import FIGURE_FILES, REPORT_STEPS, ReportOptions, ReportResult, build_report
from evaluation.report.inputs import ReportSources

__all__ = ["FIGURE_FILES", "REPORT_STEPS", "ReportOptions", "ReportResult", "ReportSources", "build_report"]
