"""Summaries over a list of shapes."""

from shapes.base import Shape


def total_area(shapes: list[Shape]) -> float:
    return sum(shape.area() for shape in shapes)


def summarize(shapes: list[Shape]) -> str:
    lines = [shape.describe() for shape in shapes]
    lines.append(f"total {total_area(shapes):.2f}")
    return "\n".join(lines)
