"""Entry point: builds some shapes and prints a report."""

import plugins  # does not exist: no server can resolve what comes from it
from report import summarize
from shapes import Circle, Shape, Square


def build() -> list[Shape]:
    unit = Circle(1.0)
    return [unit, Square(2.0)]


def main() -> None:
    shapes = build()
    print(summarize(shapes))
    plugins.load_all(shapes)


if __name__ == "__main__":
    main()
