"""The rollout's Prometheus metrics: the live stage per process, routing by arm, and the evidence the gates read."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from peptalk.metrics import REGISTRY  # peptalk's own registry: a host's `{prefix}/metrics` serves these too

STAGE_SHARE = Gauge("peptalk_rollout_stage_share", "Share of users the candidate serves, as this process applies it",
                    ["candidate"], registry=REGISTRY)
STAGE_INDEX = Gauge("peptalk_rollout_stage_index", "Index of the rollout's current stage in its plan", ["candidate"],
                    registry=REGISTRY)
STATE_VERSION = Gauge("peptalk_rollout_state_version", "Version of the rollout state this process applies",
                      registry=REGISTRY)
REFRESH_ERRORS = Counter("peptalk_rollout_refresh_errors_total", "Failed reads of the rollout state", registry=REGISTRY)
ROUTED = Counter("peptalk_rollout_routed_total", "Requests by rollout arm (fallback: the candidate failed first)",
                 ["arm"], registry=REGISTRY)
MIRRORS = Counter("peptalk_rollout_mirrors_total", "Requests mirrored to the other model for pairs",
                  ["model", "outcome"], registry=REGISTRY)
EVIDENCE = Gauge("peptalk_rollout_evidence", "The rollout's evidence over its current stage", ["candidate", "metric"],
                 registry=REGISTRY)
TRANSITIONS = Counter("peptalk_rollout_transitions_total", "Rollout transitions made by this process", ["kind"],
                      registry=REGISTRY)
EVIDENCE_AGE = Gauge("peptalk_rollout_evidence_age_seconds",
                     "Seconds since the current stage's newest verdict (or its start, without one)", ["candidate"],
                     registry=REGISTRY)
EVIDENCE_STALLED = Gauge("peptalk_rollout_evidence_stalled",
                         "1 while no verdict has arrived for longer than the stage's stall_after_s", ["candidate"],
                         registry=REGISTRY)
STATE_STALE = Gauge("peptalk_rollout_state_stale",
                    "1 while this process cannot read the rollout stage and serves the primary instead",
                    registry=REGISTRY)
STATE_AGE = Gauge("peptalk_rollout_state_age_seconds", "Seconds since this process last read the rollout stage",
                  registry=REGISTRY)
CANDIDATE_CALLS = Counter("peptalk_rollout_candidate_calls_total", "Candidate calls counted for the failure rates",
                          ["outcome"], registry=REGISTRY)
