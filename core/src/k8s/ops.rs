//! What the walkthrough does with `kubectl`, as API calls: read nodes, pods, services and
//! the add-ons' workloads; apply the sample; delete its namespace; run the probe pod.
//! Lists are paged (500 a page), so a call count grows with pages, not objects.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{Event as KubeEvent, Namespace, Node, Pod, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::client::{Kube, KubeError};
use crate::plan::{SAMPLE_APP_LABEL, SAMPLE_DEPLOYMENT, SAMPLE_SERVICE, SamplePlan};

/// The field manager of eks6's server-side applies.
pub const FIELD_MANAGER: &str = "eks6";
/// The label eks6 puts on what it applies (`app.kubernetes.io/managed-by=eks6`).
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "eks6");
/// The annotation naming the plan (`eks6:plan-id`) of a namespace eks6 made.
pub const PLAN_ANNOTATION: &str = "eks6.io/plan-id";
/// The probe pod's label (`app.kubernetes.io/name=eks6-probe`).
pub const PROBE_LABEL: (&str, &str) = ("app.kubernetes.io/name", "eks6-probe");
/// The probe pod's image: BusyBox from Amazon ECR Public (its `wget` speaks IPv6).
pub const PROBE_IMAGE: &str = "public.ecr.aws/docker/library/busybox:1.36";
/// At most this many pods are probed by one probe pod: its results travel in the
/// termination message, which Kubernetes cuts at 4096 bytes (a line is up to ~60).
pub const MAX_PROBE_TARGETS: usize = 50;
/// Seconds one target may take (`wget -T`).
const PROBE_TARGET_SECS: u64 = 3;

/// How long the probe pod may run once started (`activeDeadlineSeconds`): every target
/// timing out, and some room.
pub fn probe_active_deadline(targets: usize) -> u64 {
    20 + PROBE_TARGET_SECS * targets.min(MAX_PROBE_TARGETS) as u64
}

/// Deletes the probe pod when dropped (an error, a cancel, a time-out), unless
/// [`delete`](Self::delete) did it already.
pub struct ProbePodGuard {
    api: Option<Api<Pod>>,
    name: String,
}

impl std::fmt::Debug for ProbePodGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbePodGuard").field("name", &self.name).field("armed", &self.api.is_some()).finish()
    }
}

impl ProbePodGuard {
    /// The pod's name (the API server's pick).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Deletes the pod now; gone already is fine.
    pub async fn delete(mut self) -> Result<(), kube::Error> {
        let Some(api) = self.api.take() else { return Ok(()) };
        match api.delete(&self.name, &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await {
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            r => r.map(drop),
        }
    }
}

impl Drop for ProbePodGuard {
    fn drop(&mut self) {
        if let (Some(api), Ok(rt)) = (self.api.take(), tokio::runtime::Handle::try_current()) {
            let name = std::mem::take(&mut self.name);
            rt.spawn(async move {
                let _ = api.delete(&name, &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await;
            });
        }
    }
}

const PAGE: u32 = 500;

/// A node as `kubectl get nodes -o wide` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    /// Name.
    pub name: String,
    /// The `Ready` condition is `True`.
    pub ready: bool,
    /// `InternalIP` addresses.
    pub internal_ips: Vec<String>,
    /// `spec.providerID` (`aws:///us-west-2a/i-0123...`).
    pub provider_id: Option<String>,
    /// The EC2 instance id, from the provider id.
    pub instance_id: Option<String>,
    /// The kubelet version.
    pub version: String,
}

/// A pod as `kubectl get pods -o wide` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodView {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its node (`spec.nodeName`), once bound.
    pub node: Option<String>,
    /// `status.phase`.
    pub phase: String,
    /// The `Ready` condition is `True`.
    pub ready: bool,
    /// `status.podIPs`.
    pub ips: Vec<String>,
    /// Why a container waits (`ErrImagePull`), if one does.
    pub waiting: Option<String>,
}

impl Kube {
    async fn list_all<K>(&self, api: Api<K>, what: &str, selector: Option<&str>) -> Result<Vec<K>, KubeError>
    where
        K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    {
        let mut out = Vec::new();
        let mut lp = ListParams::default().limit(PAGE);
        if let Some(s) = selector {
            lp = lp.labels(s);
        }
        loop {
            self.count_call();
            let page = api.list(&lp).await.map_err(|e| self.error(&format!("list {what}"), e))?;
            out.extend(page.items);
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(c) => lp = lp.continue_token(&c),
                None => return Ok(out),
            }
        }
    }

    async fn get_opt<K>(&self, api: Api<K>, what: &str, name: &str) -> Result<Option<K>, KubeError>
    where
        K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    {
        self.count_call();
        api.get_opt(name).await.map_err(|e| self.error(&format!("get {what} {name}"), e))
    }

    /// Every node.
    pub async fn nodes(&self) -> Result<Vec<NodeView>, KubeError> {
        let nodes: Vec<Node> = self.list_all(Api::all(self.client().await?), "nodes", None).await?;
        Ok(nodes.iter().map(node_view).collect())
    }

    /// The pods of a namespace that match a label selector.
    pub async fn pods(&self, namespace: &str, selector: Option<&str>) -> Result<Vec<PodView>, KubeError> {
        let pods: Vec<Pod> = self.list_all(Api::namespaced(self.client().await?, namespace), "pods", selector).await?;
        Ok(pods.iter().map(pod_view).collect())
    }

    /// The cluster IPs of a Service, or `None` when it does not exist.
    pub async fn service_ips(&self, namespace: &str, name: &str) -> Result<Option<Vec<String>>, KubeError> {
        let svc: Option<Service> =
            self.get_opt(Api::namespaced(self.client().await?, namespace), "service", name).await?;
        Ok(svc.map(|s| {
            let spec = s.spec.unwrap_or_default();
            spec.cluster_ips.filter(|v| !v.is_empty()).unwrap_or_else(|| spec.cluster_ip.into_iter().collect())
        }))
    }

    /// A DaemonSet, or `None`.
    pub async fn daemonset(&self, namespace: &str, name: &str) -> Result<Option<DaemonSet>, KubeError> {
        self.get_opt(Api::namespaced(self.client().await?, namespace), "daemonset", name).await
    }

    /// A Deployment, or `None`.
    pub async fn deployment(&self, namespace: &str, name: &str) -> Result<Option<Deployment>, KubeError> {
        self.get_opt(Api::namespaced(self.client().await?, namespace), "deployment", name).await
    }

    /// The namespace's `eks6.io/plan-id`: `Some(None)` for a namespace eks6 did not make,
    /// `None` when there is no such namespace.
    pub async fn namespace_owner(&self, namespace: &str) -> Result<Option<Option<String>>, KubeError> {
        let ns: Option<Namespace> = self.get_opt(Api::all(self.client().await?), "namespace", namespace).await?;
        Ok(ns.map(|n| n.metadata.annotations.and_then(|a| a.get(PLAN_ANNOTATION).cloned())))
    }

    /// The namespaces eks6 made for a plan (by its annotation).
    pub async fn plan_namespaces(&self, plan_id: &str) -> Result<Vec<String>, KubeError> {
        let sel = format!("{}={}", MANAGED_BY.0, MANAGED_BY.1);
        let all: Vec<Namespace> = self.list_all(Api::all(self.client().await?), "namespaces", Some(&sel)).await?;
        Ok(all
            .into_iter()
            .filter(|n| {
                n.metadata.annotations.as_ref().and_then(|a| a.get(PLAN_ANNOTATION)).map(String::as_str)
                    == Some(plan_id)
            })
            .filter_map(|n| n.metadata.name)
            .collect())
    }

    /// Server-side applies the sample (namespace, Deployment, Service) with field manager
    /// `eks6`; true when any object changed (a second apply of the same plan changes
    /// nothing: its resource versions stay).
    pub async fn apply_sample(&self, sample: &SamplePlan, plan_id: &str) -> Result<bool, KubeError> {
        let client = self.client().await?;
        let ns = &sample.namespace;
        let pp = PatchParams::apply(FIELD_MANAGER).force();
        let mut changed = false;
        for (kind, name, body) in sample_objects(sample, plan_id) {
            changed |= match kind {
                "Namespace" => self.apply::<Namespace>(Api::all(client.clone()), kind, &name, &body, &pp).await?,
                "Deployment" => {
                    self.apply::<Deployment>(Api::namespaced(client.clone(), ns), kind, &name, &body, &pp).await?
                }
                _ => self.apply::<Service>(Api::namespaced(client.clone(), ns), kind, &name, &body, &pp).await?,
            };
        }
        Ok(changed)
    }

    /// One server-side apply; true when the object changed (its resource version moved,
    /// or it is new).
    async fn apply<K>(
        &self,
        api: Api<K>,
        kind: &str,
        name: &str,
        body: &serde_json::Value,
        pp: &PatchParams,
    ) -> Result<bool, KubeError>
    where
        K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    {
        let before = self.get_opt(api.clone(), kind, name).await?.map(|o| o.meta().resource_version.clone());
        self.count_call();
        let after = api
            .patch(name, pp, &Patch::Apply(body))
            .await
            .map_err(|e| self.error(&format!("apply {kind} {name}"), e))?;
        Ok(before != Some(after.meta().resource_version.clone()))
    }

    /// How far the sample's rollout is: (ready, wanted) replicas, and the pods that
    /// are not ready with why.
    pub async fn sample_rollout(&self, sample: &SamplePlan) -> Result<(u32, u32, Vec<PodView>), KubeError> {
        let d = self.deployment(&sample.namespace, SAMPLE_DEPLOYMENT).await?;
        let wanted = d.as_ref().and_then(|d| d.spec.as_ref()?.replicas).unwrap_or(0).max(0) as u32;
        let status = d.as_ref().and_then(|d| d.status.clone()).unwrap_or_default();
        let current = d.as_ref().is_some_and(|d| status.observed_generation >= d.metadata.generation);
        let ready =
            if current { status.updated_replicas.unwrap_or(0).min(status.ready_replicas.unwrap_or(0)) } else { 0 };
        let pods = self.pods(&sample.namespace, Some(&format!("app={SAMPLE_APP_LABEL}"))).await?;
        Ok((ready.max(0) as u32, wanted, pods.into_iter().filter(|p| !p.ready).collect()))
    }

    /// Deletes a namespace (foreground: its objects first); false when it was not there.
    pub async fn delete_namespace(&self, namespace: &str) -> Result<bool, KubeError> {
        let api: Api<Namespace> = Api::all(self.client().await?);
        self.count_call();
        match api.delete(namespace, &DeleteParams::foreground()).await {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = self.error(&format!("delete namespace {namespace}"), e);
                if e.is_not_found() { Ok(false) } else { Err(e) }
            }
        }
    }

    /// The events of an object, oldest first, as `reason: message` lines.
    pub async fn events_of(&self, namespace: &str, name: &str) -> Result<Vec<String>, KubeError> {
        let sel = format!("involvedObject.name={name}");
        let api: Api<KubeEvent> = Api::namespaced(self.client().await?, namespace);
        self.count_call();
        let mut events = api
            .list(&ListParams::default().fields(&sel).limit(PAGE))
            .await
            .map_err(|e| self.error(&format!("list events of {name}"), e))?
            .items;
        events.sort_by_key(|e| e.last_timestamp.clone().map(|t| t.0));
        Ok(events
            .iter()
            .map(|e| {
                format!("{}: {}", e.reason.as_deref().unwrap_or("Event"), e.message.as_deref().unwrap_or("").trim())
            })
            .collect())
    }

    /// Creates the probe pod: it GETs `http://[target]:port/` for each target (at most
    /// [`MAX_PROBE_TARGETS`]) and writes one line per target (`<ip> ok <status line>` or
    /// `<ip> fail <why>`) as its termination message. The guard deletes it.
    pub async fn create_probe_pod(
        &self,
        namespace: &str,
        targets: &[String],
        port: u16,
    ) -> Result<ProbePodGuard, KubeError> {
        let api: Api<Pod> = Api::namespaced(self.client().await?, namespace);
        let targets = &targets[..targets.len().min(MAX_PROBE_TARGETS)];
        let pod: Pod = serde_json::from_value(probe_pod(targets, port)).expect("a valid pod");
        self.count_call();
        let made = api
            .create(&PostParams { field_manager: Some(FIELD_MANAGER.into()), ..Default::default() }, &pod)
            .await
            .map_err(|e| self.error("create the probe pod", e))?;
        Ok(ProbePodGuard { api: Some(api), name: made.metadata.name.unwrap_or_default() })
    }

    /// A pod: its view and its first container's termination message, or `None`.
    pub async fn pod_result(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<(PodView, Option<String>)>, KubeError> {
        let pod: Option<Pod> = self.get_opt(Api::namespaced(self.client().await?, namespace), "pod", name).await?;
        Ok(pod.map(|p| {
            let message = p.status.as_ref().and_then(|s| {
                s.container_statuses.as_ref()?.first()?.state.as_ref()?.terminated.as_ref()?.message.clone()
            });
            (pod_view(&p), message)
        }))
    }
}

/// The node's instance id from `aws:///<zone>/<instance id>`.
pub fn instance_of_provider_id(provider_id: &str) -> Option<&str> {
    let id = provider_id.strip_prefix("aws://")?.rsplit('/').next()?;
    id.starts_with("i-").then_some(id)
}

fn node_view(n: &Node) -> NodeView {
    let status = n.status.clone().unwrap_or_default();
    let provider_id = n.spec.as_ref().and_then(|s| s.provider_id.clone());
    NodeView {
        name: n.metadata.name.clone().unwrap_or_default(),
        ready: status.conditions.iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True"),
        internal_ips: status
            .addresses
            .iter()
            .flatten()
            .filter(|a| a.type_ == "InternalIP")
            .map(|a| a.address.clone())
            .collect(),
        instance_id: provider_id.as_deref().and_then(instance_of_provider_id).map(str::to_string),
        provider_id,
        version: status.node_info.map(|i| i.kubelet_version).unwrap_or_default(),
    }
}

fn pod_view(p: &Pod) -> PodView {
    let status = p.status.clone().unwrap_or_default();
    let mut ips: Vec<String> = status.pod_ips.iter().flatten().map(|i| i.ip.clone()).collect();
    if ips.is_empty() {
        ips.extend(status.pod_ip.clone().filter(|i| !i.is_empty()));
    }
    PodView {
        namespace: p.metadata.namespace.clone().unwrap_or_default(),
        name: p.metadata.name.clone().unwrap_or_default(),
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
        phase: status.phase.clone().unwrap_or_else(|| "Unknown".into()),
        ready: status.conditions.iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True"),
        ips,
        waiting: status
            .container_statuses
            .iter()
            .flatten()
            .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone()),
    }
}

/// The sample's objects, as the EKS user guide's `sample-service.yml` has them (the
/// `kubernetes.io/os: linux` node affinity kept), each labelled as eks6's.
fn sample_objects(sample: &SamplePlan, plan_id: &str) -> Vec<(&'static str, String, serde_json::Value)> {
    let ns = sample.namespace.as_str();
    let managed: BTreeMap<&str, &str> = [MANAGED_BY].into_iter().collect();
    let mut app_labels = managed.clone();
    app_labels.insert("app", SAMPLE_APP_LABEL);
    vec![
        (
            "Namespace",
            ns.to_string(),
            json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": { "name": ns, "labels": managed, "annotations": { PLAN_ANNOTATION: plan_id } },
            }),
        ),
        (
            "Deployment",
            SAMPLE_DEPLOYMENT.to_string(),
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": { "name": SAMPLE_DEPLOYMENT, "namespace": ns, "labels": app_labels },
                "spec": {
                    "replicas": sample.replicas,
                    "selector": { "matchLabels": { "app": SAMPLE_APP_LABEL } },
                    "template": {
                        "metadata": { "labels": { "app": SAMPLE_APP_LABEL } },
                        "spec": {
                            "affinity": { "nodeAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [{ "matchExpressions": [{
                                    "key": "kubernetes.io/os", "operator": "In", "values": ["linux"],
                                }] }],
                            } } },
                            "containers": [{
                                "name": "nginx",
                                "image": sample.image,
                                "ports": [{ "name": "http", "containerPort": 80 }],
                                "imagePullPolicy": "IfNotPresent",
                            }],
                            "nodeSelector": { "kubernetes.io/os": "linux" },
                        },
                    },
                },
            }),
        ),
        (
            "Service",
            SAMPLE_SERVICE.to_string(),
            json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": { "name": SAMPLE_SERVICE, "namespace": ns, "labels": app_labels },
                "spec": {
                    "selector": { "app": SAMPLE_APP_LABEL },
                    "ports": [{ "protocol": "TCP", "port": 80, "targetPort": 80 }],
                },
            }),
        ),
    ]
}

/// The probe pod: BusyBox `wget` to each target, one result line each in the
/// termination message; never restarted, stopped at [`probe_active_deadline`].
fn probe_pod(targets: &[String], port: u16) -> serde_json::Value {
    const SCRIPT: &str = r#"rc=0
for t in $EKS6_PROBE_TARGETS; do
  if out=$(wget -S -q -O /dev/null -T 3 "http://[$t]:$EKS6_PROBE_PORT/" 2>&1); then
    echo "$t ok $(echo "$out" | grep -m1 'HTTP/' | sed 's/^ *//')"
  else
    echo "$t fail $(echo "$out" | tail -n1)"; rc=1
  fi
done > /dev/termination-log
exit $rc"#;
    json!({
        "apiVersion": "v1", "kind": "Pod",
        // The API server picks the name (`eks6-probe-` and a suffix): one per run, no clash.
        "metadata": { "generateName": "eks6-probe-", "labels": { PROBE_LABEL.0: PROBE_LABEL.1, MANAGED_BY.0: MANAGED_BY.1 } },
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": probe_active_deadline(targets.len()),
            "terminationGracePeriodSeconds": 0,
            "nodeSelector": { "kubernetes.io/os": "linux" },
            "containers": [{
                "name": "probe",
                "image": PROBE_IMAGE,
                "command": ["sh", "-c", SCRIPT],
                "env": [
                    { "name": "EKS6_PROBE_TARGETS", "value": targets.join(" ") },
                    { "name": "EKS6_PROBE_PORT", "value": port.to_string() },
                ],
                "terminationMessagePolicy": "File",
            }],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_ids() {
        assert_eq!(instance_of_provider_id("aws:///us-west-2a/i-0abc"), Some("i-0abc"));
        assert_eq!(instance_of_provider_id("gce://p/z/n"), None);
        assert_eq!(instance_of_provider_id("aws:///us-west-2a/"), None);
    }

    #[test]
    fn objects_parse_as_their_types() {
        let objs = sample_objects(&SamplePlan::default(), "abc");
        let _: Namespace = serde_json::from_value(objs[0].2.clone()).unwrap();
        let d: Deployment = serde_json::from_value(objs[1].2.clone()).unwrap();
        assert_eq!(d.spec.unwrap().replicas, Some(3));
        let _: Service = serde_json::from_value(objs[2].2.clone()).unwrap();
        let _: Pod = serde_json::from_value(probe_pod(&["::1".into()], 80)).unwrap();
    }
}
