"""The base class every shape derives from."""


class Shape:
    """Something with a name and an area."""

    name: str = "shape"

    def area(self) -> float:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.name} with area {self.area():.2f}"
