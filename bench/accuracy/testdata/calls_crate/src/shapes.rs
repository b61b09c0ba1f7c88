pub struct Point {
    pub x: usize,
}

impl Point {
    pub fn origin() -> Point {
        Point { x: double(0) }
    }
}

pub fn double(x: usize) -> usize {
    x * 2
}

#[cfg(feature = "never")]
pub fn off() -> usize {
    double(1)
}
