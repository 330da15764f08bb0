//! The C ABI of eks6 (`libeks6`). See `include/eks6.h`.
//!
//! The address functions and the workflow functions arrive with their own issues; this
//! crate already builds the shared and static libraries so packaging can be tested.

use std::ffi::c_char;

/// The library version as a NUL-terminated static string; never free it.
#[unsafe(no_mangle)]
pub extern "C" fn eks6_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[doc(hidden)]
pub use eks6_core as core;
