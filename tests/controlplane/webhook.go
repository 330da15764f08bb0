package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	authv1 "k8s.io/api/authentication/v1"
)

// The checks of aws-iam-authenticator's token verifier (kubernetes-sigs/aws-iam-authenticator
// pkg/token/token.go, Verify): the same constants, the same order.
const (
	v1Prefix         = "k8s-aws-v1."
	maxTokenLenBytes = 1024 * 4
	clusterIDHeader  = "x-k8s-aws-id"
	presignedExpiry  = 15 * time.Minute
	dateHeaderFormat = "20060102T150405Z"
)

var parameterWhitelist = map[string]bool{
	"action":               true,
	"version":              true,
	"x-amz-algorithm":      true,
	"x-amz-credential":     true,
	"x-amz-date":           true,
	"x-amz-expires":        true,
	"x-amz-security-token": true,
	"x-amz-signature":      true,
	"x-amz-signedheaders":  true,
}

// STS hosts of the aws and aws-cn partitions (the authenticator builds the same set from
// the SDK's endpoint resolver: regional, FIPS and dual-stack names).
var stsHost = regexp.MustCompile(`^sts(-fips)?\.[a-z0-9-]+\.(amazonaws\.com(\.cn)?|api\.aws)$|^sts\.amazonaws\.com$`)

// verifyFormat makes the authenticator's checks up to its STS call; it returns the
// presigned URL.
func verifyFormat(token string, now time.Time) (*url.URL, error) {
	if len(token) > maxTokenLenBytes {
		return nil, fmt.Errorf("token is too large")
	}
	if !strings.HasPrefix(token, v1Prefix) {
		return nil, fmt.Errorf("token is missing expected %q prefix", v1Prefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, v1Prefix))
	if err != nil {
		return nil, fmt.Errorf("illegal base64 data in token")
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		return nil, fmt.Errorf("malformed pre-signed URL")
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("unexpected scheme %q in pre-signed URL", u.Scheme)
	}
	if !stsHost.MatchString(u.Host) {
		return nil, fmt.Errorf("unexpected hostname %q in pre-signed URL", u.Host)
	}
	if u.Path != "/" {
		return nil, fmt.Errorf("unexpected path in pre-signed URL")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("malformed query parameter")
	}
	lower := url.Values{}
	for k, v := range q {
		lk := strings.ToLower(k)
		if _, dup := lower[lk]; dup {
			return nil, fmt.Errorf("duplicate query parameter found: %q", k)
		}
		if !parameterWhitelist[lk] {
			return nil, fmt.Errorf("non-whitelisted query parameter %q", k)
		}
		if len(v) != 1 {
			return nil, fmt.Errorf("query parameter with multiple values not supported")
		}
		lower.Set(lk, v[0])
	}
	if lower.Get("action") != "GetCallerIdentity" {
		return nil, fmt.Errorf("unexpected action parameter in pre-signed URL")
	}
	signed := false
	for _, h := range strings.Split(lower.Get("x-amz-signedheaders"), ";") {
		if strings.EqualFold(h, clusterIDHeader) {
			signed = true
		}
	}
	if !signed {
		return nil, fmt.Errorf("client did not sign the %s header in the pre-signed URL", clusterIDHeader)
	}
	expires, err := strconv.Atoi(lower.Get("x-amz-expires"))
	if err != nil || expires < 0 || expires > 900 {
		return nil, fmt.Errorf("invalid X-Amz-Expires parameter in pre-signed URL: %d", expires)
	}
	date := lower.Get("x-amz-date")
	if date == "" {
		return nil, fmt.Errorf("X-Amz-Date parameter must be present in pre-signed URL")
	}
	t, err := time.Parse(dateHeaderFormat, date)
	if err != nil {
		return nil, fmt.Errorf("error parsing X-Amz-Date parameter %s into format %s", date, dateHeaderFormat)
	}
	if now.After(t.Add(presignedExpiry)) {
		return nil, fmt.Errorf("X-Amz-Date parameter is expired (15 minute expiration) %s", t)
	}
	return u, nil
}

// canonicalARN turns an assumed-role session ARN into its role's ARN, path kept
// (aws-iam-authenticator pkg/arn/arn.go, Canonicalize).
func canonicalARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sts" {
		return arn
	}
	res := strings.Split(parts[5], "/")
	if res[0] == "assumed-role" && len(res) >= 3 {
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", parts[1], parts[4], strings.Join(res[1:len(res)-1], "/"))
	}
	return arn
}

type identity struct {
	ARN, Account, UserID string
}

// callerIdentity sends the presigned GET to the emulator's STS, as the authenticator sends
// it to STS: the cluster id header, JSON wanted; and the one emulator-only header, the host
// the URL was signed for (the request goes to the emulator's own host).
func callerIdentity(ctx context.Context, s settings, u *url.URL) (identity, error) {
	target := strings.TrimRight(s.awsEndpoint, "/") + "/?" + u.RawQuery
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return identity{}, err
	}
	req.Header.Set(clusterIDHeader, s.cluster)
	req.Header.Set("accept", "application/json")
	req.Header.Set("x-eks6-signed-host", u.Host)
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return identity{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return identity{}, fmt.Errorf("error from AWS (expected 200, got %d). Body: %s", resp.StatusCode, body)
	}
	var wrapper struct {
		GetCallerIdentityResponse struct {
			GetCallerIdentityResult struct {
				Account, Arn, UserId string
			}
		}
	}
	if json.Unmarshal(body, &wrapper) == nil && wrapper.GetCallerIdentityResponse.GetCallerIdentityResult.Arn != "" {
		r := wrapper.GetCallerIdentityResponse.GetCallerIdentityResult
		return identity{r.Arn, r.Account, r.UserId}, nil
	}
	var x struct {
		Result struct{ Arn, Account, UserId string } `xml:"GetCallerIdentityResult"`
	}
	if err := xml.Unmarshal(body, &x); err != nil || x.Result.Arn == "" {
		return identity{}, fmt.Errorf("STS answered neither JSON nor XML of GetCallerIdentity: %s", body)
	}
	return identity{x.Result.Arn, x.Result.Account, x.Result.UserId}, nil
}

// accessGroups asks EKS (the emulator) for the principal's access entry on the cluster:
// none means the cluster does not know the principal (EKS answers 401); an entry with
// AmazonEKSClusterAdminPolicy is a cluster admin, played here as system:masters.
func accessGroups(ctx context.Context, s settings, principal string) ([]string, bool, error) {
	var entries struct{ AccessEntries []string }
	if err := eksGet(ctx, s, "/clusters/"+url.PathEscape(s.cluster)+"/access-entries", &entries); err != nil {
		return nil, false, err
	}
	found := false
	for _, e := range entries.AccessEntries {
		if e == principal {
			found = true
		}
	}
	if !found {
		return nil, false, nil
	}
	var policies struct {
		AssociatedAccessPolicies []struct{ PolicyArn string }
	}
	path := "/clusters/" + url.PathEscape(s.cluster) + "/access-entries/" + url.PathEscape(principal) + "/access-policies"
	if err := eksGet(ctx, s, path, &policies); err != nil {
		return nil, true, err
	}
	for _, p := range policies.AssociatedAccessPolicies {
		if strings.HasSuffix(p.PolicyArn, ":cluster-access-policy/AmazonEKSClusterAdminPolicy") {
			return []string{"system:masters", "system:authenticated"}, true, nil
		}
	}
	return []string{"system:authenticated"}, true, nil
}

// startWebhook serves TokenReviews on [::1] and writes the API server's webhook config;
// it returns the config's path.
func startWebhook(ctx context.Context, s settings) (string, error) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/authenticate", func(w http.ResponseWriter, r *http.Request) {
		var review authv1.TokenReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		review.Status = reviewToken(r.Context(), s, review.Spec.Token)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(review)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	config := filepath.Join(s.dir, "webhook.kubeconfig")
	text := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: eks6-authenticator
  cluster:
    server: http://%s/authenticate
users:
- name: kube-apiserver
contexts:
- name: webhook
  context:
    cluster: eks6-authenticator
    user: kube-apiserver
current-context: webhook
`, l.Addr().String())
	return config, os.WriteFile(config, []byte(text), 0o600)
}

func reviewToken(ctx context.Context, s settings, token string) authv1.TokenReviewStatus {
	refuse := func(err error) authv1.TokenReviewStatus {
		fmt.Fprintf(os.Stderr, "controlplane: token refused: %v\n", err)
		return authv1.TokenReviewStatus{Authenticated: false, Error: err.Error()}
	}
	u, err := verifyFormat(token, time.Now())
	if err != nil {
		return refuse(err)
	}
	if s.awsEndpoint == "" {
		return refuse(fmt.Errorf("no STS to ask (--aws-endpoint)"))
	}
	id, err := callerIdentity(ctx, s, u)
	if err != nil {
		return refuse(err)
	}
	principal := canonicalARN(id.ARN)
	groups, known, err := accessGroups(ctx, s, principal)
	if err != nil {
		return refuse(err)
	}
	if !known {
		return refuse(fmt.Errorf("%s has no access entry on cluster %s", principal, s.cluster))
	}
	return authv1.TokenReviewStatus{
		Authenticated: true,
		User: authv1.UserInfo{
			Username: principal,
			UID:      "aws-iam-authenticator:" + id.Account + ":" + id.UserID,
			Groups:   groups,
			Extra:    map[string]authv1.ExtraValue{"arn": {id.ARN}, "canonicalArn": {principal}},
		},
	}
}
