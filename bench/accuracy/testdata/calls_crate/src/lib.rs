//! Fixture for bench/accuracy: calls of every shape the MIR oracle handles.
use std::fmt;

pub mod shapes;

#[derive(Clone, Debug, PartialEq)]
pub struct Regex {
    s: String,
}

pub trait Matcher {
    fn is_match(&self, t: &str) -> bool;

    fn dflt(&self) -> u32 {
        3
    }
}

impl Regex {
    pub fn new(s: &str) -> Result<Regex, String> {
        let r = Regex { s: s.to_string() };
        r.helper()?;
        Ok(r)
    }

    fn helper(&self) -> Result<(), String> {
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.s.len()
    }
}

impl Matcher for Regex {
    fn is_match(&self, t: &str) -> bool {
        self.s.contains(t)
    }
}

impl fmt::Display for Regex {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.s)
    }
}

pub fn generic<M: Matcher>(m: &M, d: &dyn Matcher) -> bool {
    let v: Vec<u32> = vec![1, 2];
    for x in v.iter() {
        if *x > 1 {
            m.dflt();
        }
    }
    let c = |y: &str| m.is_match(y);
    c("a") && d.is_match("b")
}

macro_rules! make {
    ($e:expr) => {
        Regex::new($e)
    };
}

pub fn caller() -> usize {
    let r = Regex::new("a").unwrap();
    generic(&r, &r);
    assert!(r.is_match("a"));
    let _ = make!("z");
    let n = r
        .clone()
        .len();
    fn inner(x: usize) -> usize {
        shapes::double(x)
    }
    inner(n) + shapes::Point::origin().x
}

#[cfg(test)]
mod tests {
    #[test]
    fn t() {
        super::caller();
    }
}
