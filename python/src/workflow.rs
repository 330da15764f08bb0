//! The workflow half of the native module: plans, a client, up / verify / down / probe,
//! each as an awaitable (pyo3-async-runtimes, on its shared tokio runtime) and as a
//! blocking twin that releases the GIL. Results cross as JSON in the core's schema; the
//! Python package (`eks6._client`, `eks6.model`) turns them into frozen dataclasses.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use eks6::ErrorKind;
use eks6::aws::{Aws, AwsError, AwsOptions};
use eks6::plan::{ClusterPlan, Finding, PlanError as CorePlanError};
use eks6::probe::{ProbeError as CoreProbeError, ProbeOptions};
use eks6::workflow::{
    self, Cancel, DownTarget, Event, EventSink, RunOptions, VerifyOptions, VerifyTarget, WaitPolicy, WorkflowError,
    with_limit,
};
use pyo3_async_runtimes::tokio::{future_into_py, get_runtime};

use crate::net_err;

/// The exception classes of `eks6.errors`.
mod exc {
    pyo3::import_exception!(eks6.errors, Eks6Error);
    pyo3::import_exception!(eks6.errors, PlanError);
    pyo3::import_exception!(eks6.errors, AwsError);
    pyo3::import_exception!(eks6.errors, ThrottledError);
    pyo3::import_exception!(eks6.errors, NotFoundError);
    pyo3::import_exception!(eks6.errors, ConflictError);
    pyo3::import_exception!(eks6.errors, LockedError);
    pyo3::import_exception!(eks6.errors, TimeoutError);
    pyo3::import_exception!(eks6.errors, CancelledError);
    pyo3::import_exception!(eks6.errors, IoError);
    pyo3::import_exception!(eks6.errors, ProbeError);
    pyo3::import_exception!(eks6.errors, ProbeTargetError);
}

fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("eks6 reports serialize")
}

/// The exception of a kind, with AWS's code and message where there are some, and the
/// findings of a rejected plan (as JSON; `eks6.errors` turns them into `Finding`s).
fn error(kind: ErrorKind, message: String, aws: Option<&AwsError>, findings: Option<&[Finding]>) -> PyErr {
    let code = aws.and_then(|a| a.code()).map(str::to_string);
    let aws_message = aws.map(|a| a.message().to_string());
    match kind {
        ErrorKind::InvalidPlan | ErrorKind::PlanRejected | ErrorKind::RegionMismatch => {
            exc::PlanError::new_err((message, findings.map(json)))
        }
        ErrorKind::AwsThrottled => exc::ThrottledError::new_err((message, code, aws_message)),
        ErrorKind::AwsNotFound => exc::NotFoundError::new_err((message, code, aws_message)),
        ErrorKind::AwsConflict => exc::ConflictError::new_err((message, code, aws_message)),
        ErrorKind::Locked => exc::LockedError::new_err((message, code, aws_message)),
        ErrorKind::AwsInvalidInput | ErrorKind::AwsService | ErrorKind::AwsNetwork | ErrorKind::AwsCredentials => {
            exc::AwsError::new_err((message, code, aws_message))
        }
        ErrorKind::Timeout => exc::TimeoutError::new_err((message, code, aws_message)),
        ErrorKind::Cancelled => exc::CancelledError::new_err(message),
        ErrorKind::Io => exc::IoError::new_err(message),
        ErrorKind::ProbeRefused | ErrorKind::ProbeNetwork => exc::ProbeError::new_err(message),
        ErrorKind::ProbeTarget => exc::ProbeTargetError::new_err(message),
        _ => exc::Eks6Error::new_err(message),
    }
}

fn plan_err(e: CorePlanError) -> PyErr {
    let kind = e.kind();
    match e {
        CorePlanError::Address(n) => net_err(n),
        CorePlanError::Invalid { ref findings, .. } => error(kind, e.to_string(), None, Some(findings)),
        e => error(kind, e.to_string(), None, None),
    }
}

fn workflow_err(e: WorkflowError) -> PyErr {
    match e {
        WorkflowError::Plan(p) => plan_err(p),
        WorkflowError::Aws(a) => error(a.kind(), a.to_string(), Some(&a), None),
        WorkflowError::Network { ref findings } => error(e.kind(), e.to_string(), None, Some(findings)),
        e => error(e.kind(), e.to_string(), None, None),
    }
}

fn aws_err(e: AwsError) -> PyErr {
    error(e.kind(), e.to_string(), Some(&e), None)
}

fn probe_err(e: CoreProbeError) -> PyErr {
    match e {
        CoreProbeError::Address(n) => net_err(n),
        e => error(e.kind(), e.to_string(), None, None),
    }
}

/// A cluster plan (native half of `eks6.ClusterPlan`).
#[pyclass(module = "eks6._eks6", frozen, name = "Plan")]
#[derive(Debug)]
pub struct Plan {
    inner: ClusterPlan,
}

#[pymethods]
impl Plan {
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Self> {
        ClusterPlan::from_toml(text).map(|inner| Self { inner }).map_err(plan_err)
    }

    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        ClusterPlan::from_json(text).map(|inner| Self { inner }).map_err(plan_err)
    }

    #[staticmethod]
    fn from_file(path: PathBuf) -> PyResult<Self> {
        ClusterPlan::from_file(path).map(|inner| Self { inner }).map_err(plan_err)
    }

    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    #[getter]
    fn region(&self) -> &str {
        &self.inner.region
    }

    #[getter]
    fn plan_id(&self) -> String {
        self.inner.plan_id()
    }

    fn to_toml(&self) -> String {
        self.inner.to_toml()
    }

    fn to_json(&self) -> String {
        json(&self.inner)
    }

    /// The offline pre-flight findings (`Validation` JSON).
    fn validate_json(&self) -> String {
        json(&self.inner.validate())
    }

    /// The address plan (`AddressPlan` JSON): with the VPC's /56 when known, else with a
    /// placeholder /56 (the /64 indexes are what AWS will use).
    #[pyo3(signature = (vpc_ipv6=None, zones=Vec::new()))]
    fn address_plan_json(&self, vpc_ipv6: Option<&str>, zones: Vec<String>) -> PyResult<String> {
        let v6 = vpc_ipv6.map(eks6::net::parse_prefix).transpose().map_err(net_err)?;
        self.inner.address_plan(v6, &zones, &[], &[]).map(|a| json(&a)).map_err(plan_err)
    }
}

/// A cancellation handle: `trigger()` from any thread; the workflow stops at its next
/// step boundary or wait with `CancelledError`, its journal intact.
#[pyclass(module = "eks6._eks6", frozen, name = "Cancel")]
#[derive(Debug, Default)]
pub struct PyCancel {
    inner: Cancel,
}

#[pymethods]
impl PyCancel {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    fn trigger(&self) {
        self.inner.cancel();
    }

    #[getter]
    fn triggered(&self) -> bool {
        self.inner.is_cancelled()
    }
}

/// The AWS clients of one account and region (native half of `eks6.Client`).
#[pyclass(module = "eks6._eks6", frozen, name = "Client")]
#[derive(Debug)]
pub struct Client {
    aws: Aws,
    wait: WaitPolicy,
}

/// What one call shares: options and the limit.
struct Call {
    aws: Aws,
    plan: ClusterPlan,
    cancel: Cancel,
    limit: Option<Duration>,
}

fn limit_of(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout
        .map(|t| {
            Duration::try_from_secs_f64(t)
                .map_err(|_| PyValueError::new_err(format!("timeout {t} is not a non-negative number of seconds")))
        })
        .transpose()
}

impl Client {
    fn call(&self, plan: &Plan, cancel: Option<&PyCancel>, timeout: Option<f64>) -> PyResult<Call> {
        Ok(Call {
            aws: self.aws.clone(),
            plan: plan.inner.clone(),
            cancel: cancel.map(|c| c.inner.clone()).unwrap_or_default(),
            limit: limit_of(timeout)?,
        })
    }

    fn run_options(&self, c: &Call, journal: PathBuf, on_event: Option<Py<PyAny>>) -> RunOptions {
        let mut opts = RunOptions::new(journal).with_wait(self.wait).with_cancel(c.cancel.clone());
        opts.events = on_event.map(sink);
        opts
    }
}

/// An event sink calling `cb` with each event's JSON, with the GIL, from whichever
/// thread runs the workflow; the Python side decides where the event goes (the event
/// loop, or straight on). An exception in `cb` is reported as unraisable.
fn sink(cb: Py<PyAny>) -> EventSink {
    Arc::new(move |e: &Event| {
        let text = json(e);
        Python::attach(|py| {
            if let Err(err) = cb.call1(py, (text,)) {
                err.write_unraisable(py, Some(cb.bind(py)));
            }
        });
    })
}

async fn change(c: Call, opts: RunOptions, up: bool) -> PyResult<String> {
    let fut = async {
        if up {
            workflow::up(&c.aws, &c.plan, &opts).await
        } else {
            workflow::down(&c.aws, DownTarget::Plan(&c.plan), &opts).await
        }
    };
    with_limit(c.limit, &c.cancel, fut).await.map(|r| json(&r)).map_err(workflow_err)
}

async fn check(c: Call, opts: VerifyOptions) -> PyResult<String> {
    let fut = async {
        tokio::select! {
            r = workflow::verify(&c.aws, VerifyTarget::Plan(&c.plan), &opts) => r,
            () = c.cancel.cancelled() => Err(WorkflowError::Cancelled { step: "verify".into() }),
        }
    };
    with_limit(c.limit, &c.cancel, fut).await.map(|r| json(&r)).map_err(workflow_err)
}

fn verify_options(
    c: &Call,
    probe_address: Option<String>,
    probe_port: Option<u16>,
    addresses: Vec<String>,
    kubectl: Option<String>,
    on_event: Option<Py<PyAny>>,
) -> VerifyOptions {
    VerifyOptions { addresses, kubectl, events: on_event.map(sink), ..Default::default() }.with_probe(
        probe_address,
        probe_port,
        Some(&c.plan),
    )
}

fn probe_options(port: u16, path: String, connect_timeout: f64, timeout: f64) -> PyResult<ProbeOptions> {
    let secs = |t: f64| limit_of(Some(t)).map(|d| d.unwrap_or_default());
    Ok(ProbeOptions {
        port,
        path,
        connect_timeout: secs(connect_timeout)?,
        total_timeout: secs(timeout)?,
        ..Default::default()
    })
}

async fn run_probe(target: String, opts: ProbeOptions) -> PyResult<String> {
    eks6::probe::probe(&target, &opts).await.map(|a| json(&a)).map_err(probe_err)
}

fn is_up(workflow: &str) -> PyResult<bool> {
    match workflow {
        "up" => Ok(true),
        "down" => Ok(false),
        w => Err(PyValueError::new_err(format!("workflow {w:?} is not \"up\" or \"down\""))),
    }
}

/// Blocks on the shared runtime with the GIL released.
fn block<T: Send>(py: Python<'_>, fut: impl Future<Output = PyResult<T>> + Send) -> PyResult<T> {
    py.detach(|| get_runtime().block_on(fut))
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (region=None, profile=None, endpoint_url=None, role_arn=None, wait=None))]
    fn new(
        py: Python<'_>,
        region: Option<String>,
        profile: Option<String>,
        endpoint_url: Option<String>,
        role_arn: Option<String>,
        wait: Option<(f64, f64, f64)>,
    ) -> PyResult<Self> {
        let wait = match wait {
            None => WaitPolicy::default(),
            Some((first, max, deadline)) => {
                let d = |t: f64| limit_of(Some(t)).map(|d| d.unwrap_or_default());
                let policy = WaitPolicy { first_delay: d(first)?, max_delay: d(max)?, deadline: d(deadline)? };
                if policy.first_delay.is_zero() || policy.max_delay < policy.first_delay || policy.deadline.is_zero() {
                    return Err(PyValueError::new_err(format!(
                        "wait=({first}, {max}, {deadline}): the delays must be positive, the first no longer than the longest, and the deadline positive"
                    )));
                }
                policy
            }
        };
        let opts = AwsOptions { region, profile, endpoint_url, assume_role_arn: role_arn, ..Default::default() };
        let aws = block(py, async { Aws::connect(&opts).await.map_err(aws_err) })?;
        Ok(Self { aws, wait })
    }

    #[getter]
    fn region(&self) -> &str {
        self.aws.region()
    }

    /// AWS API calls (HTTP attempts) so far, by `Service:Operation`.
    fn api_calls(&self) -> BTreeMap<String, u64> {
        self.aws.call_counts()
    }

    /// `up` (`workflow == "up"`) or `down` (`"down"`) as an awaitable.
    #[pyo3(signature = (workflow, plan, journal, on_event=None, cancel=None, timeout=None))]
    #[allow(clippy::too_many_arguments)]
    fn run<'py>(
        &self,
        py: Python<'py>,
        workflow: &str,
        plan: &Plan,
        journal: PathBuf,
        on_event: Option<Py<PyAny>>,
        cancel: Option<&PyCancel>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let up = is_up(workflow)?;
        let c = self.call(plan, cancel, timeout)?;
        let opts = self.run_options(&c, journal, on_event);
        future_into_py(py, change(c, opts, up))
    }

    /// The blocking twin of `run`, releasing the GIL while it waits.
    #[pyo3(signature = (workflow, plan, journal, on_event=None, cancel=None, timeout=None))]
    #[allow(clippy::too_many_arguments)]
    fn run_sync(
        &self,
        py: Python<'_>,
        workflow: &str,
        plan: &Plan,
        journal: PathBuf,
        on_event: Option<Py<PyAny>>,
        cancel: Option<&PyCancel>,
        timeout: Option<f64>,
    ) -> PyResult<String> {
        let up = is_up(workflow)?;
        let c = self.call(plan, cancel, timeout)?;
        let opts = self.run_options(&c, journal, on_event);
        block(py, change(c, opts, up))
    }

    #[pyo3(signature = (plan, probe_address=None, probe_port=None, addresses=Vec::new(), kubectl=None, on_event=None, cancel=None, timeout=None))]
    #[allow(clippy::too_many_arguments)]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        plan: &Plan,
        probe_address: Option<String>,
        probe_port: Option<u16>,
        addresses: Vec<String>,
        kubectl: Option<String>,
        on_event: Option<Py<PyAny>>,
        cancel: Option<&PyCancel>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.call(plan, cancel, timeout)?;
        let opts = verify_options(&c, probe_address, probe_port, addresses, kubectl, on_event);
        future_into_py(py, check(c, opts))
    }

    #[pyo3(signature = (plan, probe_address=None, probe_port=None, addresses=Vec::new(), kubectl=None, on_event=None, cancel=None, timeout=None))]
    #[allow(clippy::too_many_arguments)]
    fn verify_sync(
        &self,
        py: Python<'_>,
        plan: &Plan,
        probe_address: Option<String>,
        probe_port: Option<u16>,
        addresses: Vec<String>,
        kubectl: Option<String>,
        on_event: Option<Py<PyAny>>,
        cancel: Option<&PyCancel>,
        timeout: Option<f64>,
    ) -> PyResult<String> {
        let c = self.call(plan, cancel, timeout)?;
        let opts = verify_options(&c, probe_address, probe_port, addresses, kubectl, on_event);
        block(py, check(c, opts))
    }
}

/// An HTTP GET over IPv6 only (what `curl -g -6` does); `ProbeAnswer` JSON.
#[pyfunction]
#[pyo3(signature = (target, port=80, path="/", connect_timeout=5.0, timeout=10.0))]
pub fn probe<'py>(
    py: Python<'py>,
    target: String,
    port: u16,
    path: &str,
    connect_timeout: f64,
    timeout: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = probe_options(port, path.into(), connect_timeout, timeout)?;
    future_into_py(py, run_probe(target, opts))
}

/// The blocking twin of `probe`, releasing the GIL.
#[pyfunction]
#[pyo3(signature = (target, port=80, path="/", connect_timeout=5.0, timeout=10.0))]
pub fn probe_sync(
    py: Python<'_>,
    target: String,
    port: u16,
    path: &str,
    connect_timeout: f64,
    timeout: f64,
) -> PyResult<String> {
    let opts = probe_options(port, path.into(), connect_timeout, timeout)?;
    block(py, run_probe(target, opts))
}
