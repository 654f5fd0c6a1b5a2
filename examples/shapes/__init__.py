"""Shapes with an area."""

from shapes.base import Shape
from shapes.circle import Circle
from shapes.square import Square

__all__ = ["Circle", "Shape", "Square"]
