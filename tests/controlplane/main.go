// Command controlplane is the eks6 tests' Kubernetes control plane: etcd (embedded),
// kube-apiserver, kube-controller-manager and kube-scheduler of one k8s.io/kubernetes
// release, in one process, on [::1] with an IPv6 service range; and beside them the
// parts of EKS and of the nodes the tests need, played as kwok would play them
// (README.md in this folder says exactly what):
//
//   - the token webhook the API server asks, which makes the checks aws-iam-authenticator
//     makes (pkg/token/token.go), asks the emulator's STS who signed the token, and maps
//     that identity through the cluster's EKS access entries;
//   - the kubelets of the nodegroup's EC2 instances (Node objects, pod status, the probe
//     pod's one HTTP request), and EKS's add-on manager (aws-node, kube-proxy, CoreDNS).
//
// It prints one line on stdout when the API server answers:
//
//	EKS6_CONTROL_PLANE={"endpoint": "https://[::1]:PORT", "ca": "<base64 PEM>", ...}
//
// and runs until stdin closes (or SIGTERM).
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

type settings struct {
	dir          string
	awsEndpoint  string
	account      string
	region       string
	cluster      string
	serviceCIDR  string
	nginxPort    int
	kubeletEvery time.Duration
	// How long a kubelet takes to start a pod outside kube-system (pull, start, Ready):
	// zero by default; the time-based bench sets it from eks6's table of usual
	// durations (sample-rollout), scaled.
	podStartDelay time.Duration
	pprof         string
}

func main() {
	var s settings
	flag.StringVar(&s.dir, "dir", "", "state directory (certificates, etcd data); made if missing")
	flag.StringVar(&s.awsEndpoint, "aws-endpoint", "", "the AWS emulator (STS for the webhook, EC2 and EKS for the kubelets)")
	flag.StringVar(&s.account, "account", "", "the AWS account of the cluster")
	flag.StringVar(&s.region, "region", "us-west-2", "the AWS region of the cluster")
	flag.StringVar(&s.cluster, "cluster", "", "the EKS cluster this control plane stands for")
	flag.StringVar(&s.serviceCIDR, "service-cidr", "fd00:10:96::/108", "the IPv6 service range")
	flag.IntVar(&s.nginxPort, "nginx-port", 0, "nginx on [::1] that the probe pod's requests reach")
	flag.DurationVar(&s.kubeletEvery, "kubelet-interval", 200*time.Millisecond, "how often the kubelets look")
	flag.DurationVar(&s.podStartDelay, "pod-start-delay", 0, "how long after it first appears a pod outside kube-system is Running and Ready")
	flag.StringVar(&s.pprof, "pprof", os.Getenv("EKS6_CONTROLPLANE_PPROF"), "serve Go's net/http/pprof on this address (say [::1]:6060), to see where the process's CPU goes")
	klogFlags := flag.NewFlagSet("klog", flag.ExitOnError)
	klog.InitFlags(klogFlags)
	_ = klogFlags.Set("v", "0")
	_ = klogFlags.Set("logtostderr", "true")
	flag.Parse()
	if s.dir == "" || s.cluster == "" {
		fmt.Fprintln(os.Stderr, "controlplane: --dir and --cluster are required")
		os.Exit(2)
	}
	// Garbage collection took a sixth to a third of the CPU with 30,000 pods in the
	// API server's and the controllers' caches; memory is not what is short here.
	debug.SetGCPercent(400)
	if s.pprof != "" {
		go func() { fmt.Fprintln(os.Stderr, http.ListenAndServe(s.pprof, nil)) }()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		cancel()
	}()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := run(ctx, s); err != nil {
		fmt.Fprintf(os.Stderr, "controlplane: %v\n", err)
		os.Exit(1)
	}
}

// freePort asks the kernel for a free port on [::1].
func freePort() (int, error) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func run(ctx context.Context, s settings) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	pki, err := makePKI(filepath.Join(s.dir, "pki"))
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	etcdURL, stopEtcd, err := startEtcd(ctx, filepath.Join(s.dir, "etcd"))
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer stopEtcd()
	hook, err := startWebhook(ctx, s)
	if err != nil {
		return fmt.Errorf("token webhook: %w", err)
	}
	apiPort, err := freePort()
	if err != nil {
		return err
	}
	endpoint := fmt.Sprintf("https://[::1]:%d", apiPort)
	admin, err := pki.kubeconfig(filepath.Join(s.dir, "admin.kubeconfig"), endpoint)
	if err != nil {
		return err
	}
	if err := startAPIServer(ctx, s, pki, etcdURL, apiPort, hook); err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	client, err := waitReady(ctx, admin)
	if err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	if err := startControllerManager(ctx, s, pki, admin); err != nil {
		return fmt.Errorf("kube-controller-manager: %w", err)
	}
	if err := startScheduler(ctx, s, admin); err != nil {
		return fmt.Errorf("kube-scheduler: %w", err)
	}
	if s.awsEndpoint != "" && s.account != "" {
		go runKubelets(ctx, s, client)
		go runAddonManager(ctx, s, client)
	}
	ready, _ := json.Marshal(map[string]string{
		"endpoint":         endpoint,
		"ca":               base64.StdEncoding.EncodeToString(pki.caPEM),
		"admin_kubeconfig": admin,
		"service_cidr":     s.serviceCIDR,
	})
	fmt.Printf("EKS6_CONTROL_PLANE=%s\n", ready)
	<-ctx.Done()
	// Give the components a moment to stop their loops before etcd goes.
	time.Sleep(200 * time.Millisecond)
	return nil
}
