export interface Shape {
  area(): number;
}

export class Square implements Shape {
  constructor(private readonly side: number) {}

  area(): number {
    return this.side * this.side;
  }
}

export class Circle implements Shape {
  #radius: number;

  constructor(radius: number) {
    this.#radius = radius;
  }

  get radius(): number {
    return this.#radius;
  }

  area(): number {
    return Math.PI * this.#radius ** 2;
  }
}

export function totalArea(shapes: Shape[]): number {
  return shapes.reduce((sum, shape) => sum + shape.area(), 0);
}

export default function describe(shape: Shape): string {
  return `area ${shape.area().toFixed(2)}`;
}
