//! Criterion benches of the eks6 address math live in `benches/benches/net.rs`; this crate has
//! no library code of its own.
