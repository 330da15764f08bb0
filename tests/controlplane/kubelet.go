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
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
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

func runKubelets(ctx context.Context, s settings, c *kubernetes.Clientset) {
	lastBeat := map[string]time.Time{}
	tick := time.NewTicker(s.kubeletEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := kubeletPass(ctx, s, c, lastBeat); err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "controlplane: kubelet: %v\n", err)
		}
	}
}

func nodeName(i instance) string {
	if i.DNS != "" {
		return i.DNS
	}
	return i.ID + "." + "compute.internal"
}

func kubeletPass(ctx context.Context, s settings, c *kubernetes.Clientset, lastBeat map[string]time.Time) error {
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
			delete(lastBeat, n.Name)
			continue
		}
		have[n.Name] = n
	}
	for name, i := range live {
		if n, ok := have[name]; ok && len(n.Status.Conditions) == 0 {
			delete(have, name)
		}
		if _, ok := have[name]; !ok {
			n, err := registerNode(ctx, s, c, name, i)
			if err != nil {
				return err
			}
			have[name] = n
			lastBeat[name] = time.Time{}
		}
		if time.Since(lastBeat[name]) > 10*time.Second {
			if err := heartbeat(ctx, c, have[name]); err != nil {
				return err
			}
			lastBeat[name] = time.Now()
		}
	}
	return podPass(ctx, s, c, have)
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

// heartbeat renews the node's lease and its Ready condition, as a kubelet does.
func heartbeat(ctx context.Context, c *kubernetes.Clientset, n *corev1.Node) error {
	now := metav1.NewMicroTime(time.Now())
	seconds := int32(40)
	leases := c.CoordinationV1().Leases("kube-node-lease")
	lease, err := leases.Get(ctx, n.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: n.Name},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: &n.Name, LeaseDurationSeconds: &seconds, RenewTime: &now},
		}, metav1.CreateOptions{})
	} else if err == nil {
		lease.Spec.RenewTime = &now
		_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	}
	if err != nil {
		return err
	}
	fresh, err := c.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	beat := metav1.NewTime(time.Now())
	for k := range fresh.Status.Conditions {
		fresh.Status.Conditions[k].LastHeartbeatTime = beat
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

// podsPerPass bounds the pods one pass starts, so that a pass (and the nodes' heartbeats
// it begins with) comes round within a few seconds even while thousands of pods wait
// (the scale bench): without it the nodes' leases lapsed and the node controller
// tainted them.
const podsPerPass = 100

func podPass(ctx context.Context, s settings, c *kubernetes.Clientset, nodes map[string]*corev1.Node) error {
	pods, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for _, p := range pods.Items {
		if p.Status.PodIP != "" {
			used[p.Status.PodIP] = true
		}
	}
	started := 0
	for idx := range pods.Items {
		if started >= podsPerPass {
			break // the rest next pass: the nodes' heartbeats come first
		}
		p := &pods.Items[idx]
		n := nodes[p.Spec.NodeName]
		if n == nil || p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			if p.DeletionTimestamp != nil && n != nil {
				// The kubelet stops the containers, then the pod object goes.
				zero := int64(0)
				_ = c.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
			}
			continue
		}
		if p.Labels[probeLabel] == probeLabelValue {
			runProbe(ctx, s, c, p, n)
			continue
		}
		if podReady(p) {
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
			for k := int64(1); ; k++ {
				if cand := nth(prefix, k); !used[cand] {
					ip = cand
					used[cand] = true
					break
				}
			}
		}
		setRunning(p, nodeIP, ip)
		started++
		if _, err := c.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) {
			return err
		}
	}
	return nil
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
