"""`python -m vitrina ...` and the `vitrina` command (the service starts training runs this way).

The allocator is chosen first (vitrina.allocator may re-execute the process), before the CLI's imports (~0.45 s),
so a command pays for them once."""

from vitrina.allocator import use_preferred


def main() -> None:
    use_preferred()
    from vitrina.cli import app

    app()


if __name__ == "__main__":
    main()
