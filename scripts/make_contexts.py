"""Regenerates data/contexts.jsonl: python scripts/make_contexts.py [--count 60] [--seed 20231201]."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from peptalk.synthetic import DEFAULT_PATH, generate_contexts, write_contexts  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--count", type=int, default=60)
parser.add_argument("--seed", type=int, default=20231201)
args = parser.parse_args()
write_contexts(DEFAULT_PATH, generate_contexts(args.count, seed=args.seed))
print(f"wrote {args.count} contexts to {DEFAULT_PATH}")
