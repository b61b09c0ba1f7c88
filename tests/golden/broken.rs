/// This file has syntax errors; recovered items must still come out.
pub struct Good {
    a: u8,
}

fn missing_paren(a: u8 {
    a
}

pub fn after_error() -> u8 {
    1
}

struct Unclosed {
    field: u32,

impl Good {
    fn method(&self) -> u8 { self.a @@ }
    pub fn fine(&self) {}
}

enum Partial { A, B(, C }

fn trailing() { let x = ; }
