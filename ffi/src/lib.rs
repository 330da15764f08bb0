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
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use eks6_core::net::{
    Ipv6Net, PrefixAllocator, PrefixTable, aggregate, bracketed_url, canonical, canonical_prefix, contains, expanded,
    nth_subnet, parse_addr_bytes, parse_prefix, port_number, reverse_name, subnet_count,
};
use eks6_core::{ErrorDetails, ErrorKind};

/// A status code. `EKS6_OK` is 0; the others are stable and never reused. The numbers
/// below 100 are the core's error kinds (`eks6::error::TABLE`, checked by a test); from
/// 100 up, the C ABI's own.
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
    /// An argument out of its domain (a time-out, a region, an endpoint URL).
    INVALID_ARGUMENT = 8,
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
    /// An account quota reached (a limit that can be raised).
    AWS_QUOTA = 27,
    /// A wait or call past its limit.
    TIMEOUT = 30,
    /// Cancelled by the caller.
    CANCELLED = 31,
    /// Local I/O.
    IO = 32,
    /// Another run holds the plan's lock.
    LOCKED = 33,
    /// The probe's connection was refused.
    PROBE_REFUSED = 40,
    /// The probe target is not IPv6.
    PROBE_TARGET = 41,
    /// The probe's connection failed otherwise (unreachable, reset, a malformed answer).
    PROBE_NETWORK = 42,
    /// The Kubernetes API refused the credentials (401: no access entry, a bad token).
    KUBE_UNAUTHORIZED = 50,
    /// The Kubernetes API answered with an error (status and reason in the message).
    KUBE_API = 51,
    /// The Kubernetes API could not be reached.
    KUBE_NETWORK = 52,
    /// A bug in eks6, or a local failure it cannot classify.
    INTERNAL = 90,
    /// A required pointer argument was NULL.
    NULL_ARGUMENT = 100,
    /// Text in was not UTF-8.
    INVALID_UTF8 = 101,
    /// The output buffer is too small; `*out_len` has the size needed.
    BUFFER_TOO_SMALL = 102,
    /// A bug: eks6 panicked. The message says where.
    PANIC = 103,
}

impl Status {
    /// Every status: the C enum's own list, checked against the core's table by a test.
    const ALL: &[Status] = &[
        Self::OK,
        Self::INVALID_ADDRESS,
        Self::INVALID_PREFIX,
        Self::INVALID_LENGTH,
        Self::OUT_OF_RANGE,
        Self::PREFIX_CONFLICT,
        Self::EXHAUSTED,
        Self::INVALID_URL,
        Self::INVALID_ARGUMENT,
        Self::INVALID_PLAN,
        Self::PLAN_REJECTED,
        Self::REGION_MISMATCH,
        Self::AWS_INVALID_INPUT,
        Self::AWS_NOT_FOUND,
        Self::AWS_CONFLICT,
        Self::AWS_THROTTLED,
        Self::AWS_SERVICE,
        Self::AWS_NETWORK,
        Self::AWS_CREDENTIALS,
        Self::AWS_QUOTA,
        Self::TIMEOUT,
        Self::CANCELLED,
        Self::IO,
        Self::LOCKED,
        Self::PROBE_REFUSED,
        Self::PROBE_TARGET,
        Self::PROBE_NETWORK,
        Self::KUBE_UNAUTHORIZED,
        Self::KUBE_API,
        Self::KUBE_NETWORK,
        Self::INTERNAL,
        Self::NULL_ARGUMENT,
        Self::INVALID_UTF8,
        Self::BUFFER_TOO_SMALL,
        Self::PANIC,
    ];

    fn from_code(code: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| *s as u32 == code)
    }

    /// The C name, `EKS6_` and the variant (`EKS6_INVALID_ADDRESS`), NUL-terminated.
    fn c_name(self) -> &'static CStr {
        static NAMES: OnceLock<Vec<(Status, CString)>> = OnceLock::new();
        let names = NAMES.get_or_init(|| {
            Status::ALL
                .iter()
                .map(|s| (*s, CString::new(format!("EKS6_{s:?}")).expect("no NUL in a variant name")))
                .collect()
        });
        names.iter().find(|(s, _)| *s == self).map_or(c"EKS6_UNKNOWN_STATUS", |(_, n)| n.as_c_str())
    }
}

/// A kind's status is the one of the same number (a test checks that every kind has one,
/// with the C name the core's table gives).
impl From<ErrorKind> for Status {
    fn from(k: ErrorKind) -> Self {
        Self::from_code(k.code()).unwrap_or(Self::PANIC)
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_error(status: Status, message: String) -> Status {
    LAST_ERROR.with(|e| *e.borrow_mut() = message);
    status
}

/// The status of an eks6 error, its message kept as the last error.
fn error(e: &impl ErrorDetails) -> Status {
    set_error(e.kind().into(), e.to_string())
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

fn null_argument(name: &str) -> Status {
    set_error(Status::NULL_ARGUMENT, format!("argument {name} is NULL"))
}

/// `&T` from a pointer argument (a handle, or an input), or return `EKS6_NULL_ARGUMENT`
/// naming it. The one place the C contract "a live handle of eks6, or NULL" is relied on.
macro_rules! arg_ref {
    ($p:ident) => {{
        let p = $p;
        if p.is_null() {
            return null_argument(stringify!($p));
        }
        // SAFETY: the C contract: a non-NULL pointer argument points to a live, aligned
        // value of its type (a handle eks6 made and has not freed) for the call's length.
        unsafe { &*p }
    }};
}

/// `&mut T` from a pointer argument (an out-parameter, or a handle not shared between
/// threads), or return `EKS6_NULL_ARGUMENT` naming it.
macro_rules! arg_mut {
    ($p:ident) => {{
        let p = $p;
        if p.is_null() {
            return null_argument(stringify!($p));
        }
        // SAFETY: the C contract: a non-NULL out-parameter or unshared handle points to a
        // live, aligned, writable value of its type that nothing else uses during the call.
        unsafe { &mut *p }
    }};
}

/// `&str` from a C string argument: NULL and non-UTF-8 return their status, naming it.
macro_rules! arg_str {
    ($p:ident) => {
        try_status!(utf8(arg_bytes!($p), stringify!($p)))
    };
}

/// `Option<&str>` from a C string argument that may be NULL.
macro_rules! arg_opt_str {
    ($p:ident) => {
        if $p.is_null() { None } else { Some(arg_str!($p)) }
    };
}

/// The bytes of a C string argument (NULL returns `EKS6_NULL_ARGUMENT`).
macro_rules! arg_bytes {
    ($p:ident) => {{
        let p = $p;
        if p.is_null() {
            return null_argument(stringify!($p));
        }
        // SAFETY: the C contract: a non-NULL string argument is NUL-terminated and lives
        // for the call.
        unsafe { ::std::ffi::CStr::from_ptr(p) }.to_bytes()
    }};
}

/// Text out by the rules in the header: `*out_len` gets the size needed; the text and a
/// NUL go into `buf` when `len` is enough, else nothing does and the status says so.
macro_rules! text_out {
    ($s:expr, $buf:ident, $len:ident, $out_len:ident) => {{
        let out_len = arg_mut!($out_len);
        // (A match keeps the text's temporaries alive for the call.)
        match ($s, $buf, $len) {
            // SAFETY: the C contract: buf is NULL or has room for len bytes.
            (text, buf, len) => unsafe { write_text(text, buf, len, out_len) },
        }
    }};
}

fn utf8<'a>(b: &'a [u8], name: &str) -> Result<&'a str, Status> {
    std::str::from_utf8(b).map_err(|e| {
        set_error(Status::INVALID_UTF8, format!("argument {name} is not UTF-8 (byte {} is invalid)", e.valid_up_to()))
    })
}

/// Parses an address. The parser takes ASCII only, so UTF-8 is checked only when parsing
/// fails, to tell the two errors apart (the fast path of the C calls).
fn parse_addr_arg(b: &[u8], name: &str) -> Result<std::net::Ipv6Addr, Status> {
    parse_addr_bytes(b).map_err(|e| match utf8(b, name) {
        Ok(_) => error(&e),
        Err(s) => s,
    })
}

fn parse_prefix_arg(t: &str) -> Result<Ipv6Net, Status> {
    parse_prefix(t).map_err(|e| error(&e))
}

/// Copies `s` and a NUL into `buf` when it fits; always stores the size needed.
///
/// # Safety
/// `buf` is NULL or has room for `len` bytes.
unsafe fn write_text(s: &str, buf: *mut c_char, len: usize, out_len: &mut usize) -> Status {
    // SAFETY: per this function's contract.
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
///
/// # Safety
/// `buf` is NULL or has room for `len` bytes.
unsafe fn copy_text(s: &str, buf: *mut c_char, len: usize, out_len: &mut usize) -> bool {
    let needed = s.len() + 1;
    *out_len = needed;
    if buf.is_null() || len < needed {
        return false;
    }
    // SAFETY: buf has room for len >= needed bytes, per this function's contract.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), s.len());
        *buf.add(s.len()) = 0;
    }
    true
}

/// A new handle into an out-parameter.
fn put<T>(out: &mut *mut T, value: T) {
    *out = Box::into_raw(Box::new(value));
}

/// Frees a handle made by [`put`]; NULL is ignored, and so is a panic in its drop.
///
/// # Safety
/// `p` is NULL or a handle from [`put`] not freed before.
unsafe fn free<T>(p: *mut T) {
    if !p.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: from `put`, freed once, per this function's contract.
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
    Status::from_code(status).map_or(c"EKS6_UNKNOWN_STATUS", Status::c_name).as_ptr()
}

/// Copies the calling thread's last error message into `buf`, by the text-out rules (an
/// empty string when there was none). The message is that of the last call on this
/// thread that failed; a call that succeeds leaves it as it was (errno-style), so read
/// it right after the failing call. A buffer too small gives `EKS6_BUFFER_TOO_SMALL` and
/// keeps the message, so that a second call with `*out_len` bytes gets it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_last_error_message(buf: *mut c_char, len: usize, out_len: *mut usize) -> Status {
    guard(|| {
        let out_len = arg_mut!(out_len);
        let msg = LAST_ERROR.with(|e| e.borrow().clone());
        // SAFETY: the C contract: buf is NULL or has room for len bytes.
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
        let a = try_status!(parse_addr_arg(arg_bytes!(addr), "addr"));
        text_out!(f(a).as_ref(), buf, len, out_len)
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

/// The number of `/new_len` subnets of `prefix`; `EKS6_OUT_OF_RANGE` past 2^64-1.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_subnet_count(prefix: *const c_char, new_len: u8, out_count: *mut u64) -> Status {
    guard(|| {
        let p = try_status!(parse_prefix_arg(arg_str!(prefix)));
        let out_count = arg_mut!(out_count);
        let n = try_status!(subnet_count(p, new_len).map_err(|e| error(&e)));
        let Ok(n) = u64::try_from(n) else {
            return set_error(
                Status::OUT_OF_RANGE,
                format!("{p} holds 2^{} /{new_len} subnets, more than a uint64_t holds", new_len - p.prefix_len()),
            );
        };
        *out_count = n;
        Status::OK
    })
}

/// The `n`-th (from 0) `/new_len` subnet of `prefix`, as text (`eks6_nth_subnet_128`
/// reaches past 2^64).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_nth_subnet(
    prefix: *const c_char,
    new_len: u8,
    n: u64,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Status {
    // SAFETY: the caller's arguments, passed on as they came.
    unsafe { eks6_nth_subnet_128(prefix, new_len, 0, n, buf, len, out_len) }
}

/// The `n`-th (from 0) `/new_len` subnet of `prefix` for any of the up to 2^128
/// subnets: `n` is `(n_hi << 64) | n_lo`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_nth_subnet_128(
    prefix: *const c_char,
    new_len: u8,
    n_hi: u64,
    n_lo: u64,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Status {
    guard(|| {
        let p = try_status!(parse_prefix_arg(arg_str!(prefix)));
        let n = (u128::from(n_hi) << 64) | u128::from(n_lo);
        let s = try_status!(nth_subnet(p, new_len, n).map_err(|e| error(&e)));
        text_out!(&canonical_prefix(s), buf, len, out_len)
    })
}

/// Whether `prefix` contains `addr`, into `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_contains(prefix: *const c_char, addr: *const c_char, out: *mut bool) -> Status {
    guard(|| {
        let p = try_status!(parse_prefix_arg(arg_str!(prefix)));
        let a = try_status!(parse_addr_arg(arg_bytes!(addr), "addr"));
        *arg_mut!(out) = contains(p, a);
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
        let scheme = arg_opt_str!(scheme).unwrap_or("http");
        let host = arg_str!(host);
        let path = arg_opt_str!(path).unwrap_or("/");
        let port = match port {
            -1 => None,
            p => Some(u32::from(try_status!(port_number(p.into()).map_err(|e| error(&e))))),
        };
        let url = try_status!(bracketed_url(scheme, host, port, path).map_err(|e| error(&e)));
        text_out!(&url, buf, len, out_len)
    })
}

/// Reads `count` prefix strings from a C array (NULL only when `count` is 0).
fn prefix_array(prefixes: *const *const c_char, count: usize, name: &str) -> Result<Vec<Ipv6Net>, Status> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if prefixes.is_null() {
        return Err(null_argument(name));
    }
    // SAFETY: the C contract: a non-NULL array of `count` string pointers.
    let items = unsafe { std::slice::from_raw_parts(prefixes, count) };
    items
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let item = format!("{name}[{i}]");
            if p.is_null() {
                return Err(null_argument(&item));
            }
            // SAFETY: the C contract: each element is a NUL-terminated string.
            let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
            parse_prefix_arg(utf8(bytes, &item)?)
        })
        .collect()
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
        let nets = try_status!(prefix_array(prefixes, count, "prefixes"));
        let text = aggregate(&nets).iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        text_out!(&text, buf, len, out_len)
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
        let out = arg_mut!(out);
        let p = try_status!(parse_prefix_arg(arg_str!(parent)));
        let nets = try_status!(prefix_array(used, used_count, "used"));
        let inner = try_status!(PrefixAllocator::new(p, &nets).map_err(|e| error(&e)));
        put(out, eks6_allocator { inner });
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
        let a = arg_mut!(alloc);
        // Allocate on a copy: the buffer may turn out too small.
        let mut trial = a.inner.clone();
        let p = try_status!(trial.allocate(len).map_err(|e| error(&e)));
        let s = text_out!(&p.to_string(), buf, buf_len, out_len);
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
        let a = arg_mut!(alloc);
        let p = try_status!(parse_prefix_arg(arg_str!(prefix)));
        try_status!(a.inner.release(p).map_err(|e| error(&e)));
        Status::OK
    })
}

/// Frees an allocator; NULL is accepted and ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_allocator_free(alloc: *mut eks6_allocator) {
    // SAFETY: the C contract: NULL or an allocator from eks6_allocator_new, freed once.
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
        put(arg_mut!(out), eks6_table::default());
        Status::OK
    })
}

/// Inserts (or replaces) `prefix` with `value`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_table_insert(table: *mut eks6_table, prefix: *const c_char, value: u64) -> Status {
    guard(|| {
        let t = arg_mut!(table);
        let p = try_status!(parse_prefix_arg(arg_str!(prefix)));
        t.inner.insert(p, value);
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
        let t = arg_ref!(table);
        let (found, value) = (arg_mut!(found), arg_mut!(value));
        let a = try_status!(parse_addr_arg(arg_bytes!(addr), "addr"));
        let hit = t.inner.lookup(a).copied();
        *found = hit.is_some();
        if let Some(v) = hit {
            *value = v;
        }
        Status::OK
    })
}

/// Frees a table; NULL is accepted and ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_table_free(table: *mut eks6_table) {
    // SAFETY: the C contract: NULL or a table from eks6_table_new, freed once.
    unsafe { free(table) }
}

#[cfg(feature = "aws")]
mod workflow;
#[cfg(feature = "aws")]
pub use workflow::*;

#[cfg(test)]
mod tests {
    use super::*;
    use eks6_core::error::TABLE;

    /// Every kind of the core's table has the status of its number, named as the table
    /// names it; every status below 100 is a kind; no two statuses share a number.
    #[test]
    fn statuses_match_the_core_table() {
        for row in TABLE {
            let s = Status::from(row.kind);
            assert_eq!(s as u32, row.kind.code(), "{:?} has no status of its number", row.kind);
            assert_eq!(s.c_name().to_str().unwrap(), row.c_name, "{:?}", row.kind);
        }
        for s in Status::ALL {
            let n = *s as u32;
            assert_eq!(Status::ALL.iter().filter(|t| **t as u32 == n).count(), 1, "{s:?}");
            if n != 0 && n < 100 {
                assert!(ErrorKind::from_code(n).is_some(), "{s:?} is no kind of the core's table");
            }
            // SAFETY: a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(eks6_status_name(n)) };
            assert_eq!(name, s.c_name());
        }
        // SAFETY: a static NUL-terminated string.
        assert_eq!(unsafe { CStr::from_ptr(eks6_status_name(9999)) }, c"EKS6_UNKNOWN_STATUS");
    }
}
