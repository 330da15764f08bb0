package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/embed"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	logsapi "k8s.io/component-base/logs/api/v1"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	apiserveroptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	kcm "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	kcmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	scheduleroptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"
)

func init() {
	// Three servers in one process would each reapply the process-wide logging
	// configuration (k8s.io/kubernetes cmd/kube-apiserver/app/testing/testserver.go does
	// the same).
	logsapi.ReapplyHandling = logsapi.ReapplyHandlingIgnoreUnchanged
}

// startEtcd runs an embedded etcd on [::1] and returns its client URL.
func startEtcd(ctx context.Context, dir string) (string, func(), error) {
	clientPort, err := freePort()
	if err != nil {
		return "", nil, err
	}
	peerPort, err := freePort()
	if err != nil {
		return "", nil, err
	}
	cfg := embed.NewConfig()
	cfg.Name = "eks6"
	cfg.Dir = dir
	cfg.UnsafeNoFsync = true
	cfg.LogLevel = "error"
	peer := url.URL{Scheme: "http", Host: "[::1]:" + strconv.Itoa(peerPort)}
	client := url.URL{Scheme: "http", Host: "[::1]:" + strconv.Itoa(clientPort)}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return "", nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return "", nil, fmt.Errorf("etcd did not start within 60 s")
	case <-ctx.Done():
		e.Close()
		return "", nil, ctx.Err()
	}
	return client.String(), e.Close, nil
}

// parse fills a component's named flag sets from arguments, as its command would.
func parse(sets map[string]*pflag.FlagSet, order []string, args []string) error {
	fs := pflag.NewFlagSet("component", pflag.ContinueOnError)
	for _, name := range order {
		fs.AddFlagSet(sets[name])
	}
	return fs.Parse(args)
}

// startAPIServer runs kube-apiserver in this process, as its command's Run does (without
// the process-wide signal handler the command installs, which only one server may).
func startAPIServer(ctx context.Context, s settings, p *pki, etcd string, port int, hookConfig string) error {
	o := apiserveroptions.NewServerRunOptions()
	nfs := o.Flags()
	args := []string{
		"--etcd-servers=" + etcd,
		"--bind-address=::1",
		"--advertise-address=::1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + p.serverCert,
		"--tls-private-key-file=" + p.serverKey,
		"--client-ca-file=" + p.caFile,
		"--service-cluster-ip-range=" + s.serviceCIDR,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + p.saPub,
		"--service-account-signing-key-file=" + p.saKey,
		"--authorization-mode=RBAC",
		"--authentication-token-webhook-config-file=" + hookConfig,
		"--authentication-token-webhook-version=v1",
		"--authentication-token-webhook-cache-ttl=1s",
		// ::1 may not be an Endpoints address; the `kubernetes` Service is not needed.
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		"--cert-dir=" + filepath.Join(s.dir, "apiserver-certs"),
	}
	if err := parse(nfs.FlagSets, nfs.Order, args); err != nil {
		return err
	}
	if err := o.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	rest.SetDefaultWarningHandler(rest.NoWarnings{})
	completed, err := o.Complete(ctx)
	if err != nil {
		return err
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return fmt.Errorf("%v", errs)
	}
	config, err := apiserver.NewConfig(completed)
	if err != nil {
		return err
	}
	full, err := config.Complete()
	if err != nil {
		return err
	}
	server, err := apiserver.CreateServerChain(full)
	if err != nil {
		return err
	}
	prepared, err := server.PrepareRun()
	if err != nil {
		return err
	}
	go func() {
		if err := prepared.Run(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "controlplane: kube-apiserver stopped: %v\n", err)
			os.Exit(1)
		}
	}()
	return nil
}

// waitReady waits for /readyz and the default namespace, and returns an admin client.
func waitReady(ctx context.Context, kubeconfig string) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	// The harness plays every kubelet: client-go's default of 5 requests a second would
	// take hours for the thousands of pods of the scale bench.
	cfg.QPS, cfg.Burst = clientQPS, 2*clientQPS
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(90 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) == "ok" {
			if _, err = client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err == nil {
				return client, nil
			}
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("not ready within 90 s: %v", last)
}

// startControllerManager runs kube-controller-manager in this process: what turns a
// Deployment into pods, makes service accounts, and finishes deleting namespaces.
func startControllerManager(ctx context.Context, s settings, p *pki, kubeconfig string) error {
	o, err := kcmoptions.NewKubeControllerManagerOptions()
	if err != nil {
		return err
	}
	nfs := o.Flags(kcm.KnownControllers(), kcm.ControllersDisabledByDefault(), kcm.ControllerAliases())
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=false",
		"--root-ca-file=" + p.caFile,
		"--service-account-private-key-file=" + p.saKey,
		"--service-cluster-ip-range=" + s.serviceCIDR,
		"--allocate-node-cidrs=false",
		"--concurrent-deployment-syncs=5",
		"--kube-api-qps=" + strconv.Itoa(clientQPS),
		"--kube-api-burst=" + strconv.Itoa(2*clientQPS),
		"--concurrent-replicaset-syncs=5",
		// A Service's endpoint slices are recomputed from all its pods at each pod change;
		// with 30,000 sample pods starting (the scale bench) that is quadratic. Batched a
		// second, as large clusters do; nothing in the tests reads them.
		"--endpointslice-updates-batch-period=1s",
		"--node-monitor-grace-period=40s",
		// Not the legacy Endpoints controller: deprecated since Kubernetes 1.33, read by
		// nothing here (kube-proxy and CoreDNS read EndpointSlices), and with the scale
		// bench's 30,000 pods behind one Service it took a fifth of both cores (a CPU
		// profile: RepackSubsets).
		"--controllers=*,-endpoints-controller,-service-lb-controller,-node-route-controller,-cloud-node-lifecycle-controller,-persistentvolume-binder-controller,-persistentvolume-attach-detach-controller,-persistentvolume-expander-controller",
	}
	if err := parse(nfs.FlagSets, nfs.Order, args); err != nil {
		return err
	}
	if err := o.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	c, err := o.Config(ctx, kcm.KnownControllers(), kcm.ControllersDisabledByDefault(), kcm.ControllerAliases())
	if err != nil {
		return err
	}
	go func() {
		if err := kcm.Run(ctx, c.Complete()); err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "controlplane: kube-controller-manager stopped: %v\n", err)
			os.Exit(1)
		}
	}()
	return nil
}

// clientQPS is the request rate the controller manager, the scheduler and the harness
// may use (their defaults, 20, 50 and 5 a second, would take most of an hour to place
// and run the 30,000 pods of the 1,000-node bench).
const clientQPS = 1000

// startScheduler runs kube-scheduler in this process (Setup and Run, as its command does
// without the signal handler).
func startScheduler(ctx context.Context, s settings, kubeconfig string) error {
	config := filepath.Join(s.dir, "scheduler.yaml")
	// PodTopologySpread's default constraints (spread a ReplicaSet's pods by zone and
	// host, ScheduleAnyway) only score, never filter; they count every matching pod on
	// every node for each pod placed, which with the 1,000-node bench's 30,000 pods of one
	// ReplicaSet took most of both cores (a CPU profile: countPodsMatchSelector). Turned
	// off here; pods still spread, by the default scoring of requests (a pod without
	// requests counts as 100m CPU and 200 MB).
	text := fmt.Sprintf(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: %q
  qps: %d
  burst: %d
leaderElection:
  leaderElect: false
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: PodTopologySpread
    args:
      defaultingType: List
`, kubeconfig, clientQPS, 2*clientQPS)
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		return err
	}
	o := scheduleroptions.NewOptions()
	if err := parse(o.Flags.FlagSets, o.Flags.Order, []string{"--config=" + config, "--secure-port=0"}); err != nil {
		return err
	}
	if err := o.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	cc, sched, err := scheduler.Setup(ctx, o)
	if err != nil {
		return err
	}
	go func() {
		if err := scheduler.Run(ctx, cc, sched); err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "controlplane: kube-scheduler stopped: %v\n", err)
			os.Exit(1)
		}
	}()
	return nil
}
