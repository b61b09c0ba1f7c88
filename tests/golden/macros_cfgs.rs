//! tokio-style conditional compilation through macros.

macro_rules! cfg_rt {
    ($($item:item)*) => {
        $(
            #[cfg(feature = "rt")]
            #[cfg_attr(docsrs, doc(cfg(feature = "rt")))]
            $item
        )*
    }
}

macro_rules! cfg_net {
    ($($item:item)*) => { $( #[cfg(feature = "net")] $item )* }
}

cfg_rt! {
    /// Spawns a task.
    pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
    {
        unimplemented!()
    }

    pub(crate) mod blocking;

    cfg_net! {
        pub struct TcpStream {
            fd: i32,
        }
    }
}

pub struct Handle;

impl Handle {
    cfg_rt! {
        /// Enters the runtime.
        pub fn enter(&self) -> EnterGuard<'_> {
            unimplemented!()
        }
    }

    pub fn current() -> Handle {
        Handle
    }
}

cfg_if::cfg_if! {
    if #[cfg(unix)] {
        mod unix;
        pub use self::unix::Driver;
    } else if #[cfg(windows)] {
        #[path = "windows/mod.rs"]
        mod windows;
    } else {
        mod unsupported;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn spawn_works() {}

    #[cfg(feature = "net")]
    #[test]
    fn tcp_works() {}
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub fn linux_only() {}

thread_local! {
    static CURRENT: Cell<u32> = Cell::new(0);
}

lazy_static::lazy_static! {
    pub static ref GLOBAL: Handle = Handle;
}

assert_eq_size!(Handle, ());
mat!(match_basic, r"abc", "xabcx", Some((1, 4)));
