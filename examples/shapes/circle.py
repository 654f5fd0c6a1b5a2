"""A circle."""

import math

from shapes.base import Shape


class Circle(Shape):
    name = "circle"

    def __init__(self, radius: float) -> None:
        self.radius = radius

    def area(self) -> float:
        return math.pi * self.radius**2
