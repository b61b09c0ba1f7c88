//! Basic items of every kind.
//!
//! Second paragraph.
#![allow(dead_code)]

use std::collections::HashMap;
use std::{fmt, io::{self, Write}};
pub use crate::config::Config as Settings;
extern crate alloc;

/// Largest buffer.
pub const MAX: usize = 1 << 16;
static mut COUNTER: u32 = 0;
pub(crate) type Map<V> = HashMap<String, V>;

/// A point in the plane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Horizontal.
    pub x: f64,
    pub(crate) y: f64,
}

/// A tuple wrapper.
pub struct Meters(pub f64);

struct Marker;

#[repr(C)]
pub union Bits {
    int: u32,
    float: f32,
}

/// Errors.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Bad syntax.
    Syntax { msg: String, offset: usize },
    Io(io::Error),
    Unknown,
}

pub(super) fn helper<'a, T: AsRef<str> + 'a, const N: usize>(items: &'a [T; N]) -> usize
where
    T: Clone,
{
    fn inner(n: usize) -> usize {
        n * 2
    }
    inner(N)
}

pub(in crate::a) fn restricted() {}
pub(self) fn private_self() {}

/// Says hello.
#[macro_export]
macro_rules! hello {
    () => {
        println!("hello")
    };
}
