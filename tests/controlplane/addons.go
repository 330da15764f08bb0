package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// What EKS's add-on manager does when a managed add-on is created, played for the three
// eks6 creates: the objects of `vpc-cni` (the aws-node DaemonSet, IPv6 on, as EKS
// configures it in an ipv6 cluster), `kube-proxy` (its DaemonSet) and `coredns` (its
// Deployment and the kube-dns Service). Applied once the add-on has left CREATING (coredns
// is DEGRADED until its pods run, and is applied then, as EKS does).

func runAddonManager(ctx context.Context, s settings, c *kubernetes.Clientset) {
	applied := map[string]bool{}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, addon := range []string{"vpc-cni", "kube-proxy", "coredns"} {
			if applied[addon] {
				continue
			}
			var out struct {
				Addon struct{ Status, AddonVersion string }
			}
			err := eksGet(ctx, s, "/clusters/"+url.PathEscape(s.cluster)+"/addons/"+addon, &out)
			if err != nil || out.Addon.Status == "" || out.Addon.Status == "CREATING" || out.Addon.Status == "DELETING" {
				continue
			}
			if err := applyAddon(ctx, s, c, addon, out.Addon.AddonVersion); err != nil {
				fmt.Fprintf(os.Stderr, "controlplane: add-on %s: %v\n", addon, err)
				continue
			}
			applied[addon] = true
		}
	}
}

func create(err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func daemonSet(name, image string, env []corev1.EnvVar) *appsv1.DaemonSet {
	labels := map[string]string{"k8s-app": name}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system", Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: name,
					HostNetwork:        true,
					PriorityClassName:  "system-node-critical",
					NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
					Tolerations:        []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Containers:         []corev1.Container{{Name: name, Image: image, Env: env}},
				},
			},
		},
	}
}

func serviceAccount(ctx context.Context, c *kubernetes.Clientset, name string) error {
	_, err := c.CoreV1().ServiceAccounts("kube-system").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	return create(err)
}

// tenth is the service range's tenth address, EKS's kube-dns address (`.10`, `::a`).
func tenth(cidr string) string {
	ip, _, err := net.ParseCIDR(cidr)
	if err != nil {
		return ""
	}
	ip = ip.To16()
	ip[15] += 10
	return ip.String()
}

func applyAddon(ctx context.Context, s settings, c *kubernetes.Clientset, addon, version string) error {
	registry := "602401143452.dkr.ecr." + s.region + ".amazonaws.com"
	switch addon {
	case "vpc-cni":
		if err := serviceAccount(ctx, c, "aws-node"); err != nil {
			return err
		}
		env := []corev1.EnvVar{
			{Name: "ENABLE_IPv6", Value: "true"},
			{Name: "ENABLE_IPv4", Value: "false"},
			{Name: "ENABLE_PREFIX_DELEGATION", Value: "true"},
			{Name: "AWS_VPC_K8S_CNI_LOGLEVEL", Value: "DEBUG"},
		}
		_, err := c.AppsV1().DaemonSets("kube-system").Create(ctx, daemonSet("aws-node", registry+"/amazon-k8s-cni:"+version, env), metav1.CreateOptions{})
		return create(err)
	case "kube-proxy":
		if err := serviceAccount(ctx, c, "kube-proxy"); err != nil {
			return err
		}
		_, err := c.AppsV1().DaemonSets("kube-system").Create(ctx, daemonSet("kube-proxy", registry+"/eks/kube-proxy:"+version, nil), metav1.CreateOptions{})
		return create(err)
	case "coredns":
		if err := serviceAccount(ctx, c, "coredns"); err != nil {
			return err
		}
		labels := map[string]string{"k8s-app": "kube-dns"}
		replicas := int32(2)
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: "kube-system", Labels: labels},
			Spec: appsv1.DeploymentSpec{
				Replicas: &replicas,
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{
						ServiceAccountName: "coredns",
						PriorityClassName:  "system-cluster-critical",
						Containers:         []corev1.Container{{Name: "coredns", Image: registry + "/eks/coredns:" + version}},
					},
				},
			},
		}
		if _, err := c.AppsV1().Deployments("kube-system").Create(ctx, d, metav1.CreateOptions{}); create(err) != nil {
			return err
		}
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system", Labels: labels},
			Spec: corev1.ServiceSpec{
				Selector:   labels,
				ClusterIP:  tenth(s.serviceCIDR),
				IPFamilies: []corev1.IPFamily{corev1.IPv6Protocol},
				Ports: []corev1.ServicePort{
					{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
					{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
				},
			},
		}
		_, err := c.CoreV1().Services("kube-system").Create(ctx, svc, metav1.CreateOptions{})
		return create(err)
	}
	return nil
}
