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
    self, Cancel, Event, EventSink, PreflightOptions, RunOptions, Target, VerifyOptions, WaitPolicy, WorkflowError,
};

use crate::{Status, error, free, guard, null_argument, put, set_error, utf8, write_text};

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

fn plan_from(r: Result<ClusterPlan, eks6_core::plan::PlanError>, out: &mut *mut eks6_plan) -> Status {
    let inner = try_status!(r.map_err(|e| error(&e)));
    put(out, eks6_plan { inner });
    Status::OK
}

/// Parses a plan from TOML text. A plan that does not parse gives `EKS6_INVALID_PLAN`
/// with the line and key in the message. On success `*out` owns a new plan.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_plan_from_toml(toml: *const c_char, out: *mut *mut eks6_plan) -> Status {
    guard(|| {
        let out = arg_mut!(out);
        plan_from(ClusterPlan::from_toml(arg_str!(toml)), out)
    })
}

/// Reads a plan from a file (TOML, or JSON by the `.json` extension).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_plan_from_file(path: *const c_char, out: *mut *mut eks6_plan) -> Status {
    guard(|| {
        let out = arg_mut!(out);
        plan_from(ClusterPlan::from_file(arg_str!(path)), out)
    })
}

/// The plan's offline report as JSON, by the text-out rules: what `eks6 plan --output
/// json` prints (`{"schema_version", "plan", "plan_id", "region", "kubernetes_version",
/// "address_plan", "findings": [{"rule", "severity", "field", "message", "fix"}]}`).
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
        let report = arg_ref!(plan).inner.report();
        if !out_has_errors.is_null() {
            *arg_mut!(out_has_errors) = report.has_errors();
        }
        let json = serde_json::to_string(&report).expect("reports serialize");
        text_out!(&json, buf, len, out_len)
    })
}

/// Frees a plan; NULL is accepted and ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_plan_free(plan: *mut eks6_plan) {
    // SAFETY: the C contract: NULL or a plan from eks6_plan_from_*, freed once.
    unsafe { free(plan) }
}

static LOG: Once = Once::new();

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
        let out = arg_mut!(out);
        LOG.call_once(|| {
            eks6_core::log::init_from_env();
        });
        let opts = AwsOptions {
            region: arg_opt_str!(region).map(str::to_string),
            profile: arg_opt_str!(profile).map(str::to_string),
            endpoint_url: arg_opt_str!(endpoint_url).map(str::to_string),
            ..Default::default()
        };
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("eks6-runtime")
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => return set_error(Status::INTERNAL, format!("cannot start the eks6 runtime: {e}")),
        };
        let aws = try_status!(rt.block_on(Aws::connect(&opts)).map_err(|e| error(&e)));
        put(out, eks6_client { rt, aws, wait: Mutex::new(WaitPolicy::default()) });
        Status::OK
    })
}

/// Sets how the client's workflows wait for resources, as the CLI's `--poll-interval`,
/// `--wait-timeout` and `--time-scale` and Python's `eks6.WaitPolicy` do:
/// `poll_interval_secs` a fixed pause between polls, or 0 for the default schedule
/// placed by how long each kind of resource usually takes (see `eks6_step_graph`);
/// `deadline_secs` how long to wait for any one resource; `time_scale` the factor on
/// the usual durations (1 for AWS, 0.01 for an emulator a hundred times faster). The
/// default is (0, 1800, 1). A negative or non-finite number, a zero deadline or scale,
/// a scale above 1000, gives `EKS6_INVALID_ARGUMENT`. (It replaces
/// `eks6_client_set_wait(first_delay_ms, max_delay_ms, deadline_secs)`, gone with the
/// doubling schedule: a new name, so that old calls fail to link instead of meaning
/// something else.)
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_client_set_wait_policy(
    client: *const eks6_client,
    poll_interval_secs: f64,
    deadline_secs: f64,
    time_scale: f64,
) -> Status {
    guard(|| {
        let client = arg_ref!(client);
        let interval = (poll_interval_secs != 0.0).then_some(poll_interval_secs);
        let policy = try_status!(WaitPolicy::from_secs(interval, deadline_secs, time_scale).map_err(|e| error(&e)));
        *client.wait.lock().unwrap_or_else(|p| p.into_inner()) = policy;
        Status::OK
    })
}

/// The step graph of `workflow` (`"up"` or `"down"`) as JSON, by the text-out rules:
/// `{"workflow", "steps": [{"step", "needs": [...], "waits": [...]}], "expected":
/// [{"kind", "seconds", "source"}]}`, each step started as soon as the steps it needs
/// are done; `expected` lists every kind of wait with how long AWS usually takes. Any
/// other workflow name gives `EKS6_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_step_graph(
    workflow: *const c_char,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Status {
    guard(|| {
        let name = arg_str!(workflow);
        let json = try_status!(workflow::graph_json(name).map_err(|e| error(&e)));
        text_out!(&json, buf, len, out_len)
    })
}

/// The number of AWS API calls (HTTP attempts) this client has made so far.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_client_api_calls(client: *const eks6_client, out_calls: *mut u64) -> Status {
    guard(|| {
        *arg_mut!(out_calls) = arg_ref!(client).aws.total_calls();
        Status::OK
    })
}

/// Frees a client; NULL is accepted and ignored. No call on it may be running.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_client_free(client: *mut eks6_client) {
    // SAFETY: the C contract: NULL or a client from eks6_client_new, freed once.
    unsafe { free(client) }
}

/// Creates an untriggered cancellation handle; `*out` owns it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_cancel_new(out: *mut *mut eks6_cancel) -> Status {
    guard(|| {
        put(arg_mut!(out), eks6_cancel::default());
        Status::OK
    })
}

/// Triggers the handle, from any thread. Idempotent.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_cancel_trigger(cancel: *const eks6_cancel) -> Status {
    guard(|| {
        arg_ref!(cancel).inner.cancel();
        Status::OK
    })
}

/// Frees a cancellation handle; NULL is accepted and ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_cancel_free(cancel: *mut eks6_cancel) {
    // SAFETY: the C contract: NULL or a handle from eks6_cancel_new, freed once.
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
        let report = arg_ref!(report);
        text_out!(&report.json, buf, len, out_len)
    })
}

/// Whether the run passed: always true for `up` and `down` reports (a failure is a
/// status, not a report); for `verify`, whether no check failed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_report_passed(report: *const eks6_report, out: *mut bool) -> Status {
    guard(|| {
        *arg_mut!(out) = arg_ref!(report).passed;
        Status::OK
    })
}

/// Frees a report; NULL is accepted and ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_report_free(report: *mut eks6_report) {
    // SAFETY: the C contract: NULL or a report from a workflow call, freed once.
    unsafe { free(report) }
}

/// What every workflow call shares: the client, the cancel handle, the limit.
struct Call<'a> {
    client: &'a eks6_client,
    cancel: Cancel,
    limit: Option<Duration>,
}

/// The [`Call`] of checked arguments: the client (not NULL), the optional cancel handle,
/// the time limit in seconds (0: none).
macro_rules! call {
    ($client:ident, $timeout_secs:ident, $cancel:ident) => {
        Call {
            client: arg_ref!($client),
            cancel: if $cancel.is_null() { Cancel::new() } else { arg_ref!($cancel).inner.clone() },
            limit: ($timeout_secs > 0).then(|| Duration::from_secs($timeout_secs.into())),
        }
    };
}

impl Call<'_> {
    fn run_options(&self, journal: &str, events: Option<Sender>) -> RunOptions {
        let wait = *self.client.wait.lock().unwrap_or_else(|p| p.into_inner());
        let mut opts =
            RunOptions::new(journal).with_wait(wait).with_cancel(self.cancel.clone()).with_timeout(self.limit);
        opts.events = events.map(sink);
        opts
    }

    /// Runs a workflow on the client's runtime, blocking this thread, under the call's
    /// limit, delivering events to `on_event` on this thread as they come; the report (or
    /// the error's status) goes to `out`.
    fn drive<T: serde::Serialize>(
        &self,
        events: Option<(unsafe extern "C" fn(*const c_char, *mut c_void), Receiver)>,
        user_data: *mut c_void,
        fut: impl Future<Output = Result<T, WorkflowError>>,
        passed: impl FnOnce(&T) -> bool,
        out: &mut *mut eks6_report,
    ) -> Status {
        let r = self.client.rt.block_on(async {
            let mut fut = std::pin::pin!(fut);
            let Some((cb, mut rx)) = events else { return fut.await };
            let deliver = |ev: String| {
                // JSON escapes NUL, so this cannot fail.
                let text = CString::new(ev).unwrap_or_default();
                // SAFETY: the C contract: a callback that takes text valid for the call.
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
        });
        let r = try_status!(r.map_err(|e| error(&e)));
        let report = eks6_report { passed: passed(&r), json: serde_json::to_string(&r).expect("reports serialize") };
        put(out, report);
        Status::OK
    }
}

type Sender = tokio::sync::mpsc::UnboundedSender<String>;
type Receiver = tokio::sync::mpsc::UnboundedReceiver<String>;

/// An event sink that sends each event's JSON to the calling thread's channel.
fn sink(tx: Sender) -> EventSink {
    Arc::new(move |e: &Event| {
        let _ = tx.send(serde_json::to_string(e).expect("events serialize"));
    })
}

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

/// Stands the plan up (or resumes it): the dual-stack VPC, subnets, gateways, routes,
/// the IPv6 cluster and its nodegroup, waiting until each is ready. Journaled in
/// `journal` (its lock is `<journal>.lock`); re-running after a failure or a crash
/// resumes. `timeout_secs` 0 means no overall limit (each wait still has the client's
/// deadline); past the limit the run stops at its next step boundary with
/// `EKS6_TIMEOUT`. `cancel` and `on_event` may be NULL. On success `*out_report` owns the
/// report (`RunReport` JSON).
#[allow(clippy::too_many_arguments)]
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
    guard(|| {
        let (c, plan, out) = (call!(client, timeout_secs, cancel), &arg_ref!(plan).inner, arg_mut!(out_report));
        let (tx, events) = channel(on_event);
        let opts = c.run_options(arg_str!(journal), tx);
        c.drive(events, user_data, workflow::up(&c.client.aws, plan, &opts), |_| true, out)
    })
}

/// Tears down exactly what the plan owns (by its tags), in reverse order, waiting where
/// AWS needs it. Idempotent. Arguments as for `eks6_up`.
#[allow(clippy::too_many_arguments)]
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
    guard(|| {
        let (c, plan, out) = (call!(client, timeout_secs, cancel), &arg_ref!(plan).inner, arg_mut!(out_report));
        let (tx, events) = channel(on_event);
        let opts = c.run_options(arg_str!(journal), tx);
        c.drive(events, user_data, workflow::down(&c.client.aws, Target::Plan(plan), &opts), |_| true, out)
    })
}

/// Tears down what eks6 made for the cluster `name` in the client's region, found by
/// its tags alone (no plan file; the journal, when there is one at `journal`, is used
/// and removed). Arguments otherwise as for `eks6_up`.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_down_cluster(
    client: *const eks6_client,
    name: *const c_char,
    journal: *const c_char,
    timeout_secs: u32,
    cancel: *const eks6_cancel,
    on_event: eks6_event_callback,
    user_data: *mut c_void,
    out_report: *mut *mut eks6_report,
) -> Status {
    guard(|| {
        let (c, name, out) = (call!(client, timeout_secs, cancel), arg_str!(name), arg_mut!(out_report));
        let (tx, events) = channel(on_event);
        let opts = c.run_options(arg_str!(journal), tx);
        let aws = &c.client.aws;
        let target = Target::Cluster { name, region: aws.region() };
        c.drive(events, user_data, workflow::down(aws, target, &opts), |_| true, out)
    })
}

/// Checks the plan's cluster (it reads only, but for the probe pod of the Kubernetes
/// checks, made and deleted in the sample's namespace): IPv6 family, subnets, routes, node addresses,
/// the probe port, and, when `probe_address` is not NULL, an HTTP GET over IPv6 to
/// `http://[probe_address]:<plan's probe port>/`. When the plan has `[sample]`, the
/// Kubernetes side too, through the cluster's endpoint and eks6's own token (nodes, the
/// sample's pods in their node's /80, the Service's address, aws-node and CoreDNS, a
/// probe pod inside the VPC); an API that refuses the token is `EKS6_KUBE_UNAUTHORIZED`,
/// one that cannot be reached `EKS6_KUBE_NETWORK`. A failed check is not an error: the
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
        let (c, plan, out) = (call!(client, timeout_secs, cancel), &arg_ref!(plan).inner, arg_mut!(out_report));
        let probe = arg_opt_str!(probe_address).map(str::to_string);
        let (tx, events) = channel(on_event);
        let opts =
            VerifyOptions { events: tx.map(sink), cancel: c.cancel.clone(), timeout: c.limit, ..Default::default() }
                .with_probe(probe, None, Some(plan))
                .with_kubernetes_default(Some(plan));
        c.drive(events, user_data, workflow::verify(&c.client.aws, Target::Plan(plan), &opts), |v| v.passed(), out)
    })
}

/// The EKS bearer token for `cluster`, made with the client's credentials for its
/// region (no AWS CLI), as the ExecCredential JSON `aws eks get-token` prints
/// (`client.authentication.k8s.io/v1beta1`; `status.token`, `status.expirationTimestamp`).
/// On success `*out_report` owns it (`eks6_report_json` gives the JSON).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_eks_token(
    client: *const eks6_client,
    cluster: *const c_char,
    out_report: *mut *mut eks6_report,
) -> Status {
    guard(|| {
        let (timeout_secs, cancel): (u32, *const eks6_cancel) = (0, std::ptr::null());
        let (c, cluster, out) = (call!(client, timeout_secs, cancel), arg_str!(cluster), arg_mut!(out_report));
        let aws = &c.client.aws;
        let made = async {
            let t = aws.eks_token(cluster).await?;
            Ok::<_, WorkflowError>(eks6_core::k8s::ExecCredential::new(&t, None))
        };
        c.drive(None, std::ptr::null_mut(), made, |_| true, out)
    })
}

/// The live pre-flight (`eks6 plan --live`): the plan's offline report with the findings
/// of read-only checks against the client's account added (the roles, and whether IAM
/// lets the node role do what the VPC CNI needs for IPv6; zones, instance types, an
/// existing VPC, Elastic IP headroom, a cluster of the same name). Nothing is written.
/// Error findings are not an error: the status is `EKS6_OK` and `eks6_report_passed`
/// says false; the report is the `PlanReport` JSON of `eks6_plan_validate`.
/// `timeout_secs` and `cancel` as for `eks6_up` (`cancel` may be NULL). On success
/// `*out_report` owns the report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eks6_plan_check_live(
    client: *const eks6_client,
    plan: *const eks6_plan,
    timeout_secs: u32,
    cancel: *const eks6_cancel,
    out_report: *mut *mut eks6_report,
) -> Status {
    guard(|| {
        let (c, plan, out) = (call!(client, timeout_secs, cancel), &arg_ref!(plan).inner, arg_mut!(out_report));
        let opts = PreflightOptions { cancel: c.cancel.clone(), timeout: c.limit, today: None };
        let checks = workflow::preflight(&c.client.aws, plan, &opts);
        c.drive(None, std::ptr::null_mut(), checks, |r| !r.has_errors(), out)
    })
}
