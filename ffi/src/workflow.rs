//! The workflow functions (the `aws` feature): plans, a client, `up`, `verify`, `down`.
//!
//! Each workflow call blocks the calling thread on the client's private tokio runtime.
//! Progress events reach the optional callback as JSON text (the core's `Event` schema),
//! always on the calling thread: the workflow sends them through a channel that the
//! calling thread drains while it waits. Reports come back as an `eks6_report` handle
//! whose JSON is read by the text-out rules.

use std::ffi::{CString, c_char, c_void};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use eks6_core::aws::{Aws, AwsOptions};
use eks6_core::plan::ClusterPlan;
use eks6_core::workflow::{
    self, Cancel, DownTarget, Event, EventSink, RunOptions, VerifyOptions, VerifyTarget, WaitPolicy, WorkflowError,
    with_limit,
};

use crate::{Status, free, guard, non_null, put, set_error, text, write_text};

/// A parsed cluster plan. Free with `eks6_plan_free`. Immutable: may be shared between
/// threads.
#[derive(Debug)]
pub struct eks6_plan {
    inner: ClusterPlan,
}

/// A client: the AWS configuration (region, credentials, endpoint) loaded once and a
/// private runtime. May be shared between threads (each call blocks its own thread).
/// Free with `eks6_client_free`, after every call on it has returned.
#[derive(Debug)]
pub struct eks6_client {
    rt: tokio::runtime::Runtime,
    aws: Aws,
    wait: Mutex<WaitPolicy>,
}

/// A cancellation handle: trigger it from any thread and the workflow given it stops at
/// its next step boundary or wait with `EKS6_CANCELLED`, its journal intact. Free with
/// `eks6_cancel_free` after the calls using it have returned.
#[derive(Debug, Default)]
pub struct eks6_cancel {
    inner: Cancel,
}

/// The report of a workflow: JSON text in the core's schema (`RunReport` for up and
/// down, `VerifyReport` for verify). Free with `eks6_report_free`.
#[derive(Debug)]
pub struct eks6_report {
    json: String,
    passed: bool,
}

/// A progress callback: `event_json` is one event as JSON, valid only during the call.
/// It runs on the thread that called the workflow function and must not call back into
/// the same client.
pub type eks6_event_callback = Option<unsafe extern "C" fn(event_json: *const c_char, user_data: *mut c_void)>;

fn workflow_error(e: WorkflowError) -> Status {
    set_error(e.kind().into(), e.to_string())
}

fn plan_from(r: Result<ClusterPlan, eks6_core::plan::PlanError>, out: *mut *mut eks6_plan) -> Status {
    let inner = try_status!(r.map_err(|e| set_error(e.kind().into(), e.to_string())));
    // SAFETY: the callers checked out non-NULL.
    unsafe { put(out, eks6_plan { inner }) };
    Status::OK
}

/// Parses a plan from TOML text. A plan that does not parse gives `EKS6_INVALID_PLAN`
/// with the line and key in the message. On success `*out` owns a new plan.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_plan_from_toml(toml: *const c_char, out: *mut *mut eks6_plan) -> Status {
    guard(|| {
        try_status!(non_null(out, "out"));
        // SAFETY: per the contract.
        let t = try_status!(unsafe { text(toml, "toml") });
        plan_from(ClusterPlan::from_toml(t), out)
    })
}

/// Reads a plan from a file (TOML, or JSON by the `.json` extension).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_plan_from_file(path: *const c_char, out: *mut *mut eks6_plan) -> Status {
    guard(|| {
        try_status!(non_null(out, "out"));
        // SAFETY: per the contract.
        let p = try_status!(unsafe { text(path, "path") });
        plan_from(ClusterPlan::from_file(p), out)
    })
}

/// The plan's offline pre-flight findings as JSON (`{"schema_version", "plan",
/// "findings": [{"rule", "severity", "message", ...}]}`), by the text-out rules.
/// `*out_has_errors` (when not NULL) says whether any finding is an error; the status is
/// `EKS6_OK` either way.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_plan_validate(
    plan: *const eks6_plan,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
    out_has_errors: *mut bool,
) -> Status {
    guard(|| {
        try_status!(non_null(plan, "plan"));
        try_status!(non_null(out_len, "out_len"));
        // SAFETY: a live plan.
        let v = unsafe { &*plan }.inner.validate();
        if !out_has_errors.is_null() {
            // SAFETY: checked non-NULL.
            unsafe { *out_has_errors = v.has_errors() };
        }
        let json = serde_json::to_string(&v).expect("findings serialize");
        // SAFETY: out_len checked; buf per the contract.
        unsafe { write_text(&json, buf, len, out_len) }
    })
}

/// Frees a plan; NULL is accepted and ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_plan_free(plan: *mut eks6_plan) {
    // SAFETY: from eks6_plan_from_*, freed once.
    unsafe { free(plan) }
}

static LOG: Once = Once::new();

/// Logs to stderr at the verbosity `EKS6_LOG` gives (`info`, `eks6=debug`, ...), when
/// it is set, never below `eks6::error::LOG_SILENCED`; the library is silent otherwise.
fn init_logging() {
    LOG.call_once(|| {
        if let Ok(mut filter) = tracing_subscriber::EnvFilter::try_from_env("EKS6_LOG") {
            for d in eks6_core::error::LOG_SILENCED {
                filter = filter.add_directive(d.parse().expect("a valid directive"));
            }
            let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
        }
    });
}

/// Creates a client. `region`, `profile` and `endpoint_url` may each be NULL: the
/// region then comes from `AWS_REGION` or the profile, credentials from the usual
/// chain, the endpoint from AWS. Nothing is called yet except what loading the
/// configuration needs. On success `*out` owns a new client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_client_new(
    region: *const c_char,
    profile: *const c_char,
    endpoint_url: *const c_char,
    out: *mut *mut eks6_client,
) -> Status {
    guard(|| {
        try_status!(non_null(out, "out"));
        init_logging();
        let opt = |p: *const c_char, name: &str| -> Result<Option<String>, Status> {
            // SAFETY: per the contract, NULL or a NUL-terminated string.
            if p.is_null() { Ok(None) } else { unsafe { text(p, name) }.map(|s| Some(s.to_string())) }
        };
        let opts = AwsOptions {
            region: try_status!(opt(region, "region")),
            profile: try_status!(opt(profile, "profile")),
            endpoint_url: try_status!(opt(endpoint_url, "endpoint_url")),
            ..Default::default()
        };
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("eks6-runtime")
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => return set_error(Status::IO, format!("cannot start the eks6 runtime: {e}")),
        };
        let aws = try_status!(rt.block_on(Aws::connect(&opts)).map_err(|e| set_error(e.kind().into(), e.to_string())));
        // SAFETY: checked non-NULL.
        unsafe { put(out, eks6_client { rt, aws, wait: Mutex::new(WaitPolicy::default()) }) };
        Status::OK
    })
}

/// Sets how the client's workflows wait for resources: the first poll delay, doubling up
/// to `max_delay_ms`, giving up on one resource after `deadline_secs`. The default is
/// 5 s doubling to 30 s, for 30 minutes (EKS clusters take 10 to 15 minutes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_client_set_wait(
    client: *const eks6_client,
    first_delay_ms: u32,
    max_delay_ms: u32,
    deadline_secs: u32,
) -> Status {
    guard(|| {
        try_status!(non_null(client, "client"));
        if first_delay_ms == 0 || max_delay_ms < first_delay_ms || deadline_secs == 0 {
            return set_error(
                Status::OUT_OF_RANGE,
                format!(
                    "wait policy {first_delay_ms} ms doubling to {max_delay_ms} ms for {deadline_secs} s: the delays must be positive, the first no longer than the longest, and the deadline positive"
                ),
            );
        }
        let policy = WaitPolicy {
            first_delay: Duration::from_millis(first_delay_ms.into()),
            max_delay: Duration::from_millis(max_delay_ms.into()),
            deadline: Duration::from_secs(deadline_secs.into()),
        };
        // SAFETY: a live client.
        *unsafe { &*client }.wait.lock().unwrap_or_else(|p| p.into_inner()) = policy;
        Status::OK
    })
}

/// The number of AWS API calls (HTTP attempts) this client has made so far.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_client_api_calls(client: *const eks6_client, out_calls: *mut u64) -> Status {
    guard(|| {
        try_status!(non_null(client, "client"));
        try_status!(non_null(out_calls, "out_calls"));
        // SAFETY: a live client; checked non-NULL.
        unsafe { *out_calls = (*client).aws.total_calls() };
        Status::OK
    })
}

/// Frees a client; NULL is accepted and ignored. No call on it may be running.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_client_free(client: *mut eks6_client) {
    // SAFETY: from eks6_client_new, freed once.
    unsafe { free(client) }
}

/// Creates an untriggered cancellation handle; `*out` owns it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_cancel_new(out: *mut *mut eks6_cancel) -> Status {
    guard(|| {
        try_status!(non_null(out, "out"));
        // SAFETY: checked non-NULL.
        unsafe { put(out, eks6_cancel::default()) };
        Status::OK
    })
}

/// Triggers the handle, from any thread. Idempotent.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_cancel_trigger(cancel: *const eks6_cancel) -> Status {
    guard(|| {
        try_status!(non_null(cancel, "cancel"));
        // SAFETY: a live handle.
        unsafe { &*cancel }.inner.cancel();
        Status::OK
    })
}

/// Frees a cancellation handle; NULL is accepted and ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_cancel_free(cancel: *mut eks6_cancel) {
    // SAFETY: from eks6_cancel_new, freed once.
    unsafe { free(cancel) }
}

/// Copies the report's JSON into `buf`, by the text-out rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_report_json(
    report: *const eks6_report,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Status {
    guard(|| {
        try_status!(non_null(report, "report"));
        try_status!(non_null(out_len, "out_len"));
        // SAFETY: a live report; out_len checked; buf per the contract.
        unsafe { write_text(&(*report).json, buf, len, out_len) }
    })
}

/// Whether the run passed: always true for `up` and `down` reports (a failure is a
/// status, not a report); for `verify`, whether no check failed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_report_passed(report: *const eks6_report, out: *mut bool) -> Status {
    guard(|| {
        try_status!(non_null(report, "report"));
        try_status!(non_null(out, "out"));
        // SAFETY: checked non-NULL.
        unsafe { *out = (*report).passed };
        Status::OK
    })
}

/// Frees a report; NULL is accepted and ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_report_free(report: *mut eks6_report) {
    // SAFETY: from a workflow call, freed once.
    unsafe { free(report) }
}

/// What every workflow call shares: checked arguments, the cancel handle, the limit.
struct Call<'a> {
    client: &'a eks6_client,
    plan: &'a ClusterPlan,
    cancel: Cancel,
    limit: Option<Duration>,
}

unsafe fn call<'a>(
    client: *const eks6_client,
    plan: *const eks6_plan,
    timeout_secs: u32,
    cancel: *const eks6_cancel,
    out_report: *mut *mut eks6_report,
) -> Result<Call<'a>, Status> {
    non_null(client, "client")?;
    non_null(plan, "plan")?;
    non_null(out_report, "out_report")?;
    // SAFETY: live handles, per the contract; the cancel handle is optional.
    let (client, plan) = unsafe { (&*client, &(*plan).inner) };
    // SAFETY: as above.
    let cancel = if cancel.is_null() { Cancel::new() } else { unsafe { &*cancel }.inner.clone() };
    let limit = (timeout_secs > 0).then(|| Duration::from_secs(timeout_secs.into()));
    Ok(Call { client, plan, cancel, limit })
}

impl Call<'_> {
    fn run_options(&self, journal: &str, events: Option<Sender>) -> RunOptions {
        let wait = *self.client.wait.lock().unwrap_or_else(|p| p.into_inner());
        let mut opts = RunOptions::new(journal).with_wait(wait).with_cancel(self.cancel.clone());
        opts.events = events.map(sink);
        opts
    }

    /// Runs a workflow on the client's runtime, blocking this thread, under the call's
    /// limit, delivering events to `on_event` on this thread as they come.
    fn drive<T>(
        &self,
        events: Option<(unsafe extern "C" fn(*const c_char, *mut c_void), Receiver)>,
        user_data: *mut c_void,
        fut: impl Future<Output = Result<T, WorkflowError>>,
    ) -> Result<T, WorkflowError> {
        self.client.rt.block_on(async {
            let mut fut = std::pin::pin!(with_limit(self.limit, &self.cancel, fut));
            let Some((cb, mut rx)) = events else { return fut.await };
            let deliver = |ev: String| {
                // JSON escapes NUL, so this cannot fail.
                let text = CString::new(ev).unwrap_or_default();
                // SAFETY: a callback from the caller, given text valid for the call.
                unsafe { cb(text.as_ptr(), user_data) };
            };
            loop {
                tokio::select! {
                    biased;
                    Some(ev) = rx.recv() => deliver(ev),
                    r = &mut fut => {
                        while let Ok(ev) = rx.try_recv() {
                            deliver(ev);
                        }
                        return r;
                    }
                }
            }
        })
    }
}

type Sender = tokio::sync::mpsc::UnboundedSender<String>;

/// An event sink that sends each event's JSON to the calling thread's channel.
fn sink(tx: Sender) -> EventSink {
    Arc::new(move |e: &Event| {
        let _ = tx.send(serde_json::to_string(e).expect("events serialize"));
    })
}
type Receiver = tokio::sync::mpsc::UnboundedReceiver<String>;

/// A channel for the events when there is a callback.
fn channel(
    on_event: eks6_event_callback,
) -> (Option<Sender>, Option<(unsafe extern "C" fn(*const c_char, *mut c_void), Receiver)>) {
    match on_event {
        Some(cb) => {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            (Some(tx), Some((cb, rx)))
        }
        None => (None, None),
    }
}

fn finish<T: serde::Serialize>(
    r: Result<T, WorkflowError>,
    passed: impl FnOnce(&T) -> bool,
    out: *mut *mut eks6_report,
) -> Status {
    let r = try_status!(r.map_err(workflow_error));
    let report = eks6_report { passed: passed(&r), json: serde_json::to_string(&r).expect("reports serialize") };
    // SAFETY: the callers checked out non-NULL.
    unsafe { put(out, report) };
    Status::OK
}

/// `up` or `down`: the two share their arguments.
#[derive(Clone, Copy)]
enum Change {
    Up,
    Down,
}

#[allow(clippy::too_many_arguments)]
unsafe fn change(
    which: Change,
    client: *const eks6_client,
    plan: *const eks6_plan,
    journal: *const c_char,
    timeout_secs: u32,
    cancel: *const eks6_cancel,
    on_event: eks6_event_callback,
    user_data: *mut c_void,
    out_report: *mut *mut eks6_report,
) -> Status {
    guard(|| {
        // SAFETY: per the contract.
        let c = try_status!(unsafe { call(client, plan, timeout_secs, cancel, out_report) });
        // SAFETY: per the contract.
        let journal = try_status!(unsafe { text(journal, "journal") });
        let (tx, events) = channel(on_event);
        let opts = c.run_options(journal, tx);
        let aws = &c.client.aws;
        let r = match which {
            Change::Up => c.drive(events, user_data, workflow::up(aws, c.plan, &opts)),
            Change::Down => c.drive(events, user_data, workflow::down(aws, DownTarget::Plan(c.plan), &opts)),
        };
        finish(r, |_| true, out_report)
    })
}

/// Stands the plan up (or resumes it): the dual-stack VPC, subnets, gateways, routes,
/// the IPv6 cluster and its nodegroup, waiting until each is ready. Journaled in
/// `journal` (its lock is `<journal>.lock`); re-running after a failure or a crash
/// resumes. `timeout_secs` 0 means no overall limit (each wait still has the client's
/// deadline); past the limit the run stops at its next step boundary with
/// `EKS6_TIMEOUT`. `cancel` and `on_event` may be NULL. On success `*out_report` owns the
/// report (`RunReport` JSON).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_up(
    client: *const eks6_client,
    plan: *const eks6_plan,
    journal: *const c_char,
    timeout_secs: u32,
    cancel: *const eks6_cancel,
    on_event: eks6_event_callback,
    user_data: *mut c_void,
    out_report: *mut *mut eks6_report,
) -> Status {
    // SAFETY: per the contract.
    unsafe { change(Change::Up, client, plan, journal, timeout_secs, cancel, on_event, user_data, out_report) }
}

/// Tears down exactly what the plan owns (by its tags), in reverse order, waiting where
/// AWS needs it. Idempotent. Arguments as for `eks6_up`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_down(
    client: *const eks6_client,
    plan: *const eks6_plan,
    journal: *const c_char,
    timeout_secs: u32,
    cancel: *const eks6_cancel,
    on_event: eks6_event_callback,
    user_data: *mut c_void,
    out_report: *mut *mut eks6_report,
) -> Status {
    // SAFETY: per the contract.
    unsafe { change(Change::Down, client, plan, journal, timeout_secs, cancel, on_event, user_data, out_report) }
}

/// Checks the plan's cluster (read-only): IPv6 family, subnets, routes, node addresses,
/// the probe port, and, when `probe_address` is not NULL, an HTTP GET over IPv6 to
/// `http://[probe_address]:<plan's probe port>/`. A failed check is not an error: the
/// status is `EKS6_OK` and `eks6_report_passed` says false. `on_event` gets each check
/// as it completes (`{"event": "check", "name", "status", "summary", ...}`).
/// `timeout_secs`, `cancel`, `on_event` and `user_data` as for `eks6_up`. On success
/// `*out_report` owns the report (`VerifyReport` JSON).
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_verify(
    client: *const eks6_client,
    plan: *const eks6_plan,
    probe_address: *const c_char,
    timeout_secs: u32,
    cancel: *const eks6_cancel,
    on_event: eks6_event_callback,
    user_data: *mut c_void,
    out_report: *mut *mut eks6_report,
) -> Status {
    guard(|| {
        // SAFETY: per the contract.
        let c = try_status!(unsafe { call(client, plan, timeout_secs, cancel, out_report) });
        let probe = if probe_address.is_null() {
            None
        } else {
            // SAFETY: per the contract.
            Some(try_status!(unsafe { text(probe_address, "probe_address") }).to_string())
        };
        let (tx, events) = channel(on_event);
        let opts = VerifyOptions { events: tx.map(sink), ..Default::default() }.with_probe(probe, None, Some(c.plan));
        let run = async {
            tokio::select! {
                r = workflow::verify(&c.client.aws, VerifyTarget::Plan(c.plan), &opts) => r,
                () = c.cancel.cancelled() => Err(WorkflowError::Cancelled { step: "verify".into() }),
            }
        };
        let r = c.drive(events, user_data, run);
        finish(r, |v| v.passed(), out_report)
    })
}
