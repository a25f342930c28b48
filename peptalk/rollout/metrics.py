"""The rollout's Prometheus metrics: the live stage per process, routing by arm, and the evidence the gates read."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

STAGE_SHARE = Gauge("peptalk_rollout_stage_share", "Share of users the candidate serves, as this process applies it",
                    ["candidate"])
STAGE_INDEX = Gauge("peptalk_rollout_stage_index", "Index of the rollout's current stage in its plan", ["candidate"])
STATE_VERSION = Gauge("peptalk_rollout_state_version", "Version of the rollout state this process applies")
REFRESH_ERRORS = Counter("peptalk_rollout_refresh_errors_total", "Failed reads of the rollout state")
ROUTED = Counter("peptalk_rollout_routed_total", "Requests by rollout arm (fallback: the candidate failed first)",
                 ["arm"])
MIRRORS = Counter("peptalk_rollout_mirrors_total", "Requests mirrored to the other model for pairs",
                  ["model", "outcome"])
EVIDENCE = Gauge("peptalk_rollout_evidence", "The rollout's evidence over its current stage", ["candidate", "metric"])
TRANSITIONS = Counter("peptalk_rollout_transitions_total", "Rollout transitions made by this process", ["kind"])
EVIDENCE_AGE = Gauge("peptalk_rollout_evidence_age_seconds",
                     "Seconds since the current stage's newest verdict (or its start, without one)", ["candidate"])
EVIDENCE_STALLED = Gauge("peptalk_rollout_evidence_stalled",
                         "1 while no verdict has arrived for longer than the stage's stall_after_s", ["candidate"])
STATE_STALE = Gauge("peptalk_rollout_state_stale",
                    "1 while this process cannot read the rollout stage and serves the primary instead")
STATE_AGE = Gauge("peptalk_rollout_state_age_seconds", "Seconds since this process last read the rollout stage")
CANDIDATE_CALLS = Counter("peptalk_rollout_candidate_calls_total", "Candidate calls counted for the failure rates",
                          ["outcome"])
