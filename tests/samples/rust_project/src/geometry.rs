pub struct Point {
    pub x: f64,
    pub y: f64,
}

impl Point {
    pub fn new(x: f64, y: f64) -> Point {
        Point { x, y }
    }
}

pub fn distance(a: &Point, b: &Point) -> f64 {
    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
}

pub fn perimeter(points: &[Point]) -> f64 {
    let n = points.len();
    (0..n).map(|i| distance(&points[i], &points[(i + 1) % n])).sum()
}

pub enum Kind {
    Open,
    Closed,
}

// A raw identifier: rust-analyzer names its call hierarchy item `r#type`.
pub fn r#type(points: &[Point]) -> Kind {
    if perimeter(points) > 0.0 {
        Kind::Closed
    } else {
        Kind::Open
    }
}
