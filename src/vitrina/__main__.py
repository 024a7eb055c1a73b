"""`python -m vitrina ...`: the same commands as `vitrina ...` (the service starts training runs this way)."""

from vitrina.cli import main

main()
