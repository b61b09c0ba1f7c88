use std::fmt;

pub trait Shape: fmt::Debug {
    /// The unit.
    type Unit: Copy;
    const SIDES: u32;
    const NAME: &'static str = "shape";

    fn area(&self) -> f64;
    fn describe(&self) -> String {
        format!("{:?}", self)
    }
    fn new_default() -> Self
    where
        Self: Sized;
}

#[derive(Debug)]
pub struct Square<T> {
    side: T,
}

impl<T: Copy + Into<f64>> Square<T> {
    pub const DEFAULT_SIDE: f64 = 1.0;

    /// Makes a square.
    pub fn new(side: T) -> Self {
        Square { side }
    }

    pub fn side(&self) -> T {
        self.side
    }

    fn into_side(self) -> T {
        self.side
    }
}

impl<T: Copy + Into<f64> + fmt::Debug> Shape for Square<T> {
    type Unit = f64;
    const SIDES: u32 = 4;

    fn area(&self) -> f64 {
        let s: f64 = self.side.into();
        s * s
    }

    fn new_default() -> Self {
        unimplemented!()
    }
}

impl fmt::Display for Square<u8> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "square({})", self.side)
    }
}

impl<'a> From<&'a str> for Square<u8> {
    fn from(s: &'a str) -> Self {
        Square { side: s.len() as u8 }
    }
}

unsafe impl<T: Send> Send for Square<T> {}

impl<T> std::ops::Deref for Square<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.side
    }
}

impl dyn Shape<Unit = f64> {
    pub fn boxed_area(&self) -> f64 {
        self.area()
    }
}

const _: () = {
    impl Default for Square<u8> {
        fn default() -> Self {
            Square { side: 1 }
        }
    }
};
