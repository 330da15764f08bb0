//! The workflow half of the native module: plans, a client, up / verify / down / probe.
//! Each call is one definition with a `blocking` switch: an awaitable (pyo3-async-runtimes,
//! on its shared tokio runtime), or a blocking call that releases the GIL. Results cross
//! as JSON in the core's schema; the Python package (`eks6.client`, `eks6.model`) turns
//! them into frozen dataclasses and gives each workflow its async and `*_sync` forms.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use eks6::aws::{Aws, AwsOptions};
use eks6::error::{ArgumentError, ErrorDetails, positive_seconds};
use eks6::plan::ClusterPlan;
use eks6::probe::ProbeOptions;
use eks6::workflow::{
    self, Cancel as CoreCancel, Event, EventSink, KubeAccess, PreflightOptions, RunOptions, Target, VerifyOptions,
    WaitPolicy,
};
use pyo3_async_runtimes::tokio::{future_into_py, get_runtime};

use crate::to_pyerr;

fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("eks6 reports serialize")
}

/// A cluster plan (native half of `eks6.ClusterPlan`).
#[pyclass(module = "eks6._eks6", frozen, name = "_Plan")]
#[derive(Debug)]
pub struct NativePlan {
    inner: ClusterPlan,
}

#[pymethods]
impl NativePlan {
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Self> {
        ClusterPlan::from_toml(text).map(|inner| Self { inner }).map_err(|e| to_pyerr(&e))
    }

    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        ClusterPlan::from_json(text).map(|inner| Self { inner }).map_err(|e| to_pyerr(&e))
    }

    #[staticmethod]
    fn from_file(path: PathBuf) -> PyResult<Self> {
        ClusterPlan::from_file(path).map(|inner| Self { inner }).map_err(|e| to_pyerr(&e))
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

    /// The offline report (`PlanReport` JSON, what `eks6 plan --output json` prints).
    fn report_json(&self) -> String {
        json(&self.inner.report())
    }

    /// The address plan (`AddressPlan` JSON): with the VPC's /56 when known, else with a
    /// placeholder /56 (the /64 indexes are what AWS will use).
    #[pyo3(signature = (vpc_ipv6=None, zones=Vec::new()))]
    fn address_plan_json(&self, vpc_ipv6: Option<&str>, zones: Vec<String>) -> PyResult<String> {
        let v6 = vpc_ipv6.map(eks6::net::parse_prefix).transpose().map_err(|e| to_pyerr(&e))?;
        self.inner.address_plan(v6, &zones, &[], &[]).map(|a| json(&a)).map_err(|e| to_pyerr(&e))
    }
}

/// A cancellation handle: `trigger()` from any thread; the workflow stops at its next
/// step boundary or wait with `CancelledError`, its journal intact.
#[pyclass(module = "eks6._eks6", frozen, name = "_Cancel")]
#[derive(Debug, Default)]
pub struct Cancel {
    inner: CoreCancel,
}

#[pymethods]
impl Cancel {
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
#[pyclass(module = "eks6._eks6", frozen, name = "_Client")]
#[derive(Debug)]
pub struct NativeClient {
    aws: Aws,
    wait: WaitPolicy,
}

/// What one call shares: the client, the plan, the cancel handle and the limit.
struct Call {
    aws: Aws,
    plan: ClusterPlan,
    cancel: CoreCancel,
    limit: Option<Duration>,
}

fn limit_of(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout.map(|t| positive_seconds(t, "timeout")).transpose().map_err(|e| to_pyerr(&e))
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

/// A future as an awaitable, or (`blocking`) its result, waited for on the shared
/// runtime with the GIL released: the one place the two forms of every call part.
fn dispatch<'py, F, E>(py: Python<'py>, blocking: bool, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<String, E>> + Send + 'static,
    E: ErrorDetails,
{
    let fut = async move { fut.await.map_err(|e| to_pyerr(&e)) };
    if blocking {
        let text = py.detach(|| get_runtime().block_on(fut))?;
        Ok(text.into_pyobject(py)?.into_any())
    } else {
        future_into_py(py, fut)
    }
}

#[pymethods]
impl NativeClient {
    #[new]
    #[pyo3(signature = (region=None, profile=None, endpoint_url=None, role_arn=None, wait=None))]
    fn new(
        py: Python<'_>,
        region: Option<String>,
        profile: Option<String>,
        endpoint_url: Option<String>,
        role_arn: Option<String>,
        wait: Option<(Option<f64>, f64, f64)>,
    ) -> PyResult<Self> {
        let wait = match wait {
            None => WaitPolicy::default(),
            Some((interval, deadline, scale)) => {
                WaitPolicy::from_secs(interval, deadline, scale).map_err(|e| to_pyerr(&e))?
            }
        };
        let opts = AwsOptions { region, profile, endpoint_url, assume_role_arn: role_arn, ..Default::default() };
        let aws = py.detach(|| get_runtime().block_on(Aws::connect(&opts))).map_err(|e| to_pyerr(&e))?;
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

    /// `up` (`workflow == "up"`) or `down` (`"down"`): an awaitable, or with `blocking`
    /// the report's JSON.
    #[pyo3(signature = (workflow, plan, journal, on_event=None, cancel=None, timeout=None, blocking=false))]
    #[allow(clippy::too_many_arguments)]
    fn run<'py>(
        &self,
        py: Python<'py>,
        workflow: &str,
        plan: &NativePlan,
        journal: PathBuf,
        on_event: Option<Py<PyAny>>,
        cancel: Option<&Cancel>,
        timeout: Option<f64>,
        blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let up = match workflow {
            "up" => true,
            "down" => false,
            w => return Err(PyValueError::new_err(format!("workflow {w:?} is not \"up\" or \"down\""))),
        };
        let c = self.call(plan, cancel, timeout)?;
        let mut opts =
            RunOptions::new(journal).with_wait(self.wait).with_cancel(c.cancel.clone()).with_timeout(c.limit);
        opts.events = on_event.map(sink);
        dispatch(py, blocking, async move {
            let report = if up {
                workflow::up(&c.aws, &c.plan, &opts).await
            } else {
                workflow::down(&c.aws, Target::Plan(&c.plan), &opts).await
            };
            report.map(|r| json(&r))
        })
    }

    /// The checks: an awaitable, or with `blocking` the report's JSON.
    #[pyo3(signature = (plan, probe_address=None, probe_port=None, addresses=Vec::new(), kubectl=None, on_event=None, cancel=None, timeout=None, blocking=false, kubernetes=None, context=None, kubeconfig=None, probe_pod_timeout=None))]
    #[allow(clippy::too_many_arguments)]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        plan: &NativePlan,
        probe_address: Option<String>,
        probe_port: Option<u16>,
        addresses: Vec<String>,
        kubectl: Option<String>,
        on_event: Option<Py<PyAny>>,
        cancel: Option<&Cancel>,
        timeout: Option<f64>,
        blocking: bool,
        kubernetes: Option<bool>,
        context: Option<String>,
        kubeconfig: Option<std::path::PathBuf>,
        probe_pod_timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if context.is_some() && kubernetes == Some(false) {
            return Err(to_pyerr(&eks6::error::ArgumentError::new(
                "context",
                "a kubeconfig context turns the Kubernetes checks on; kubernetes=False turns them off",
            )));
        }
        let probe_pod_deadline = match probe_pod_timeout {
            Some(t) => Some(eks6::error::positive_seconds(t, "probe_pod_timeout").map_err(|e| to_pyerr(&e))?),
            None => None,
        };
        let c = self.call(plan, cancel, timeout)?;
        let access = match (context, kubernetes) {
            (Some(context), _) => Some(KubeAccess::Context { kubeconfig, context }),
            (None, Some(true)) => Some(KubeAccess::Eks),
            _ => None,
        };
        let opts = VerifyOptions {
            addresses,
            kubectl,
            events: on_event.map(sink),
            cancel: c.cancel.clone(),
            timeout: c.limit,
            kubernetes: access,
            probe_pod_deadline,
            ..Default::default()
        }
        .with_probe(probe_address, probe_port, Some(&c.plan));
        // None: as every surface defaults it (on when the plan has [sample]); False: off.
        let opts = if kubernetes == Some(false) { opts } else { opts.with_kubernetes_default(Some(&c.plan)) };
        dispatch(
            py,
            blocking,
            async move { workflow::verify(&c.aws, Target::Plan(&c.plan), &opts).await.map(|r| json(&r)) },
        )
    }

    /// The EKS token for `cluster` as the ExecCredential JSON `aws eks get-token`
    /// prints, made with the client's credentials (blocking: it signs locally).
    fn eks_token(&self, py: Python<'_>, cluster: String) -> PyResult<String> {
        let aws = self.aws.clone();
        let t = py.detach(|| get_runtime().block_on(aws.eks_token(&cluster))).map_err(|e| to_pyerr(&e))?;
        Ok(json(&eks6::k8s::ExecCredential::new(&t, None)))
    }

    /// The live pre-flight (`eks6 plan --live`): an awaitable, or with `blocking` the
    /// `PlanReport` JSON. Events are not sent (it only reads).
    #[pyo3(signature = (plan, on_event=None, cancel=None, timeout=None, blocking=false))]
    fn preflight<'py>(
        &self,
        py: Python<'py>,
        plan: &NativePlan,
        on_event: Option<Py<PyAny>>,
        cancel: Option<&Cancel>,
        timeout: Option<f64>,
        blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        drop(on_event);
        let c = self.call(plan, cancel, timeout)?;
        let opts = PreflightOptions { cancel: c.cancel.clone(), timeout: c.limit, today: None };
        dispatch(py, blocking, async move { workflow::preflight(&c.aws, &c.plan, &opts).await.map(|r| json(&r)) })
    }
}

impl NativeClient {
    fn call(&self, plan: &NativePlan, cancel: Option<&Cancel>, timeout: Option<f64>) -> PyResult<Call> {
        Ok(Call {
            aws: self.aws.clone(),
            plan: plan.inner.clone(),
            cancel: cancel.map(|c| c.inner.clone()).unwrap_or_default(),
            limit: limit_of(timeout)?,
        })
    }
}

/// The step graph of `up` or `down` and the usual duration of every kind of wait, as
/// JSON (`eks6.step_graph` parses it).
#[pyfunction(name = "_step_graph")]
pub fn step_graph(workflow: &str) -> PyResult<String> {
    eks6::workflow::graph_json(workflow).map_err(|e| to_pyerr(&e))
}

/// An HTTP GET over IPv6 only (what `curl -g -6` does): an awaitable, or with `blocking`
/// the `ProbeAnswer` JSON.
#[pyfunction(name = "_probe")]
#[pyo3(signature = (target, port=80, path="/", connect_timeout=5.0, timeout=10.0, blocking=false))]
pub fn probe<'py>(
    py: Python<'py>,
    target: String,
    port: u16,
    path: &str,
    connect_timeout: f64,
    timeout: f64,
    blocking: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let secs = |t: f64, what: &str| positive_seconds(t, what).map_err(|e: ArgumentError| to_pyerr(&e));
    let opts = ProbeOptions {
        port,
        path: path.into(),
        connect_timeout: secs(connect_timeout, "connect_timeout")?,
        total_timeout: secs(timeout, "timeout")?,
        ..Default::default()
    };
    dispatch(py, blocking, async move { eks6::probe::probe(&target, &opts).await.map(|a| json(&a)) })
}
