//! The C ABI of eks6 (`libeks6`): see `include/eks6.h`, generated from this file by
//! cbindgen (`ffi/cbindgen.toml`).
//!
//! Conventions (rustls-ffi is the model):
//! - Every fallible function returns an `eks6_status`; `EKS6_OK` is 0. The numbers come
//!   from the core's error-kind table and are never reused.
//! - Every body runs inside a panic boundary; every pointer is checked
//!   (`EKS6_NULL_ARGUMENT`); text in must be UTF-8 (`EKS6_INVALID_UTF8`).
//! - Text out goes into the caller's buffer `(buf, len, out_len)`: `*out_len` always gets
//!   the size needed including the terminating NUL; when `len` is too small nothing at
//!   all is written to `buf` and the status is `EKS6_BUFFER_TOO_SMALL`.
//! - The detailed message of the last error on the calling thread is available from
//!   `eks6_last_error_message`.
//! - Handles are created through out-parameters and freed with their `*_free` function,
//!   which accepts NULL. `eks6_client`, `eks6_plan` and `eks6_cancel` may be shared
//!   between threads; `eks6_allocator` and `eks6_table` may not.
//! - The workflow functions (feature `aws`, on by default) block the calling thread on
//!   the client's private runtime; see `workflow.rs`.

#![allow(non_camel_case_types, clippy::missing_safety_doc)]

use std::cell::RefCell;
use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use eks6_core::ErrorKind;
use eks6_core::net::{
    Ipv6Net, NetError, PrefixAllocator, PrefixTable, aggregate, bracketed_url, canonical, canonical_prefix, contains,
    expanded, nth_subnet, parse_addr_bytes, parse_prefix, reverse_name, subnet_count,
};

/// A status code. `EKS6_OK` is 0; the others are stable and never reused.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Success.
    OK = 0,
    /// Address text that does not parse.
    INVALID_ADDRESS = 1,
    /// Prefix text that does not parse, or host bits set.
    INVALID_PREFIX = 2,
    /// A prefix length wrong for the operation.
    INVALID_LENGTH = 3,
    /// An index or count out of range.
    OUT_OF_RANGE = 4,
    /// A prefix outside its parent, in use or not in use.
    PREFIX_CONFLICT = 5,
    /// No free prefix of the length asked.
    EXHAUSTED = 6,
    /// A URL that cannot be built.
    INVALID_URL = 7,
    /// A plan that does not parse.
    INVALID_PLAN = 10,
    /// A plan with error findings.
    PLAN_REJECTED = 11,
    /// A client region other than the plan's.
    REGION_MISMATCH = 12,
    /// AWS refused the input.
    AWS_INVALID_INPUT = 20,
    /// A resource that does not exist.
    AWS_NOT_FOUND = 21,
    /// In use, a dependency, or owned by someone else.
    AWS_CONFLICT = 22,
    /// Throttled past the retries.
    AWS_THROTTLED = 23,
    /// A service failure.
    AWS_SERVICE = 24,
    /// No answer from AWS.
    AWS_NETWORK = 25,
    /// No or bad credentials, or access denied.
    AWS_CREDENTIALS = 26,
    /// A wait or call past its limit.
    TIMEOUT = 30,
    /// Cancelled by the caller.
    CANCELLED = 31,
    /// Local I/O.
    IO = 32,
    /// Another run holds the journal lock.
    LOCKED = 33,
    /// The probe's connection was refused.
    PROBE_REFUSED = 40,
    /// The probe target is not IPv6.
    PROBE_TARGET = 41,
    /// The probe's connection failed otherwise (unreachable, reset, a malformed answer).
    PROBE_NETWORK = 42,
    /// A required pointer argument was NULL.
    NULL_ARGUMENT = 100,
    /// Text in was not UTF-8.
    INVALID_UTF8 = 101,
    /// The output buffer is too small; `*out_len` has the size needed.
    BUFFER_TOO_SMALL = 102,
    /// A bug: eks6 panicked. The message says where.
    PANIC = 103,
}

impl From<ErrorKind> for Status {
    fn from(k: ErrorKind) -> Self {
        match k {
            ErrorKind::InvalidAddress => Self::INVALID_ADDRESS,
            ErrorKind::InvalidPrefix => Self::INVALID_PREFIX,
            ErrorKind::InvalidLength => Self::INVALID_LENGTH,
            ErrorKind::OutOfRange => Self::OUT_OF_RANGE,
            ErrorKind::PrefixConflict => Self::PREFIX_CONFLICT,
            ErrorKind::Exhausted => Self::EXHAUSTED,
            ErrorKind::InvalidUrl => Self::INVALID_URL,
            ErrorKind::InvalidPlan => Self::INVALID_PLAN,
            ErrorKind::PlanRejected => Self::PLAN_REJECTED,
            ErrorKind::RegionMismatch => Self::REGION_MISMATCH,
            ErrorKind::AwsInvalidInput => Self::AWS_INVALID_INPUT,
            ErrorKind::AwsNotFound => Self::AWS_NOT_FOUND,
            ErrorKind::AwsConflict => Self::AWS_CONFLICT,
            ErrorKind::AwsThrottled => Self::AWS_THROTTLED,
            ErrorKind::AwsService => Self::AWS_SERVICE,
            ErrorKind::AwsNetwork => Self::AWS_NETWORK,
            ErrorKind::AwsCredentials => Self::AWS_CREDENTIALS,
            ErrorKind::Timeout => Self::TIMEOUT,
            ErrorKind::Cancelled => Self::CANCELLED,
            ErrorKind::Io => Self::IO,
            ErrorKind::Locked => Self::LOCKED,
            ErrorKind::ProbeRefused => Self::PROBE_REFUSED,
            ErrorKind::ProbeTarget => Self::PROBE_TARGET,
            ErrorKind::ProbeNetwork => Self::PROBE_NETWORK,
            // A kind added to the core without a status here is a bug caught by tests.
            _ => Self::PANIC,
        }
    }
}

/// Every status with its name, for `eks6_status_name` and the tests.
const NAMES: &[(u32, &CStr)] = &[
    (0, c"EKS6_OK"),
    (1, c"EKS6_INVALID_ADDRESS"),
    (2, c"EKS6_INVALID_PREFIX"),
    (3, c"EKS6_INVALID_LENGTH"),
    (4, c"EKS6_OUT_OF_RANGE"),
    (5, c"EKS6_PREFIX_CONFLICT"),
    (6, c"EKS6_EXHAUSTED"),
    (7, c"EKS6_INVALID_URL"),
    (10, c"EKS6_INVALID_PLAN"),
    (11, c"EKS6_PLAN_REJECTED"),
    (12, c"EKS6_REGION_MISMATCH"),
    (20, c"EKS6_AWS_INVALID_INPUT"),
    (21, c"EKS6_AWS_NOT_FOUND"),
    (22, c"EKS6_AWS_CONFLICT"),
    (23, c"EKS6_AWS_THROTTLED"),
    (24, c"EKS6_AWS_SERVICE"),
    (25, c"EKS6_AWS_NETWORK"),
    (26, c"EKS6_AWS_CREDENTIALS"),
    (30, c"EKS6_TIMEOUT"),
    (31, c"EKS6_CANCELLED"),
    (32, c"EKS6_IO"),
    (33, c"EKS6_LOCKED"),
    (40, c"EKS6_PROBE_REFUSED"),
    (41, c"EKS6_PROBE_TARGET"),
    (42, c"EKS6_PROBE_NETWORK"),
    (100, c"EKS6_NULL_ARGUMENT"),
    (101, c"EKS6_INVALID_UTF8"),
    (102, c"EKS6_BUFFER_TOO_SMALL"),
    (103, c"EKS6_PANIC"),
];

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_error(status: Status, message: String) -> Status {
    LAST_ERROR.with(|e| *e.borrow_mut() = message);
    status
}

fn net_error(e: NetError) -> Status {
    set_error(e.error_kind().into(), e.to_string())
}

/// Runs `f` inside the panic boundary.
fn guard(f: impl FnOnce() -> Status) -> Status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(s) => s,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_error(Status::PANIC, format!("eks6 panicked (a bug; please report it): {what}"))
        }
    }
}

macro_rules! try_status {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(s) => return s,
        }
    };
}

/// Reads a C string argument: NULL and non-UTF-8 are errors naming the argument.
unsafe fn text<'a>(p: *const c_char, name: &str) -> Result<&'a str, Status> {
    // SAFETY: per the caller's contract.
    utf8(unsafe { bytes(p, name) }?, name)
}

/// Reads a C string argument as bytes: NULL is an error naming the argument.
unsafe fn bytes<'a>(p: *const c_char, name: &str) -> Result<&'a [u8], Status> {
    if p.is_null() {
        return Err(set_error(Status::NULL_ARGUMENT, format!("argument {name} is NULL")));
    }
    // SAFETY: the caller passes a NUL-terminated string that outlives the call.
    Ok(unsafe { CStr::from_ptr(p) }.to_bytes())
}

fn utf8<'a>(b: &'a [u8], name: &str) -> Result<&'a str, Status> {
    std::str::from_utf8(b).map_err(|e| {
        set_error(Status::INVALID_UTF8, format!("argument {name} is not UTF-8 (byte {} is invalid)", e.valid_up_to()))
    })
}

/// Parses an address argument. The parser takes ASCII only, so UTF-8 is checked only
/// when parsing fails, to tell the two errors apart (the fast path of the C calls).
unsafe fn addr_arg(p: *const c_char, name: &str) -> Result<std::net::Ipv6Addr, Status> {
    // SAFETY: per the caller's contract.
    let b = unsafe { bytes(p, name) }?;
    parse_addr_bytes(b).map_err(|e| match utf8(b, name) {
        Ok(_) => net_error(e),
        Err(s) => s,
    })
}

fn non_null<T>(p: *const T, name: &str) -> Result<(), Status> {
    if p.is_null() { Err(set_error(Status::NULL_ARGUMENT, format!("argument {name} is NULL"))) } else { Ok(()) }
}

/// Copies `s` and a NUL into `buf` when it fits; always stores the size needed.
unsafe fn write_text(s: &str, buf: *mut c_char, len: usize, out_len: *mut usize) -> Status {
    // SAFETY: as for copy_text.
    if unsafe { copy_text(s, buf, len, out_len) } {
        return Status::OK;
    }
    let needed = s.len() + 1;
    set_error(
        Status::BUFFER_TOO_SMALL,
        format!("the buffer holds {len} bytes; {needed} are needed (the text and its NUL)"),
    )
}

/// [`write_text`] without touching the last error: false when `s` does not fit.
unsafe fn copy_text(s: &str, buf: *mut c_char, len: usize, out_len: *mut usize) -> bool {
    let needed = s.len() + 1;
    // SAFETY: out_len was checked non-NULL by the caller.
    unsafe { *out_len = needed };
    if buf.is_null() || len < needed {
        return false;
    }
    // SAFETY: buf has room for len >= needed bytes, per the caller's contract.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), s.len());
        *buf.add(s.len()) = 0;
    }
    true
}

/// Stores a new handle in `*out` (checked non-NULL by the caller).
unsafe fn put<T>(out: *mut *mut T, value: T) {
    // SAFETY: the caller checked out non-NULL.
    unsafe { *out = Box::into_raw(Box::new(value)) };
}

/// Frees a handle made by [`put`]; NULL is ignored, and so is a panic in its drop.
unsafe fn free<T>(p: *mut T) {
    if !p.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: from `put`, freed once.
            drop(unsafe { Box::from_raw(p) });
        }));
    }
}

/// The library version, a static NUL-terminated string; never free it.
#[unsafe(no_mangle)]
pub extern "C" fn eks6_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The name of a status (`"EKS6_OK"`, ...), a static string; `"EKS6_UNKNOWN_STATUS"`
/// for a number eks6 does not define. Never free it.
#[unsafe(no_mangle)]
pub extern "C" fn eks6_status_name(status: u32) -> *const c_char {
    NAMES.iter().find(|(n, _)| *n == status).map_or(c"EKS6_UNKNOWN_STATUS".as_ptr(), |(_, name)| name.as_ptr())
}

/// Copies the calling thread's last detailed error message (the text the Rust error
/// shows) into `buf`, by the text-out rules. An empty string when there was none. A
/// buffer too small gives `EKS6_BUFFER_TOO_SMALL` and keeps the message, so that a
/// second call with `*out_len` bytes gets it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_last_error_message(buf: *mut c_char, len: usize, out_len: *mut usize) -> Status {
    guard(|| {
        try_status!(non_null(out_len, "out_len"));
        let msg = LAST_ERROR.with(|e| e.borrow().clone());
        // SAFETY: out_len checked; buf per the contract.
        if unsafe { copy_text(&msg, buf, len, out_len) } { Status::OK } else { Status::BUFFER_TOO_SMALL }
    })
}

fn addr_op<S: AsRef<str>>(
    addr: *const c_char,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
    f: impl FnOnce(std::net::Ipv6Addr) -> S,
) -> Status {
    guard(|| {
        try_status!(non_null(out_len, "out_len"));
        // SAFETY: per the contract, addr is NULL or a NUL-terminated string.
        let a = try_status!(unsafe { addr_arg(addr, "addr") });
        // SAFETY: out_len checked; buf per the contract.
        unsafe { write_text(f(a).as_ref(), buf, len, out_len) }
    })
}

/// RFC 5952 canonical text of an address (IPv4-mapped addresses dotted).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_canonical(
    addr: *const c_char,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Status {
    addr_op(addr, buf, len, out_len, canonical)
}

/// The expanded form of an address: eight groups of four hex digits.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_expanded(
    addr: *const c_char,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Status {
    addr_op(addr, buf, len, out_len, expanded)
}

/// The `ip6.arpa.` reverse name of an address (with the trailing dot).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_reverse_name(
    addr: *const c_char,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Status {
    addr_op(addr, buf, len, out_len, reverse_name)
}

fn prefix_arg(p: *const c_char, name: &str) -> Result<Ipv6Net, Status> {
    // SAFETY: per the contract, p is NULL or a NUL-terminated string.
    let t = unsafe { text(p, name) }?;
    parse_prefix(t).map_err(net_error)
}

/// The number of `/new_len` subnets of `prefix`; `EKS6_OUT_OF_RANGE` past 2^64-1.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_subnet_count(prefix: *const c_char, new_len: u8, out_count: *mut u64) -> Status {
    guard(|| {
        try_status!(non_null(out_count, "out_count"));
        let p = try_status!(prefix_arg(prefix, "prefix"));
        let n = try_status!(subnet_count(p, new_len).map_err(net_error));
        let Ok(n) = u64::try_from(n) else {
            return set_error(
                Status::OUT_OF_RANGE,
                format!("{p} holds 2^{} /{new_len} subnets, more than a uint64_t holds", new_len - p.prefix_len()),
            );
        };
        // SAFETY: checked non-NULL.
        unsafe { *out_count = n };
        Status::OK
    })
}

/// The `n`-th (from 0) `/new_len` subnet of `prefix`, as text.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_nth_subnet(
    prefix: *const c_char,
    new_len: u8,
    n: u64,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Status {
    guard(|| {
        try_status!(non_null(out_len, "out_len"));
        let p = try_status!(prefix_arg(prefix, "prefix"));
        let s = try_status!(nth_subnet(p, new_len, n.into()).map_err(net_error));
        // SAFETY: out_len checked; buf per the contract.
        unsafe { write_text(&canonical_prefix(s), buf, len, out_len) }
    })
}

/// Whether `prefix` contains `addr`, into `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_contains(prefix: *const c_char, addr: *const c_char, out: *mut bool) -> Status {
    guard(|| {
        try_status!(non_null(out, "out"));
        let p = try_status!(prefix_arg(prefix, "prefix"));
        // SAFETY: per the contract.
        let a = try_status!(unsafe { addr_arg(addr, "addr") });
        // SAFETY: checked non-NULL.
        unsafe { *out = contains(p, a) };
        Status::OK
    })
}

/// `scheme://host[:port]path` with an IPv6 host in brackets (RFC 3986) and a zone as
/// `%25` (RFC 6874). `port` -1 means none; `scheme` and `path` may be NULL for `http`
/// and `/`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_bracketed_url(
    scheme: *const c_char,
    host: *const c_char,
    port: i32,
    path: *const c_char,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Status {
    guard(|| {
        try_status!(non_null(out_len, "out_len"));
        // SAFETY: per the contract.
        let scheme = if scheme.is_null() { "http" } else { try_status!(unsafe { text(scheme, "scheme") }) };
        // SAFETY: per the contract.
        let host = try_status!(unsafe { text(host, "host") });
        // SAFETY: per the contract.
        let path = if path.is_null() { "/" } else { try_status!(unsafe { text(path, "path") }) };
        let port = match port {
            -1 => None,
            p if p < 0 => {
                return set_error(Status::INVALID_URL, format!("port {p} is not in 1..=65535 (or -1 for none)"));
            }
            p => Some(p as u32),
        };
        let url = try_status!(bracketed_url(scheme, host, port, path).map_err(net_error));
        // SAFETY: out_len checked; buf per the contract.
        unsafe { write_text(&url, buf, len, out_len) }
    })
}

/// Collapses `count` prefixes into the fewest that cover the same addresses; the result
/// is their text joined by newlines.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_aggregate(
    prefixes: *const *const c_char,
    count: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Status {
    guard(|| {
        try_status!(non_null(out_len, "out_len"));
        if count > 0 {
            try_status!(non_null(prefixes, "prefixes"));
        }
        let mut nets = Vec::with_capacity(count);
        for i in 0..count {
            // SAFETY: prefixes has count elements, per the contract.
            let p = unsafe { *prefixes.add(i) };
            nets.push(try_status!(prefix_arg(p, &format!("prefixes[{i}]"))));
        }
        let text = aggregate(&nets).iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        // SAFETY: out_len checked; buf per the contract.
        unsafe { write_text(&text, buf, len, out_len) }
    })
}

/// A prefix allocator (lowest free aligned prefix inside a parent). Not for sharing
/// between threads. Free with `eks6_allocator_free`.
#[derive(Debug)]
pub struct eks6_allocator {
    inner: PrefixAllocator,
}

/// Creates an allocator over `parent` with `used_count` prefixes in use. On success
/// `*out` owns a new allocator: free it with `eks6_allocator_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_allocator_new(
    parent: *const c_char,
    used: *const *const c_char,
    used_count: usize,
    out: *mut *mut eks6_allocator,
) -> Status {
    guard(|| {
        try_status!(non_null(out, "out"));
        let p = try_status!(prefix_arg(parent, "parent"));
        if used_count > 0 {
            try_status!(non_null(used, "used"));
        }
        let mut nets = Vec::with_capacity(used_count);
        for i in 0..used_count {
            // SAFETY: used has used_count elements, per the contract.
            let u = unsafe { *used.add(i) };
            nets.push(try_status!(prefix_arg(u, &format!("used[{i}]"))));
        }
        let inner = try_status!(PrefixAllocator::new(p, &nets).map_err(net_error));
        // SAFETY: checked non-NULL.
        unsafe { put(out, eks6_allocator { inner }) };
        Status::OK
    })
}

/// Takes the lowest free aligned `/len` prefix; its text goes into `buf`. When `buf` is
/// too small, nothing is taken.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_allocator_allocate(
    alloc: *mut eks6_allocator,
    len: u8,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> Status {
    guard(|| {
        try_status!(non_null(alloc, "alloc"));
        try_status!(non_null(out_len, "out_len"));
        // SAFETY: a live allocator from eks6_allocator_new, used by one thread.
        let a = unsafe { &mut *alloc };
        // Allocate on a copy: the buffer may turn out too small.
        let mut trial = a.inner.clone();
        let p = try_status!(trial.allocate(len).map_err(net_error));
        // SAFETY: out_len checked; buf per the contract.
        let s = unsafe { write_text(&p.to_string(), buf, buf_len, out_len) };
        if s == Status::OK {
            a.inner = trial;
        }
        s
    })
}

/// Frees `prefix` again (it must be wholly in use).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_allocator_release(alloc: *mut eks6_allocator, prefix: *const c_char) -> Status {
    guard(|| {
        try_status!(non_null(alloc, "alloc"));
        let p = try_status!(prefix_arg(prefix, "prefix"));
        // SAFETY: a live allocator, used by one thread.
        let a = unsafe { &mut *alloc };
        try_status!(a.inner.release(p).map_err(net_error));
        Status::OK
    })
}

/// Frees an allocator; NULL is accepted and ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_allocator_free(alloc: *mut eks6_allocator) {
    // SAFETY: from eks6_allocator_new, freed once.
    unsafe { free(alloc) }
}

/// A longest-prefix-match table from prefixes to `uint64_t` values. Not for sharing
/// between threads. Free with `eks6_table_free`.
#[derive(Debug, Default)]
pub struct eks6_table {
    inner: PrefixTable<u64>,
}

/// Creates an empty table; `*out` owns it: free it with `eks6_table_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_table_new(out: *mut *mut eks6_table) -> Status {
    guard(|| {
        try_status!(non_null(out, "out"));
        // SAFETY: checked non-NULL.
        unsafe { put(out, eks6_table::default()) };
        Status::OK
    })
}

/// Inserts (or replaces) `prefix` with `value`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_table_insert(table: *mut eks6_table, prefix: *const c_char, value: u64) -> Status {
    guard(|| {
        try_status!(non_null(table, "table"));
        let p = try_status!(prefix_arg(prefix, "prefix"));
        // SAFETY: a live table, used by one thread.
        unsafe { &mut *table }.inner.insert(p, value);
        Status::OK
    })
}

/// Looks `addr` up: `*found` says whether a prefix contains it, `*value` gets the value of
/// the most specific one (untouched when not found).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_table_lookup(
    table: *const eks6_table,
    addr: *const c_char,
    found: *mut bool,
    value: *mut u64,
) -> Status {
    guard(|| {
        try_status!(non_null(table, "table"));
        try_status!(non_null(found, "found"));
        try_status!(non_null(value, "value"));
        // SAFETY: per the contract.
        let a = try_status!(unsafe { addr_arg(addr, "addr") });
        // SAFETY: a live table.
        let hit = unsafe { &*table }.inner.lookup(a).copied();
        // SAFETY: checked non-NULL.
        unsafe {
            *found = hit.is_some();
            if let Some(v) = hit {
                *value = v;
            }
        }
        Status::OK
    })
}

/// Frees a table; NULL is accepted and ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_table_free(table: *mut eks6_table) {
    // SAFETY: from eks6_table_new, freed once.
    unsafe { free(table) }
}

#[cfg(feature = "aws")]
mod workflow;
#[cfg(feature = "aws")]
pub use workflow::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_status_and_every_status_a_name() {
        use ErrorKind as K;
        for k in [
            K::InvalidAddress,
            K::InvalidPrefix,
            K::InvalidLength,
            K::OutOfRange,
            K::PrefixConflict,
            K::Exhausted,
            K::InvalidUrl,
            K::InvalidPlan,
            K::PlanRejected,
            K::RegionMismatch,
            K::AwsInvalidInput,
            K::AwsNotFound,
            K::AwsConflict,
            K::AwsThrottled,
            K::AwsService,
            K::AwsNetwork,
            K::AwsCredentials,
            K::Timeout,
            K::Cancelled,
            K::Io,
            K::Locked,
            K::ProbeRefused,
            K::ProbeTarget,
            K::ProbeNetwork,
        ] {
            let s = Status::from(k);
            assert_eq!(s as u32, k.code(), "{k:?}");
            assert!(NAMES.iter().any(|(n, _)| *n == s as u32));
        }
    }
}
