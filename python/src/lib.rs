//! The native module `eks6._eks6`. Thin: convert arguments, call the core, map every
//! error through [`to_pyerr`] to the exception class the core's error table names (in
//! `eks6.errors`). The exports are declared once, in the module below.

use pyo3::exceptions::{PyIndexError, PyOverflowError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyInt, PyList, PySlice, PyString};

#[cfg(feature = "workflow")]
mod workflow;

use eks6::error::ErrorDetails;
use eks6::net::{self, Ipv6Net, NetError, SubnetCount};

/// The one conversion of an eks6 error to Python: an instance of the class the core's
/// table names for its kind, `cls(message, details)`, where `details` carries the kind's
/// name and, where they exist, AWS's code and message, the findings (as JSON), the input
/// and the offset of the problem in it (a character index into the Python string).
pub(crate) fn to_pyerr<E: ErrorDetails + ?Sized>(e: &E) -> PyErr {
    Python::attach(|py| match error_instance(py, e) {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    })
}

fn error_instance<'py, E: ErrorDetails + ?Sized>(py: Python<'py>, e: &E) -> PyResult<Bound<'py, PyAny>> {
    static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module = ERRORS.get_or_try_init(py, || py.import("eks6.errors").map(Bound::unbind))?.bind(py);
    let info = e.kind().info();
    let details = PyDict::new(py);
    details.set_item("kind", info.name)?;
    details.set_item("code", e.aws_code())?;
    details.set_item("aws_message", e.aws_message())?;
    details.set_item("http_status", e.http_status())?;
    details.set_item("reason", e.reason())?;
    if let Some(f) = e.findings() {
        details
            .set_item("findings_json", serde_json::to_string(f).map_err(|x| PyTypeError::new_err(x.to_string()))?)?;
    }
    let input = e.input();
    details.set_item("input", input)?;
    let offset = match (input, e.offset()) {
        (Some(i), Some(b)) => Some(i.get(..b.min(i.len())).map_or(b, |p| p.chars().count())),
        _ => None,
    };
    details.set_item("offset", offset)?;
    module.getattr(info.python)?.call1((e.to_string(), details))
}

/// The core's error table, `(number, name, Python class)`, for the test that every kind
/// maps to its class.
#[pyfunction(name = "_error_kinds")]
fn error_kinds() -> Vec<(u32, &'static str, &'static str)> {
    eks6::error::TABLE.iter().map(|r| (r.kind.code(), r.name, r.python)).collect()
}

/// The exception [`to_pyerr`] makes for kind number `code` (for the same test).
#[pyfunction(name = "_error_of_kind")]
fn error_of_kind(py: Python<'_>, code: u32) -> PyResult<Py<PyAny>> {
    #[derive(Debug, thiserror::Error)]
    #[error("an error of kind {0}")]
    struct OfKind(eks6::ErrorKind);
    impl ErrorDetails for OfKind {
        fn kind(&self) -> eks6::ErrorKind {
            self.0
        }
    }
    let kind = eks6::ErrorKind::from_code(code).ok_or_else(|| PyIndexError::new_err(format!("no kind {code}")))?;
    Ok(to_pyerr(&OfKind(kind)).into_value(py).into_any())
}

/// Text of an address or prefix argument: `str`, or anything whose `str()` is one
/// (`ipaddress.IPv6Address`, `IPv6Network`).
fn text_of(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        // A str with a lone surrogate is not valid Unicode: taken with U+FFFD in its
        // place, which the parser then reports where it is (bad input, not a wrong type).
        return Ok(s.to_string_lossy().into_owned());
    }
    let type_name = obj.get_type().name()?.to_string();
    if type_name.starts_with("IPv6") {
        return Ok(obj.str()?.to_string());
    }
    Err(PyTypeError::new_err(format!("expected str, IPv6Address or IPv6Network, not {type_name}")))
}

fn net_err(e: NetError) -> PyErr {
    to_pyerr(&e)
}

/// A prefix length from any int: one that fits a `u8` goes to the core (which says
/// what is wrong for the prefix at hand); any other (negative, huge) is an error here.
fn length_of(n: &Bound<'_, PyAny>) -> PyResult<u8> {
    let bad = |text: String| net_err(NetError::BadLength { input: text.into() });
    match n.extract::<i64>() {
        Ok(v) => u8::try_from(v).map_err(|_| bad(v.to_string())),
        Err(_) if n.is_instance_of::<PyInt>() => Err(bad(n.str()?.to_string())),
        Err(e) => Err(e),
    }
}

/// The items of an iterable argument; a bare `str` is refused (it would iterate by
/// character).
fn items<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{what} takes an iterable of prefixes, not one str; wrap a single prefix in a list"
        )));
    }
    obj.try_iter()?.collect()
}

fn addr_of(obj: &Bound<'_, PyAny>) -> PyResult<net::Ipv6Addr> {
    net::parse_addr(&text_of(obj)?).map_err(net_err)
}

fn prefix_of(obj: &Bound<'_, PyAny>) -> PyResult<Ipv6Net> {
    net::parse_prefix(&text_of(obj)?).map_err(net_err)
}

/// RFC 5952 canonical text (IPv4-mapped addresses dotted).
#[pyfunction]
fn canonical(addr: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(net::canonical(addr_of(addr)?).to_string())
}

/// Eight groups of four hex digits.
#[pyfunction]
fn expanded(addr: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(net::expanded(addr_of(addr)?).to_string())
}

/// The `ip6.arpa.` name of an address, or the zone of a nibble-aligned prefix.
#[pyfunction]
fn reverse_name(addr: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(net::reverse(&text_of(addr)?).map_err(net_err)?.to_string())
}

/// The number of `/new_len` subnets, as an int of any size.
#[pyfunction]
fn subnet_count<'py>(
    py: Python<'py>,
    prefix: &Bound<'py, PyAny>,
    new_len: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    match net::count_subnets(prefix_of(prefix)?, length_of(new_len)?).map_err(net_err)? {
        SubnetCount::Exactly(n) => Ok(n.into_pyobject(py)?.into_any()),
        // ::/0 into /128s: 2^128, one past u128.
        SubnetCount::TwoTo128 => u128::MAX.into_pyobject(py)?.add(1),
    }
}

/// The `n`-th (from 0) `/new_len` subnet.
#[pyfunction]
fn nth_subnet(prefix: &Bound<'_, PyAny>, new_len: &Bound<'_, PyAny>, n: &Bound<'_, PyAny>) -> PyResult<String> {
    let (parent, new_len) = (prefix_of(prefix)?, length_of(new_len)?);
    let Ok(n) = n.extract::<u128>() else {
        return Err(to_pyerr(&eks6::error::ArgumentError::new(
            "n",
            format!("{n} is not a subnet index: they count from 0, and there are at most 2^128"),
        )));
    };
    Ok(net::nth_subnet(parent, new_len, n).map_err(net_err)?.to_string())
}

/// Whether `prefix` contains `addr`.
#[pyfunction]
fn contains(prefix: &Bound<'_, PyAny>, addr: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(net::contains(prefix_of(prefix)?, addr_of(addr)?))
}

/// The fewest prefixes covering the same addresses, sorted.
#[pyfunction]
fn aggregate(prefixes: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let mut nets = Vec::new();
    for p in items(prefixes, "aggregate")? {
        nets.push(prefix_of(&p)?);
    }
    Ok(net::aggregate(&nets).iter().map(ToString::to_string).collect())
}

/// `scheme://[host]:port/path` (RFC 3986 brackets, RFC 6874 zones as `%25`).
#[pyfunction]
#[pyo3(signature = (host, port=None, scheme="http", path="/"))]
fn bracketed_url(host: &Bound<'_, PyAny>, port: Option<i64>, scheme: &str, path: &str) -> PyResult<String> {
    let port = port.map(net::port_number).transpose().map_err(net_err)?;
    net::bracketed_url(scheme, &text_of(host)?, port.map(u32::from), path).map_err(net_err)
}

/// A lazy sequence of the subnets of a prefix: O(1) indexing (negative too), slicing,
/// iteration; `len()` raises `OverflowError` past `sys.maxsize` (use `subnet_count`).
#[pyclass(module = "eks6._eks6", sequence, frozen)]
struct Carve {
    parent: Ipv6Net,
    new_len: u8,
    /// Number of subnets.
    count: SubnetCount,
}

impl Carve {
    fn get(&self, i: u128) -> String {
        net::nth_subnet(self.parent, self.new_len, i).map(|n| net::canonical_prefix(n).to_string()).unwrap_or_default()
    }
}

#[pymethods]
impl Carve {
    fn __len__(&self) -> PyResult<usize> {
        match self.count.get() {
            Some(n) if n <= isize::MAX as u128 => Ok(n as usize),
            _ => Err(PyOverflowError::new_err(format!(
                "{} holds more /{} subnets than len() can return; use eks6.subnet_count() for the exact number",
                self.parent, self.new_len
            ))),
        }
    }

    fn __getitem__<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(slice) = key.cast::<PySlice>() {
            let len = self.__len__()?;
            let idx = slice.indices(len as isize)?;
            let mut out = Vec::with_capacity(idx.slicelength);
            let mut i = idx.start;
            for _ in 0..idx.slicelength {
                out.push(self.get(i as u128));
                i += idx.step;
            }
            return Ok(PyList::new(py, out)?.into_any());
        }
        // Any index of the 2^128 there can be: a u128 from the front, or from the back.
        let j = match key.extract::<u128>() {
            Ok(i) => Some(i).filter(|&i| self.count.has_index(i)),
            Err(_) => {
                let back = key.extract::<i128>()?.unsigned_abs();
                match self.count.get() {
                    Some(c) => c.checked_sub(back),
                    None => Some(u128::MAX - (back - 1)),
                }
            }
        };
        let Some(j) = j else {
            return Err(PyIndexError::new_err(format!("subnet index {key} out of range")));
        };
        Ok(self.get(j).into_pyobject(py)?.into_any())
    }

    /// `itertools.chain.from_iterable` over [`CarveChunks`]: CPython's own loop hands
    /// out the `str`s, with no Python call per subnet and no list of them all.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        static CHAIN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let chunk_len = self.new_len.saturating_sub(CARVE_CHUNK_BITS).max(self.parent.prefix_len());
        let chunks =
            CarveChunks { chunks: net::subnets(self.parent, chunk_len).map_err(net_err)?, new_len: self.new_len };
        CHAIN.import(py, "itertools", "chain")?.call_method1(intern!(py, "from_iterable"), (chunks,))
    }

    fn __repr__(&self) -> String {
        format!("eks6.carve('{}', {})", self.parent, self.new_len)
    }
}

/// The subnets of a [`Carve`], a list of up to 2^[`CARVE_CHUNK_BITS`] at a time (the
/// subnets of one chunk prefix). Each list's `str`s are made in one tight loop straight
/// from the core's reused buffer (`for_each_subnet_text` writes the text around the one
/// group that varies only once). Measured with `list(carve("2600:1f13:812::/64", 80))`
/// in one process: 4.3 ms, against 5.1 to 5.6 ms making each `str` in a `__next__`
/// and 6.4 ms cutting one big string with `str.split`.
#[pyclass(module = "eks6._eks6")]
struct CarveChunks {
    chunks: net::Subnets,
    new_len: u8,
}

/// 1,024 subnets a chunk: an 8 KB list, small enough to stay in cache and to come from
/// the allocator's free lists rather than fresh pages.
const CARVE_CHUNK_BITS: u8 = 10;

#[pymethods]
impl CarveChunks {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        let Some(chunk) = self.chunks.next() else { return Ok(None) };
        let mut made = Vec::with_capacity(1 << CARVE_CHUNK_BITS);
        net::for_each_subnet_text(chunk, self.new_len, |s| made.push(PyString::new(py, s))).map_err(net_err)?;
        PyList::new(py, made).map(Some)
    }
}

/// Carves `prefix` into its `/new_len` subnets, lazily.
#[pyfunction]
fn carve(prefix: &Bound<'_, PyAny>, new_len: &Bound<'_, PyAny>) -> PyResult<Carve> {
    let (parent, new_len) = (prefix_of(prefix)?, length_of(new_len)?);
    let count = net::count_subnets(parent, new_len).map_err(net_err)?;
    Ok(Carve { parent, new_len, count })
}

/// Hands out the lowest free aligned prefix of a length inside a parent.
#[pyclass(module = "eks6._eks6")]
struct PrefixAllocator {
    inner: net::PrefixAllocator,
}

#[pymethods]
impl PrefixAllocator {
    #[new]
    #[pyo3(signature = (parent, used=None))]
    fn new(parent: &Bound<'_, PyAny>, used: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let parent = prefix_of(parent)?;
        let mut nets = Vec::new();
        if let Some(u) = used {
            for p in items(u, "PrefixAllocator(used=...)")? {
                nets.push(prefix_of(&p)?);
            }
        }
        Ok(Self { inner: net::PrefixAllocator::new(parent, &nets).map_err(net_err)? })
    }

    /// Takes the lowest free aligned prefix of `length`.
    fn allocate(&mut self, length: &Bound<'_, PyAny>) -> PyResult<String> {
        Ok(self.inner.allocate(length_of(length)?).map_err(net_err)?.to_string())
    }

    /// Frees a prefix again.
    fn release(&mut self, prefix: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.release(prefix_of(prefix)?).map_err(net_err)
    }
}

/// Longest-prefix match from prefixes to any Python values.
#[pyclass(module = "eks6._eks6")]
struct PrefixTable {
    inner: net::PrefixTable<Py<PyAny>>,
}

#[pymethods]
impl PrefixTable {
    #[new]
    fn new() -> Self {
        Self { inner: net::PrefixTable::new() }
    }

    fn __setitem__(&mut self, prefix: &Bound<'_, PyAny>, value: Py<PyAny>) -> PyResult<()> {
        self.inner.insert(prefix_of(prefix)?, value);
        Ok(())
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// The value of the most specific prefix containing `addr`, or None.
    fn lookup(&self, py: Python<'_>, addr: &Bound<'_, PyAny>) -> PyResult<Option<Py<PyAny>>> {
        Ok(self.inner.lookup(addr_of(addr)?).map(|v| v.clone_ref(py)))
    }

    /// `lookup` of many addresses at once.
    fn lookup_many(&self, py: Python<'_>, addrs: &Bound<'_, PyAny>) -> PyResult<Vec<Option<Py<PyAny>>>> {
        let mut out = Vec::new();
        for a in addrs.try_iter()? {
            out.push(self.inner.lookup(addr_of(&a?)?).map(|v| v.clone_ref(py)));
        }
        Ok(out)
    }
}

/// The native module: every export is listed here once; `__all__` is made from them.
#[pymodule]
mod _eks6 {
    #[pymodule_export]
    use super::{
        Carve, CarveChunks, PrefixAllocator, PrefixTable, aggregate, bracketed_url, canonical, carve, contains,
        error_kinds, error_of_kind, expanded, nth_subnet, reverse_name, subnet_count,
    };

    // The workflows: left out of a build without the `workflow` feature (no AWS SDK),
    // which `eks6.WORKFLOW` reports.
    #[cfg(feature = "workflow")]
    #[pymodule_export]
    use crate::workflow::{Cancel, NativeClient, NativePlan, probe, step_graph};

    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("WORKFLOW", cfg!(feature = "workflow"))?;
        // The public names, as exported above (the private ones start with `_`).
        let mut all: Vec<String> =
            m.dict().keys().iter().map(|k| k.to_string()).filter(|k| !k.starts_with('_')).collect();
        all.sort();
        m.add("__all__", all)
    }
}
