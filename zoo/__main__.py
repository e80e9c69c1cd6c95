"""`python -m zoo ...`: the `zoo` command, where the console script is not on PATH."""

from zoo.cli import main

if __name__ == "__main__":
    main()
