import Client from "./client";
import describe, { Circle, Square, totalArea } from "./shapes";

export function main(): string {
  const client = new Client({ retries: 2, prefix: "/api" });
  client.retries = 3;
  const shapes = [new Square(2), new Circle(1)];
  const one = client.request("area");
  const many = client.request("area", client.retries);
  return [one, ...many, describe(shapes[0]), String(totalArea(shapes))].join("\n");
}
