"""`python -m techdesk` and the `techdesk` entry point: GUI without arguments, CLI with them."""

import sys


def main() -> int:
    from techdesk.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
