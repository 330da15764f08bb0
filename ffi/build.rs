//! Gives the shared library its SONAME, so programs link against `libeks6.so.0`.
fn main() {
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libeks6.so.{major}");
    }
}
