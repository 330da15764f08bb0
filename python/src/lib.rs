//! The native module `eks6._eks6`. Thin: check arguments, call the core, map errors.

use pyo3::prelude::*;

#[pymodule]
fn _eks6(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
