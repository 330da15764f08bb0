package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The harness reads the emulator as EKS's own components read AWS, unsigned: the emulator
// picks the service from the credential scope and the account from x-moto-account-id.

// A minute: at 1,000 instances the emulator renders a page for seconds on a busy machine.
var awsClient = &http.Client{Timeout: time.Minute}

func authHeader(s settings, service string) string {
	return fmt.Sprintf("AWS4-HMAC-SHA256 Credential=AKIDEKS6HARNESS/20260101/%s/%s/aws4_request, SignedHeaders=host, Signature=0", s.region, service)
}

func eksGet(ctx context.Context, s settings, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(s.awsEndpoint, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", authHeader(s, "eks"))
	req.Header.Set("x-moto-account-id", s.account)
	resp, err := awsClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return errNotFound
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("EKS %s: HTTP %d: %s", path, resp.StatusCode, body)
	}
	return json.Unmarshal(body, out)
}

var errNotFound = fmt.Errorf("not found")

// instance is what the kubelets need of an EC2 instance.
type instance struct {
	ID, Zone, DNS, Nodegroup string
	IPv6, Prefixes           []string
}

// ec2Instances is every running instance of the cluster, page by page (EC2 answers at
// most 1,000 reservations a page, and the emulator 100 when no MaxResults is given: a
// harness that read one page registered only 100 of 1,000 nodes).
func ec2Instances(ctx context.Context, s settings) ([]instance, error) {
	var out []instance
	token := ""
	for {
		page, next, err := ec2InstancesPage(ctx, s, token)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		token = next
	}
}

func ec2InstancesPage(ctx context.Context, s settings, token string) ([]instance, string, error) {
	form := url.Values{
		"Action":           {"DescribeInstances"},
		"Version":          {"2016-11-15"},
		"Filter.1.Name":    {"tag:eks:cluster-name"},
		"Filter.1.Value.1": {s.cluster},
		"Filter.2.Name":    {"instance-state-name"},
		"Filter.2.Value.1": {"running"},
		"MaxResults":       {"1000"},
	}
	if token != "" {
		form.Set("NextToken", token)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.awsEndpoint, "/")+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", authHeader(s, "ec2"))
	req.Header.Set("x-moto-account-id", s.account)
	resp, err := awsClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("EC2 DescribeInstances: HTTP %d: %s", resp.StatusCode, body)
	}
	var doc struct {
		NextToken    string `xml:"nextToken"`
		Reservations []struct {
			Instances []struct {
				ID   string `xml:"instanceId"`
				DNS  string `xml:"privateDnsName"`
				Zone string `xml:"placement>availabilityZone"`
				Tags []struct {
					Key   string `xml:"key"`
					Value string `xml:"value"`
				} `xml:"tagSet>item"`
				NICs []struct {
					IPv6     []string `xml:"ipv6AddressesSet>item>ipv6Address"`
					Prefixes []string `xml:"ipv6PrefixSet>item>ipv6Prefix"`
				} `xml:"networkInterfaceSet>item"`
			} `xml:"instancesSet>item"`
		} `xml:"reservationSet>item"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		return nil, "", err
	}
	var out []instance
	for _, r := range doc.Reservations {
		for _, i := range r.Instances {
			in := instance{ID: i.ID, Zone: i.Zone, DNS: i.DNS}
			for _, t := range i.Tags {
				if t.Key == "eks:nodegroup-name" {
					in.Nodegroup = t.Value
				}
			}
			for _, n := range i.NICs {
				in.IPv6 = append(in.IPv6, n.IPv6...)
				in.Prefixes = append(in.Prefixes, n.Prefixes...)
			}
			out = append(out, in)
		}
	}
	return out, doc.NextToken, nil
}
