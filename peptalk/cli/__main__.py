"""`python -m peptalk.cli`."""

from peptalk.cli import main

main()
