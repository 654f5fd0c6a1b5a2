"""A square."""

from shapes.base import Shape


class Square(Shape):
    name = "square"

    def __init__(self, side: float) -> None:
        self.side = side

    def area(self) -> float:
        return self.side * self.side
