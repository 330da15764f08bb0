package main

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// What the kubelets of the nodegroup's instances would do, played as kwok plays it, and
// no more: register a Node per running instance (its IPv6 address as InternalIP, its
// providerID, Ready, a lease renewed), give each pod the scheduler bound to it an address
// from the /80 prefix EC2 delegated to the node's ENI (the VPC CNI's prefix delegation;
// the node's own address for host-network pods) and mark it Running and Ready, and run
// eks6's probe pod by making its HTTP requests for real (against nginx on [::1], which
// stands in for every sample pod) and writing its termination message.

const (
	probeLabel      = "app.kubernetes.io/name"
	probeLabelValue = "eks6-probe"
	probeTargets    = "EKS6_PROBE_TARGETS"
	probePort       = "EKS6_PROBE_PORT"
	prefixAnnot     = "eks6.test/ipv6-prefix"
)

// kubelets is the harness's state: the nodes it registered (refreshed by the node loop,
// read by the pod loop), and what it knows of each pod beyond the API's answer (when it
// first saw it, whether it removed it, the address it gave it while its cache has
// not caught up), so that two passes never give one address twice or start a pod twice.
type kubelets struct {
	s     settings
	c     *kubernetes.Clientset
	pods  corelisters.PodLister
	kick  chan struct{}
	mu    sync.Mutex
	nodes map[string]*corev1.Node
	seen  map[types.UID]time.Time
	given map[types.UID]string
	gone  map[types.UID]bool
	// When a started pod was last reported Ready again (see podPass).
	resynced map[types.UID]time.Time
}

// poke asks the pod loop for a pass soon (passes asked for while one runs coalesce).
func (k *kubelets) poke() {
	select {
	case k.kick <- struct{}{}:
	default:
	}
}

// note records when a pod was first seen (the clock of
// --pod-start-delay: a pod's own timestamps have whole seconds) and wakes the pod loop.
func (k *kubelets) note(obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	now := time.Now()
	k.mu.Lock()
	if _, ok := k.seen[p.UID]; !ok {
		k.seen[p.UID] = now
	}
	k.mu.Unlock()
	k.poke()
}

func (k *kubelets) forget(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	k.mu.Lock()
	delete(k.seen, p.UID)
	delete(k.given, p.UID)
	delete(k.gone, p.UID)
	delete(k.resynced, p.UID)
	k.mu.Unlock()
}

func runKubelets(ctx context.Context, s settings, c *kubernetes.Clientset) {
	factory := informers.NewSharedInformerFactory(c, 0)
	podInformer := factory.Core().V1().Pods()
	k := &kubelets{
		s: s, c: c, pods: podInformer.Lister(), kick: make(chan struct{}, 1),
		nodes: map[string]*corev1.Node{}, seen: map[types.UID]time.Time{},
		given: map[types.UID]string{}, gone: map[types.UID]bool{}, resynced: map[types.UID]time.Time{},
	}
	_, _ = podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    k.note,
		UpdateFunc: func(_, obj any) { k.note(obj) },
		DeleteFunc: k.forget,
	})
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	go k.nodeLoop(ctx)
	// The pod loop: at every pod event (coalesced), at the next pod due to start or stop,
	// and on the interval.
	tick := time.NewTicker(s.kubeletEvery)
	defer tick.Stop()
	due := time.NewTimer(s.kubeletEvery)
	defer due.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-k.kick:
		case <-due.C:
		}
		next, scan, err := k.podPass(ctx)
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "controlplane: kubelet: %v\n", err)
		}
		if !due.Stop() {
			select {
			case <-due.C:
			default:
			}
		}
		wait := s.kubeletEvery
		if !next.IsZero() {
			wait = min(max(time.Until(next), time.Millisecond), s.kubeletEvery)
		}
		due.Reset(wait)
		// Pod events come without pause while thousands of pods start, and a pass reads
		// every pod of the cache: at least twice that reading's time between passes
		// (at most the interval), so the harness's scans never take more than a third
		// of a core. (The time of its writes is not counted: that is the API server's.)
		if rest := min(2*scan, s.kubeletEvery); rest > time.Millisecond {
			select {
			case <-ctx.Done():
				return
			case <-time.After(rest):
			}
		}
	}
}

// nodeLoop registers a node per running instance on the interval, apart from the pods
// (the instances come from EC2, which at 1,000 nodes answers in seconds); leaseLoop
// keeps the registered nodes alive.
func (k *kubelets) nodeLoop(ctx context.Context) {
	go k.leaseLoop(ctx)
	for {
		began := time.Now()
		if err := k.nodePass(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "controlplane: kubelet: %v\n", err)
		}
		// At least three times a pass's own time between passes: at 1,000 instances the
		// emulator takes a second or more to answer, and polled back to back it would
		// take a core from the API server.
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(k.s.kubeletEvery, 3*time.Since(began))):
		}
	}
}

// leaseRenew and statusReport are how often a kubelet renews its node's lease (a tenth
// of the lease's 40 s, kubelet's nodeLeaseRenewIntervalFraction) and reports its status
// when nothing changed (kubelet's nodeStatusReportFrequency is 5 min; 1 min here). The
// node lifecycle controller counts either as the node's heartbeat.
const (
	leaseRenew   = 10 * time.Second
	statusReport = time.Minute
)

// leaseWorkers is how many lease renewals are in flight at once: a thousand kubelets
// renew on their own; eight at once fell behind the 40 s grace period while the API
// server wrote 30,000 pods' status, and nine nodes went NotReady.
const leaseWorkers = 64

// leaseLoop renews the leases of the registered nodes, leaseWorkers at once, so that a
// thousand nodes stay Ready while the API server is busy with thousands of pods.
func (k *kubelets) leaseLoop(ctx context.Context) {
	renewed := map[string]time.Time{}
	reported := map[string]time.Time{}
	leases := map[string]*coordinationv1.Lease{}
	var mu sync.Mutex
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		k.mu.Lock()
		nodes := k.nodes
		k.mu.Unlock()
		for name := range renewed {
			if nodes[name] == nil {
				delete(renewed, name)
				delete(reported, name)
				delete(leases, name)
			}
		}
		// What is due, read before any worker writes the maps (they write under mu).
		type due struct {
			name          string
			lease, status bool
		}
		var jobs []due
		now := time.Now()
		for name := range nodes {
			lease, status := now.Sub(renewed[name]) >= leaseRenew, now.Sub(reported[name]) >= statusReport
			if lease || status {
				jobs = append(jobs, due{name, lease, status})
			}
		}
		var wg sync.WaitGroup
		slots := make(chan struct{}, leaseWorkers)
		for _, j := range jobs {
			name, lease, status := j.name, j.lease, j.status
			slots <- struct{}{}
			wg.Add(1)
			go func(name string) {
				defer func() { <-slots; wg.Done() }()
				mu.Lock()
				l := leases[name]
				mu.Unlock()
				if lease {
					l, err := renewLease(ctx, k.c, name, l)
					mu.Lock()
					leases[name] = l
					if err == nil {
						renewed[name] = now
					}
					mu.Unlock()
					if err != nil && ctx.Err() == nil {
						fmt.Fprintf(os.Stderr, "controlplane: kubelet: lease of %s: %v\n", name, err)
					}
				}
				if status {
					err := reportStatus(ctx, k.c, name)
					mu.Lock()
					if err == nil {
						reported[name] = now
					}
					mu.Unlock()
				}
			}(name)
		}
		wg.Wait()
	}
}

func nodeName(i instance) string {
	if i.DNS != "" {
		return i.DNS
	}
	return i.ID + "." + "compute.internal"
}

func (k *kubelets) nodePass(ctx context.Context) error {
	s, c := k.s, k.c
	instances, err := ec2Instances(ctx, s)
	if err != nil {
		return err
	}
	live := map[string]instance{}
	for _, i := range instances {
		if len(i.IPv6) == 0 {
			continue // no IPv6 address: a node of an IPv6 cluster never registers
		}
		live[nodeName(i)] = i
	}
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	have := map[string]*corev1.Node{}
	for idx := range nodes.Items {
		n := &nodes.Items[idx]
		if _, ok := live[n.Name]; !ok && n.Labels["eks6.test/harness"] == "true" {
			_ = c.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{})
			continue
		}
		have[n.Name] = n
	}
	// New nodes register eight at once (a thousand instances join within seconds).
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	joined := map[string]*corev1.Node{}
	slots := make(chan struct{}, updateWorkers)
	for name, i := range live {
		if n, ok := have[name]; ok && len(n.Status.Conditions) == 0 {
			delete(have, name)
		}
		if _, ok := have[name]; ok {
			continue
		}
		slots <- struct{}{}
		wg.Add(1)
		go func(name string, i instance) {
			defer func() { <-slots; wg.Done() }()
			n, err := registerNode(ctx, s, c, name, i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			joined[name] = n
		}(name, i)
	}
	wg.Wait()
	for name, n := range joined {
		have[name] = n
	}
	if firstErr != nil {
		return firstErr
	}
	k.mu.Lock()
	fresh := len(have) != len(k.nodes)
	k.nodes = have
	k.mu.Unlock()
	if fresh {
		k.poke()
	}
	return nil
}

func registerNode(ctx context.Context, s settings, c *kubernetes.Clientset, name string, i instance) (*corev1.Node, error) {
	labels := map[string]string{
		"kubernetes.io/hostname":        name,
		"kubernetes.io/os":              "linux",
		"kubernetes.io/arch":            "amd64",
		"topology.kubernetes.io/region": s.region,
		"topology.kubernetes.io/zone":   i.Zone,
		"eks.amazonaws.com/nodegroup":   i.Nodegroup,
		"eks6.test/harness":             "true",
	}
	annotations := map[string]string{}
	if len(i.Prefixes) > 0 {
		annotations[prefixAnnot] = i.Prefixes[0]
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations},
		Spec:       corev1.NodeSpec{ProviderID: fmt.Sprintf("aws:///%s/%s", i.Zone, i.ID)},
	}
	_, err := c.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	return setNodeStatus(ctx, c, name, i)
}

// setNodeStatus writes the status a kubelet reports at registration, on the node as it
// is now (the controller manager's TTL controller annotates new nodes at once, so a
// write on the object as created would conflict).
func setNodeStatus(ctx context.Context, c *kubernetes.Clientset, name string, i instance) (*corev1.Node, error) {
	for attempt := 0; ; attempt++ {
		fresh, err := c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		fresh.Status = registeredStatus(name, i)
		updated, err := c.CoreV1().Nodes().UpdateStatus(ctx, fresh, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) && attempt < 10 {
			continue
		}
		return updated, err
	}
}

func registeredStatus(name string, i instance) corev1.NodeStatus {
	return corev1.NodeStatus{
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: i.IPv6[0]},
			{Type: corev1.NodeHostName, Address: name},
		},
		Capacity: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("2"),
			corev1.ResourceMemory: resource.MustParse("8Gi"),
			corev1.ResourcePods:   resource.MustParse("110"),
		},
		Allocatable: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("2"),
			corev1.ResourceMemory: resource.MustParse("7Gi"),
			corev1.ResourcePods:   resource.MustParse("110"),
		},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion:          "v1.35.8-eks",
			OperatingSystem:         "linux",
			Architecture:            "amd64",
			OSImage:                 "Amazon Linux 2023 (eks6 test harness)",
			ContainerRuntimeVersion: "containerd://2.0.0",
		},
		Conditions: readyConditions(time.Now()),
	}
}

func readyConditions(now time.Time) []corev1.NodeCondition {
	t := metav1.NewTime(now)
	cond := func(kind corev1.NodeConditionType, status corev1.ConditionStatus, reason string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: kind, Status: status, Reason: reason, LastHeartbeatTime: t, LastTransitionTime: t}
	}
	return []corev1.NodeCondition{
		cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady"),
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory"),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure"),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID"),
	}
}

// renewLease renews a node's lease as a kubelet does, from the copy it last wrote (one
// call; a conflict or a missing lease reads or makes it afresh).
func renewLease(ctx context.Context, c *kubernetes.Clientset, name string, l *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	now := metav1.NewMicroTime(time.Now())
	leases := c.CoordinationV1().Leases("kube-node-lease")
	if l != nil {
		l = l.DeepCopy()
		l.Spec.RenewTime = &now
		if updated, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err == nil {
			return updated, nil
		}
	}
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		seconds := int32(40)
		return leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: &name, LeaseDurationSeconds: &seconds, RenewTime: &now},
		}, metav1.CreateOptions{})
	}
	if err != nil {
		return nil, err
	}
	l.Spec.RenewTime = &now
	return leases.Update(ctx, l, metav1.UpdateOptions{})
}

// reportStatus renews the node's conditions' heartbeat times, as a kubelet's periodic
// status report does.
func reportStatus(ctx context.Context, c *kubernetes.Clientset, name string) error {
	fresh, err := c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	beat := metav1.NewTime(time.Now())
	for k := range fresh.Status.Conditions {
		fresh.Status.Conditions[k].LastHeartbeatTime = beat
		if fresh.Status.Conditions[k].Status == corev1.ConditionUnknown {
			// The node lifecycle controller's "Kubelet stopped posting node status":
			// this kubelet is alive, so it reports its conditions again. (A condition
			// someone set False on purpose is left as it is.)
			fresh.Status.Conditions = readyConditions(beat.Time)
			break
		}
	}
	_, err = c.CoreV1().Nodes().UpdateStatus(ctx, fresh, metav1.UpdateOptions{})
	return err
}

// nth is the n-th address of a prefix.
func nth(prefix string, n int64) string {
	ip, _, err := net.ParseCIDR(prefix)
	if err != nil {
		return ""
	}
	v := new(big.Int).SetBytes(ip.To16())
	v.Add(v, big.NewInt(n))
	b := v.Bytes()
	out := make(net.IP, 16)
	copy(out[16-len(b):], b)
	return out.String()
}

// updateWorkers is how many pod status writes one pass has in flight at once.
const updateWorkers = 8

// podPass does what the nodes' kubelets would do now, from the informer's cache: start
// every pod bound to a node whose start delay is over (an address from the node's /80,
// Running and Ready), remove every pod being deleted, report Ready again what the node
// controller marked not Ready, and run
// probe pods. It returns when the next waiting pod is due (zero: none waits) and how
// long it took to read the cache and decide.
func (k *kubelets) podPass(ctx context.Context) (time.Time, time.Duration, error) {
	s, c := k.s, k.c
	now := time.Now()
	cached, err := k.pods.List(labels.Everything())
	if err != nil {
		return time.Time{}, time.Since(now), err
	}
	var next time.Time
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	k.mu.Lock()
	nodes := k.nodes
	used := map[string]bool{}
	for _, p := range cached {
		if p.Status.PodIP != "" {
			used[p.Status.PodIP] = true
		}
	}
	for _, ip := range k.given {
		used[ip] = true
	}
	type job struct {
		pod           *corev1.Pod
		node          *corev1.Node
		probe, resync bool
	}
	var starts []job
	var removes []*corev1.Pod
	for _, cp := range cached {
		n := nodes[cp.Spec.NodeName]
		if n == nil || cp.Status.Phase == corev1.PodSucceeded || cp.Status.Phase == corev1.PodFailed {
			continue
		}
		if cp.DeletionTimestamp != nil {
			// The kubelet stops the containers, then the pod object goes (once).
			if k.gone[cp.UID] {
				continue
			}
			k.gone[cp.UID] = true
			removes = append(removes, cp)
			continue
		}
		if podReady(cp) {
			continue
		}
		if ip, ok := k.given[cp.UID]; ok {
			// Started, and its Ready condition since turned False by the node lifecycle
			// controller (its node's lease lapsed a while): the kubelet, alive, reports
			// the pod Ready again at its next status sync. (A pod whose address was changed
			// by someone else, or whose start is still in flight, is left alone.)
			if ip == "" || cp.Status.PodIP != ip || now.Sub(k.resynced[cp.UID]) < 5*time.Second {
				continue
			}
			k.resynced[cp.UID] = now
			p := cp.DeepCopy()
			setRunning(p, p.Status.HostIP, ip)
			starts = append(starts, job{pod: p, node: n, resync: true})
			continue
		}
		// The cluster's own pods (kube-system) start at once: on EKS they run before the
		// node is Ready, inside the nodegroup's wait. Others after --pod-start-delay.
		if cp.Namespace != "kube-system" {
			if at := k.seen[cp.UID].Add(s.podStartDelay); at.After(now) {
				later(at)
				continue
			}
		}
		p := cp.DeepCopy()
		if p.Labels[probeLabel] == probeLabelValue {
			k.given[p.UID] = ""
			starts = append(starts, job{pod: p, node: n, probe: true})
			continue
		}
		nodeIP := ""
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				nodeIP = a.Address
			}
		}
		ip := nodeIP
		if !p.Spec.HostNetwork {
			prefix := n.Annotations[prefixAnnot]
			if prefix == "" {
				continue // no delegated prefix: the CNI has nothing to give
			}
			for i := int64(1); ; i++ {
				if cand := nth(prefix, i); !used[cand] {
					ip = cand
					used[cand] = true
					break
				}
			}
		}
		k.given[p.UID] = ip
		setRunning(p, nodeIP, ip)
		starts = append(starts, job{pod: p, node: n})
	}
	k.mu.Unlock()
	scan := time.Since(now)
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	slots := make(chan struct{}, updateWorkers)
	for _, j := range starts {
		slots <- struct{}{}
		wg.Add(1)
		go func(j job) {
			defer func() { <-slots; wg.Done() }()
			if j.probe {
				runProbe(ctx, s, c, j.pod, j.node)
				return
			}
			if _, err := c.CoreV1().Pods(j.pod.Namespace).UpdateStatus(ctx, j.pod, metav1.UpdateOptions{}); err != nil {
				// Not started after all (a newer version, or gone): the next pass looks again
				// (a resync keeps its address and is tried again after its pause).
				if !j.resync {
					k.mu.Lock()
					delete(k.given, j.pod.UID)
					k.mu.Unlock()
				}
				if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
				}
			}
		}(j)
	}
	for _, p := range removes {
		slots <- struct{}{}
		wg.Add(1)
		go func(p *corev1.Pod) {
			defer func() { <-slots; wg.Done() }()
			zero := int64(0)
			_ = c.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		}(p)
	}
	wg.Wait()
	return next, scan, firstErr
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return p.Status.PodIP != ""
		}
	}
	return false
}

func setRunning(p *corev1.Pod, nodeIP, ip string) {
	now := metav1.Now()
	p.Status.Phase = corev1.PodRunning
	p.Status.HostIP, p.Status.HostIPs = nodeIP, []corev1.HostIP{{IP: nodeIP}}
	p.Status.PodIP, p.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	p.Status.StartTime = &now
	p.Status.Conditions = nil
	for _, t := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	p.Status.ContainerStatuses = nil
	for _, ctr := range p.Spec.Containers {
		started := true
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, ImageID: ctr.Image, Ready: true, Started: &started,
			ContainerID: "containerd://" + strings.Repeat("e", 64),
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
}

// runProbe makes the probe pod's requests for real: every target is a sample pod, all of
// which nginx on [::1] stands in for; an address no Running pod holds fails, as it would.
func runProbe(ctx context.Context, s settings, c *kubernetes.Clientset, p *corev1.Pod, n *corev1.Node) {
	if len(p.Spec.Containers) == 0 {
		return
	}
	env := map[string]string{}
	for _, e := range p.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	pods, err := c.CoreV1().Pods(p.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	running := map[string]bool{}
	for _, q := range pods.Items {
		if q.Status.Phase == corev1.PodRunning && q.Status.PodIP != "" {
			running[q.Status.PodIP] = true
		}
	}
	var lines []string
	failed := false
	client := &http.Client{Timeout: 5 * time.Second}
	for _, target := range strings.Fields(env[probeTargets]) {
		if !running[target] || s.nginxPort == 0 {
			lines = append(lines, target+" fail connect timed out")
			failed = true
			continue
		}
		resp, err := client.Get(fmt.Sprintf("http://[::1]:%d/", s.nginxPort))
		if err != nil {
			lines = append(lines, target+" fail "+err.Error())
			failed = true
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lines = append(lines, fmt.Sprintf("%s ok HTTP/1.1 %s", target, resp.Status))
	}
	nodeIP := ""
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			nodeIP = a.Address
		}
	}
	setRunning(p, nodeIP, nth(n.Annotations[prefixAnnot], 0xffff))
	code, reason, phase := int32(0), "Completed", corev1.PodSucceeded
	if failed {
		code, reason, phase = 1, "Error", corev1.PodFailed
	}
	now := metav1.Now()
	p.Status.Phase = phase
	for k := range p.Status.ContainerStatuses {
		p.Status.ContainerStatuses[k].Ready = false
		p.Status.ContainerStatuses[k].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: code, Reason: reason, Message: strings.Join(lines, "\n") + "\n", StartedAt: now, FinishedAt: now,
		}}
	}
	for k := range p.Status.Conditions {
		if p.Status.Conditions[k].Type == corev1.PodReady || p.Status.Conditions[k].Type == corev1.ContainersReady {
			p.Status.Conditions[k].Status = corev1.ConditionFalse
		}
	}
	_, _ = c.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
}
