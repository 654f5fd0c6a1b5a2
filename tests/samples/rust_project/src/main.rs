mod geometry;

use geometry::{perimeter, Point};

fn main() {
    let square = [
        Point::new(0.0, 0.0),
        Point::new(1.0, 0.0),
        Point::new(1.0, 1.0),
        Point::new(0.0, 1.0),
    ];
    let total = perimeter(&square);
    println!("{total:.2}");
    plugins::load_all(total); // no crate `plugins`: nothing can resolve it
}
