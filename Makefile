# The two set-up commands. Both create or reuse .venv and install what they need first.
.PHONY: serve test

serve:
	bash scripts/serve.sh

test:
	bash scripts/test.sh
