"""`python -m leadpact` runs the CLI."""

from leadpact.cli import main

main()
