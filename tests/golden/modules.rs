//! Module tree edges: declarations, path attributes, inline modules.
/*! A block inner doc. */

mod plain;
pub mod public;
#[cfg(test)]
mod tests;

#[path = "platform/linux.rs"]
mod linux;

#[path = "outer"]
pub mod outer {
    //! Inline module docs.
    #![allow(unused_imports)]

    mod middle {
        pub(super) mod leaf;

        pub fn in_middle() {}
    }

    pub use self::middle::in_middle;
}

mod ffi {
    use std::os::raw::c_int;

    #[link(name = "m")]
    extern "C" {
        /// Absolute value.
        pub fn abs(x: c_int) -> c_int;
        static errno: c_int;
    }

    #[cfg(windows)]
    extern "system" {
        fn GetLastError() -> u32;
    }
}

pub(crate) mod re_exports {
    pub use super::ffi::*;
    pub use std::{
        collections::{BTreeMap as Map, HashSet},
        sync::Arc,
    };
}
