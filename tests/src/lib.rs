//! Harnesses shared by the end-to-end suites: the test vectors, and (with the
//! workflow issue) the local AWS emulator.

pub mod emulator;
pub mod fixtures;
pub mod nginx;
pub mod proxy;
pub mod vectors;
