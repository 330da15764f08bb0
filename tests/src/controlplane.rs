//! A real Kubernetes control plane for one emulated EKS cluster: the Go program in
//! `tests/controlplane` (kube-apiserver, kube-controller-manager and kube-scheduler of
//! one k8s.io/kubernetes release with an embedded etcd, on `[::1]`, plus the documented
//! kubelet, add-on manager and token webhook harness), started on free ports and
//! registered with the emulator, so that `DescribeCluster` answers with its endpoint
//! and CA and eks6 reaches it exactly as it reaches EKS. Stopped and unregistered when
//! dropped.
//!
//! The binary is built by `make controlplane` into
//! `$CARGO_TARGET_DIR/eks6-controlplane/controlplane` (or `$EKS6_CONTROLPLANE`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;

use crate::emulator::{Emulator, repo_root};

/// A running control plane.
#[derive(Debug)]
pub struct ControlPlane {
    /// `https://[::1]:<port>`.
    pub endpoint: String,
    /// The CA, base64 of PEM (as `certificateAuthority.data`).
    pub ca: String,
    /// A kubeconfig with the harness's own admin certificate (not eks6's way in).
    pub admin_kubeconfig: PathBuf,
    /// The service range it was started with.
    pub service_cidr: String,
    emulator: String,
    key: (String, String, String),
    child: Mutex<Child>,
    stdin: Mutex<Option<ChildStdin>>,
    dir: PathBuf,
}

/// The service range a control plane gets unless a test names another (the Go
/// program's own default).
pub const SERVICE_CIDR: &str = "fd00:10:96::/108";

/// The control plane binary.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("EKS6_CONTROLPLANE") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"));
    target.join("eks6-controlplane/controlplane")
}

impl ControlPlane {
    /// Starts a control plane for `cluster` of `account` in `region` (the kubelets
    /// register the nodegroup's instances as nodes; the probe pod's requests go to nginx
    /// on `[::1]:nginx_port`), waits until its API answers, and registers it with the
    /// emulator.
    pub fn start(emulator: &Emulator, account: &str, region: &str, cluster: &str, nginx_port: u16) -> Self {
        Self::start_with(emulator, account, region, cluster, nginx_port, SERVICE_CIDR)
    }

    /// [`start`](Self::start) with a service range of the test's choosing.
    pub fn start_with(
        emulator: &Emulator,
        account: &str,
        region: &str,
        cluster: &str,
        nginx_port: u16,
        service_cidr: &str,
    ) -> Self {
        Self::launch(emulator, (account, region, cluster), nginx_port, service_cidr, &[])
    }

    /// [`start`](Self::start) on AWS's clock, for the emulator's time-based mode
    /// ([`Emulator::timed`]) at the same `scale`: the harness's kubelets start a pod
    /// outside kube-system the sample's usual rollout time after it appears
    /// ([`WaitKind::SampleRollout`](eks6::workflow::WaitKind::SampleRollout) × scale).
    /// Deleting a namespace stays at the real controller manager's pace (it comes back
    /// in whole seconds: half the pods' grace period plus one).
    pub fn timed(emulator: &Emulator, account: &str, region: &str, cluster: &str, nginx_port: u16, scale: f64) -> Self {
        let delay = eks6::workflow::WaitKind::SampleRollout.typical().mul_f64(scale);
        let flag = format!("--pod-start-delay={}ms", delay.as_millis());
        Self::launch(emulator, (account, region, cluster), nginx_port, SERVICE_CIDR, &[flag])
    }

    fn launch(
        emulator: &Emulator,
        (account, region, cluster): (&str, &str, &str),
        nginx_port: u16,
        service_cidr: &str,
        extra: &[String],
    ) -> Self {
        let bin = binary();
        assert!(bin.exists(), "the Kubernetes control plane {} is not built: run `make controlplane`", bin.display());
        let dir = std::env::temp_dir().join(format!("eks6-cp-{}-{account}-{cluster}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("make the control plane's directory");
        // Its components log a lot: into a file, named when a test fails.
        let log = std::fs::File::create(dir.join("controlplane.log")).expect("its log file");
        let mut child = Command::new(&bin)
            .args(["--dir", &dir.to_string_lossy(), "--cluster", cluster, "--account", account, "--region", region])
            .args(["--aws-endpoint", &emulator.endpoint, "--service-cidr", service_cidr])
            .args(["--nginx-port", &nginx_port.to_string()])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdin = child.stdin.take();
        let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        loop {
            line.clear();
            let n = out.read_line(&mut line).expect("read the control plane's output");
            if n == 0 {
                let log = std::fs::read_to_string(dir.join("controlplane.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                panic!(
                    "the control plane stopped before it announced itself; the end of its log:\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            if line.starts_with("EKS6_CONTROL_PLANE=") {
                break;
            }
        }
        // The rest of its stdout is drained, so it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let doc: serde_json::Value =
            serde_json::from_str(line.trim().trim_start_matches("EKS6_CONTROL_PLANE=")).expect("its JSON line");
        let s = |k: &str| doc[k].as_str().unwrap_or_else(|| panic!("no {k} in {doc}")).to_string();
        let cp = Self {
            endpoint: s("endpoint"),
            ca: s("ca"),
            admin_kubeconfig: PathBuf::from(s("admin_kubeconfig")),
            service_cidr: s("service_cidr"),
            emulator: emulator.endpoint.clone(),
            key: (account.into(), region.into(), cluster.into()),
            child: Mutex::new(child),
            stdin: Mutex::new(stdin),
            dir,
        };
        let body = serde_json::json!({
            "account": account, "region": region, "cluster": cluster,
            "endpoint": cp.endpoint, "certificateAuthority": cp.ca, "serviceIpv6Cidr": cp.service_cidr,
        });
        let (status, answer) = http(&cp.emulator, "POST", "/moto-api/eks6/control-planes", &body.to_string());
        assert_eq!(status, 200, "the emulator refused the control plane: {answer}");
        cp
    }

    /// A client with the harness's own admin certificate (`system:masters`), for
    /// setting up and checking from outside eks6; eks6 itself gets in only with its token.
    pub async fn admin(&self) -> kube::Client {
        let kc = kube::config::Kubeconfig::read_from(&self.admin_kubeconfig).expect("the admin kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.expect("its config");
        kube::Client::try_from(config).expect("an admin client")
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let (a, r, c) = &self.key;
        let body = serde_json::json!({ "account": a, "region": r, "cluster": c });
        let _ = std::panic::catch_unwind(|| {
            http(&self.emulator, "DELETE", "/moto-api/eks6/control-planes", &body.to_string())
        });
        // Closing stdin stops it; it exits within a second.
        drop(self.stdin.lock().unwrap_or_else(|e| e.into_inner()).take());
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.wait();
        if std::thread::panicking() {
            // A test failed: where to look, beside its panic message.
            let _ =
                writeln!(std::io::stderr(), "the control plane's log: {}", self.dir.join("controlplane.log").display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// One HTTP/1.1 request to the emulator (plain HTTP on 127.0.0.1): (status, body).
fn http(endpoint: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let host = endpoint.trim_start_matches("http://");
    let mut s = TcpStream::connect(host).expect("connect to the emulator");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    let status = answer.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}
