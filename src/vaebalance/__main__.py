"""``python -m vaebalance``: the same command line as the ``vaebalance`` script."""

from .cli import main

main()
