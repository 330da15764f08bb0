"""Test-only extension of moto 5.2.5 that makes its EKS emulation closer to real EKS.

Apply it with ``apply()`` in the process that runs the moto server (see
``launch.py``), before the server is created; it monkeypatches
``moto.eks.models.EKSBackend``, ``moto.eks.responses.EKSResponse`` (and the EKS
URL table), ``moto.iam.responses.IamResponse``, a few EC2 pieces (account
attributes, instance types; for (16) NAT gateways, ``VPCBackend.create_vpc`` and
the ``VPC`` model's IPv6 associations), STS's
``TokenResponse.call_action``, the server's service dispatch
(``DomainDispatcherApplication.infer_service_region_host``), the ``/moto-api/``
URL table and ``MotoAPIBackend.reset``; ``remove()`` undoes all of it. Everything
it keeps lives on moto's own per-account, per-region backend objects, so
accounts selected with the ``x-moto-account-id`` header stay isolated, and
``POST /moto-api/reset`` wipes it like the rest of moto; the one exception, the
control-plane registry of (14), is module state that the reset clears too (the table
of (16) is read-only module state). It is pinned to
moto 5.2.5 because it reaches into moto's internals. ``launch.py`` also sets
MOTO_IAM_LOAD_MANAGED_POLICIES=true (in plain mode too), so AWS-managed
policies such as AmazonEKSClusterPolicy can be attached and simulated.

What it changes, and why (what real EKS does that moto lacks):

1. Lifecycles. moto makes clusters and nodegroups ACTIVE at once and deletes
   them at once. Here a new cluster or nodegroup answers CREATING to its first N
   Describe calls and ACTIVE from the (N+1)th; a delete answers DELETING and the
   resource keeps answering DELETING to N describes, after which Describe
   raises ResourceNotFoundException (moto's usual answer for a missing one).
   N comes from the environment variable EKS6_MOTO_CREATING_DESCRIBES (default
   2, read at each call; 0 gives moto's immediate behaviour except that the
   delete answer says DELETING, as EKS's does). Only DescribeCluster and
   DescribeNodegroup advance a lifecycle; List* shows the resource meanwhile.
   Kept from moto: CreateNodegroup on a cluster that is not ACTIVE fails with
   InvalidRequestException, and DeleteCluster with nodegroups (in any state,
   DELETING included) fails with ResourceInUseException. Deleting something
   already DELETING answers it again without restarting the count; deleting a
   CREATING one starts its deletion. Add-ons (9) follow the same pattern. In
   the time-based mode of (16) time, not describes, ends these states.

2. Nodegroup instances. moto launches none. Here CreateNodegroup launches
   scalingConfig.desiredSize EC2 instances at once (while the nodegroup is
   still CREATING, as EKS's Auto Scaling group does), round-robin over the
   nodegroup's subnets, of the nodegroup's first instance type, with the
   cluster security group on the primary network interface (deleted on
   termination) and tags eks:cluster-name, eks:nodegroup-name,
   kubernetes.io/cluster/<cluster>=owned and aws:autoscaling:groupName.
   An instance gets one IPv6 address from its subnet's /64 only when the subnet
   has AssignIpv6AddressOnCreation, like EC2. In an ipv6 cluster a nodegroup
   with a subnet lacking that attribute (or an IPv6 CIDR) launches nothing and
   ends CREATE_FAILED with the health issue Ec2SubnetMissingIpv6Assignment, as
   EKS does (eksctl #4701). DeleteNodegroup terminates the instances at once.
   UpdateNodegroupConfig does not resize; the AMI is a fixed placeholder.

3. Cluster security group and network config. moto creates none and reports
   neither vpcId, clusterSecurityGroupId nor serviceIpv6Cidr. Here
   CreateCluster creates, in the VPC of the first subnet of resourcesVpcConfig,
   the group eks-cluster-sg-<name>-<10 digits> tagged Name,
   aws:eks:cluster-name=<name> and kubernetes.io/cluster/<name>=owned, with
   EKS's rules: all traffic in from itself, all traffic out to 0.0.0.0/0 and
   ::/0 (moto adds both egress rules itself when the VPC has an IPv6 block; the
   missing ones are added). resourcesVpcConfig reports vpcId and
   clusterSecurityGroupId (kept across UpdateClusterConfig, which moto would
   otherwise replace wholesale). The group is deleted when the cluster finally
   disappears. Unknown subnet ids fail CreateCluster/CreateNodegroup with
   InvalidParameterException, as EKS does (the two-AZ rule is not checked).
   kubernetesNetworkConfig: with ipFamily ipv6 it reports serviceIpv6Cidr, a
   /108 inside fd00::/8 derived from a hash of account, region and cluster
   name, and never serviceIpv4Cidr; otherwise ipFamily ipv4 and moto's default
   serviceIpv4Cidr 172.20.0.0/16 unless one was given.

4. Idempotency tokens. moto ignores clientRequestToken, so a CreateCluster or
   CreateNodegroup sent again after its answer was lost (an SDK retry) fails
   with ResourceInUseException. EKS answers a repeat that carries the token of
   the existing resource of that name with that resource. Here too; a repeat
   with another token (or none) still fails with ResourceInUseException. The
   same holds for CreateAccessEntry (8) and CreateAddon (9) (once the cluster
   is found). A repeat is answered before the checks of 5-7.

5. CreateCluster access config, upgrade policy, self-managed add-ons. moto's
   CreateCluster handler drops these parameters (EKSResponse.create_cluster is
   replaced to read them). Stored and reported by DescribeCluster as on EKS:
   accessConfig {authenticationMode: API | API_AND_CONFIG_MAP | CONFIG_MAP
   (default CONFIG_MAP when absent), bootstrapClusterCreatorAdminPermissions
   (default true)} and upgradePolicy {supportType: STANDARD | EXTENDED (default
   EXTENDED)}; another value of either enum is InvalidParameterException.
   bootstrapSelfManagedAddons (default true) is not in EKS's Cluster output; it
   is kept for (10). When the mode is API or API_AND_CONFIG_MAP and
   bootstrapClusterCreatorAdminPermissions is true, EKS gives the cluster
   creator an access entry (8) with AmazonEKSClusterAdminPolicy at cluster
   scope; so does this. The creator is the caller as moto's STS
   GetCallerIdentity sees it (in the request's account and region): an
   assumed-role session arn:aws:sts::A:assumed-role/R/S becomes the role ARN,
   arn:aws:iam::A:role/<path>R with the path of a role R existing in A's moto
   IAM (else no path); any other ARN, such as moto's default for unknown keys
   arn:aws:sts::A:user/moto, is used as it is (type user). A cluster created
   without a version gets 1.33 (EKS's default moves with its releases; moto's
   own default, 1.19, is below the minimum of (7)).

6. IAM roles. moto only checks the shape of roleArn/nodeRole. EKS assumes the
   role, so CreateCluster's roleArn and CreateNodegroup's nodeRole must name a
   role of the request's account (the ARN's account must be that account)
   existing in moto's IAM (exact ARN, path included) whose trust policy has an
   Allow statement with sts:AssumeRole (IAM wildcards allowed) for the service
   principal eks.amazonaws.com (cluster) or ec2.amazonaws.com (nodes), or for
   Principal "*" / {"AWS": "*"}; conditions are not evaluated. Otherwise
   InvalidParameterException "Role with arn: <arn>, could not be assumed
   because it does not exist or the trusted entity is not correct". IAM is
   eventually consistent, and EKS answers a role created seconds earlier the
   same way, so clients retry (terraform-aws-eks and eks6 do, for a bounded
   time). To exercise that, the first M such calls naming a valid role fail
   with the same message, M from EKS6_MOTO_IAM_PROPAGATION (default 1, read
   at each call, 0 disables). Calls are counted per role and account, in the
   account's moto IAM backend; a role deleted and created again under the same
   ARN is counted afresh (moto gives it a new id); calls that fail before the
   role check, or because the role is missing or untrusted, do not count. In
   the time-based mode of (16) the role's age counts instead (M > 0: any value
   turns it on, 0 still disables).
   Order of CreateCluster's checks: name in use, accessConfig/upgradePolicy
   values, version (7), role, subnets (3), zones (7); CreateNodegroup's:
   moto's (cluster found, name free, cluster ACTIVE), role, subnets.

7. Kubernetes versions and zones. moto accepts any version and any subnet.
   CreateCluster with a version below 1.23, or not of the form major.minor,
   fails with InvalidParameterException "unsupported Kubernetes version <v>".
   EKS refuses control-plane subnets in the zone ids use1-az3, usw1-az2 and
   cac1-az3 (EKS user guide, "Subnet requirements and considerations"):
   CreateCluster with any subnet in one fails with HTTP 400
   UnsupportedAvailabilityZoneException "Cannot create cluster '<name>'
   because <zone name>, the targeted availability zone, does not currently
   have sufficient capacity to support the cluster. Retry and choose from these
   availability zones: <the region's other zone names, ', '-separated>", the
   body also carrying clusterName and validZones (those names), as EKS's does.
   Of the three, moto's zone table only has use1-az3 (us-east-1e); it has no
   usw1-az2 (us-west-1: usw1-az1, usw1-az3) nor cac1-az3 (ca-central-1:
   cac1-az1, cac1-az2, cac1-az4), so only use1-az3 can be produced. Nodegroup
   subnets are not checked (EKS allows worker nodes there).

8. Access entries. moto has none of the access-entry API. Here CreateAccessEntry,
   DescribeAccessEntry, ListAccessEntries (associatedPolicyArn filter,
   maxResults/nextToken), DeleteAccessEntry, AssociateAccessPolicy,
   DisassociateAccessPolicy and ListAssociatedAccessPolicies, shaped as in
   botocore's EKS model. The principalArn and policyArn are URL path labels
   that clients percent-encode, slashes included (a role with a path, such as
   arn:aws:iam::A:role/team/admin); routes are added to moto.eks.urls so the
   server's first, decoded match lets them through, and moto's operation
   router matches the raw (still encoded) path, so the label arrives whole.
   Rules: unknown cluster -> ResourceNotFoundException; cluster in mode
   CONFIG_MAP -> InvalidRequestException "The cluster's authentication mode must
   be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.";
   principalArn not an IAM role or user ARN -> InvalidParameterException (the
   principal's existence is not checked); an entry for that principal already
   -> ResourceInUseException (409) "The specified access entry resource is
   already in use on this cluster."; a missing entry on describe, delete or
   (dis)associate -> ResourceNotFoundException; type other than STANDARD ->
   InvalidParameterException (the emulator knows only STANDARD entries);
   policyArn other than
   arn:aws:eks::aws:cluster-access-policy/{AmazonEKSClusterAdminPolicy,
   AmazonEKSAdminPolicy, AmazonEKSEditPolicy, AmazonEKSViewPolicy} ->
   InvalidParameterException (EKS has more policies; these four are known);
   accessScope.type must be cluster (no namespaces) or namespace (at least one
   namespace). Entries carry clusterName, principalArn, kubernetesGroups
   (default []), accessEntryArn arn:aws:eks:<region>:<account>:access-entry/
   <cluster>/<role|user>/<principal's account>/<principal's name>/<uuid>,
   createdAt, modifiedAt, tags, username (default, as EKS's: for a role
   arn:aws:sts::<account>:assumed-role/<name>/{{SessionName}}, for a user its
   ARN) and type STANDARD. Associating a policy again replaces its scope and
   updates its modifiedAt (associatedAt kept), without error. Deleting the
   cluster deletes its entries.

9. Managed add-ons. moto has none of the add-on API. Here CreateAddon,
   DescribeAddon, ListAddons, DeleteAddon and DescribeAddonVersions, shaped as
   in botocore's EKS model, over a fixed catalog of placeholder versions in the
   real form (not real release data; publisher eks, owner aws, architecture
   [amd64, arm64], platformVersions ["*"]): vpc-cni (type networking)
   v1.20.4-eksbuild.1 (default), v1.19.6-eksbuild.1, v1.18.6-eksbuild.1;
   coredns (type dns) v1.11.4-eksbuild.2 (default), v1.11.1-eksbuild.8, both
   for every cluster version 1.23 to 1.36; kube-proxy (type networking)
   v1.M.3-eksbuild.2 (default) and v1.M.0-eksbuild.1 for cluster version 1.M
   only, M from 23 to 36. DescribeAddonVersions filters by addonName,
   kubernetesVersion (then only that version's compatibility is listed, and
   add-ons without one are left out), types, publishers and owners; pages by
   add-on name. CreateAddon: unknown cluster -> ResourceNotFoundException "No
   cluster found for name: <name>."; an add-on of that name already ->
   ResourceInUseException "Addon already exists." (unless a repeat, 4);
   cluster not ACTIVE -> InvalidRequestException; add-on unknown or without a
   version for the cluster's version -> InvalidParameterException "Addon <n>
   specified is not supported in <v> kubernetes version"; addonVersion not
   among that add-on's versions for the cluster's version ->
   InvalidParameterException; no addonVersion -> the default. An add-on
   answers CREATING to its first N DescribeAddon calls (N as in 1), then
   ACTIVE; except coredns, whose pods need nodes: after CREATING it is, at each
   describe, DEGRADED with the health issue InsufficientNumberOfReplicas ("The
   add-on is unhealthy because it doesn't have the desired number of
   replicas.", resourceIds []) while the cluster has no ACTIVE nodegroup, and
   ACTIVE without issues once it has one. DeleteAddon answers DELETING, then N
   describes DELETING, then ResourceNotFoundException "No addon: <n> found in
   cluster: <c>" (also the answer for a missing one); preserve is ignored.
   addonArn arn:aws:eks:<region>:<account>:addon/<cluster>/<name>/<uuid>.
   Add-ons go with their cluster (DeleteCluster does not wait for them).

10. Nodegroups need networking. moto's nodes never fail. On EKS, nodes that
    cannot reach the cluster never join and the nodegroup ends CREATE_FAILED
    with NodeCreationFailure. Here, when a nodegroup leaves CREATING (the
    point of 1), it ends CREATE_FAILED with the health issue {code
    NodeCreationFailure, message "Instances failed to join the kubernetes
    cluster", resourceIds: its instance ids} when (a) the cluster was created
    with bootstrapSelfManagedAddons false and has no vpc-cni add-on (in any
    state but DELETING): no pod network, or (b) the cluster's VPC lacks
    enableDnsSupport or enableDnsHostnames (EKS user guide: "The VPC must have
    DNS hostname and DNS resolution support. Otherwise, nodes can't register to
    your cluster."). Ec2SubnetMissingIpv6Assignment (2) wins over both. The
    instances stay running, as EKS leaves them. moto's CreateVpc sets
    enableDnsSupport true and enableDnsHostnames false (true only for a default
    VPC), as EC2 does for a new VPC, so a network for ACTIVE nodes needs
    ModifyVpcAttribute EnableDnsHostnames=true.

11. IAM SimulatePrincipalPolicy, which moto lacks (IamResponse gains it).
    PolicySourceArn is a role, user or group of the request's account
    (anything else -> NoSuchEntity, HTTP 404); ActionNames; ResourceArns
    (default ["*"], a literal: a statement scoped to other resources does not
    match it, as in IAM's simulator); PolicyInputList (JSON policies evaluated
    with the principal's; invalid JSON -> InvalidInput). Evaluated: the
    principal's inline policies and the default version of its attached
    managed policies; for a user also its groups' inline and managed policies.
    Permissions boundaries, SCPs, resource policies, PolicyExclusionList,
    ContextEntries, CallerArn and paging are ignored. For each action x
    resource: a matching Deny statement -> explicitDeny (MatchedStatements: the
    matching Deny statements), else a matching Allow -> allowed (the matching
    Allows), else implicitDeny (none). A statement matches when Action (or
    NotAction) and Resource (or NotResource), strings or lists, match; "*" and
    "?" are IAM wildcards, actions case-insensitive, resources case-sensitive;
    policy variables are taken literally. Condition blocks are NOT evaluated: a
    statement with one matches, and its condition keys are listed in
    MissingContextValues. MatchedStatements give SourcePolicyId (the policy
    name; PolicyInputList.<n> for input policies) and SourcePolicyType (role,
    user, group, aws-managed, user-managed, none), no positions. IsTruncated is
    false.

12. EC2 for a pre-flight. moto's DescribeAccountAttributes returns all six
    attributes it knows whatever AttributeNames asks; here only the named ones
    (EC2's behaviour); vpc-max-elastic-ips is 5. DescribeInstanceTypes already
    reports Hypervisor (nitro, or xen for t2, m4, c4, r4, i3, d2, x1 and other
    old families) and BareMetal (true, and no Hypervisor, for *.metal) from
    moto's data, but that data has no i3.metal (nor p3.2xlarge/8xlarge/
    16xlarge, only p3dn.24xlarge): i3.metal is added as moto's i3.16xlarge with
    BareMetal true, no Hypervisor, 72 vCPUs (36 cores x 2 threads) and
    524288 MiB, and offered wherever moto offers i3.16xlarge. p3 is not added.
    DescribeInstanceTypeOfferings (LocationType availability-zone), zone ids of
    DescribeAvailabilityZones and Describe/ModifyVpcAttribute for the two DNS
    attributes work in moto as they are.

13. IPv6 prefixes on nodes. moto's instances have no IPv6 prefixes. In an ipv6
    EKS cluster the VPC CNI runs in prefix-delegation mode and each node's
    network interface gets a /80 IPv6 prefix from its subnet's /64, from which
    pods take their addresses (EKS user guide, "IPv6 addresses for clusters,
    Pods, and services": "assigns a /80 IPv6 prefix to each node";
    amazon-vpc-cni-k8s docs). Here each instance a nodegroup of an ipv6 cluster
    launches (2) gets one /80 on its primary network interface, reported as
    EC2 reports it: DescribeInstances networkInterfaceSet/item/ipv6PrefixSet/
    item/ipv6Prefix and DescribeNetworkInterfaces ipv6PrefixSet/item/
    ipv6Prefix (botocore: InstanceNetworkInterface.Ipv6Prefixes,
    NetworkInterface.Ipv6Prefixes). The /80 is the lowest one in the first IPv6
    CIDR of the instance's subnet that is free: not the first /80 (it holds the
    four addresses EC2 reserves at the start of a subnet) nor the last (the
    reserved last address), none holding an IPv6 address of a network interface
    in that subnet, none delegated already to another interface there. So the
    prefixes of a subnet are distinct, in launch order, and never contain an
    interface's own address; an instance whose address (random in the /64, as
    moto draws it) falls in a /80 delegated earlier gets its address drawn
    again. Instances of ipv4 clusters, and instances in subnets without IPv6,
    get none. No moto code is patched for this: moto 5.2.5 renders both calls
    with its ActionResult serializer (no Jinja template), which picks each
    member from the model object by the member's name in snake case, so a list
    ``ipv6_prefixes`` = [{"Ipv6Prefix": "<cidr>"}] set on moto's
    NetworkInterface object appears in both answers. A prefix goes with its
    interface (deleted when the node terminates). Prefix APIs
    (AssignIpv6Addresses Ipv6PrefixCount, UnassignIpv6Addresses Ipv6Prefixes)
    and prefix filters are not emulated.

14. Kubernetes control planes. moto's clusters report a placeholder endpoint
    (https://<random>.<random>.<region>.eks.amazonaws.com/) and 1400 random
    characters as certificateAuthority.data; no client can reach them. Tests
    may start a real kube-apiserver and register it on the server with the
    route /moto-api/eks6/control-planes (added to moto's own /moto-api/ URL
    table, moto.moto_api._internal.urls, so it needs no credentials):
      POST, a JSON object {"account": 12 digits, "region", "cluster",
        "endpoint": "https://...", "certificateAuthority": base64 of the PEM CA
        certificate(s), "serviceIpv6Cidr": an IPv6 CIDR (optional)}: registers
        it, replacing an earlier registration of that account, region and
        cluster; 200 {"controlPlane": <the registration>};
      DELETE, account, region and cluster as a JSON object (or query
        parameters): removes it; 200 {"removed": true | false};
      GET: 200 {"controlPlanes": [registrations sorted by account, region,
        cluster]};
    a malformed request gets 400 {"error": "<why>"}, another method 405.
    While a registration exists, every answer that carries that cluster
    (CreateCluster, DescribeCluster, DeleteCluster; ListClusters carries only
    names), whether the cluster existed at registration or is created later,
    reports endpoint, certificateAuthority.data and, for an ipv6 cluster,
    kubernetesNetworkConfig.serviceIpv6Cidr from it (an ipv4 cluster keeps
    reporting no IPv6 range); once it is removed, moto's placeholders and the
    serviceIpv6Cidr of (3) come back. A registration creates no cluster and is
    not checked against the endpoint. The registry is this module's state
    (_CONTROL_PLANES, keyed by (account, region, cluster)), not a moto backend;
    POST /moto-api/reset clears it as well (MotoAPIBackend.reset is wrapped).

15. STS GetCallerIdentity presigned, as EKS's token authenticator calls it. An
    EKS bearer token is k8s-aws-v1.<unpadded base64url of a presigned
    GetCallerIdentity URL>; aws-iam-authenticator (pkg/token/token.go) sends
    GET <that URL> with the headers x-k8s-aws-id: <cluster> and Accept:
    application/json, and STS checks the signature in the query. moto checks no
    query signature, and cannot even route such a request: it has no
    Authorization header, so moto's server (moto_server/werkzeug_app.py,
    DomainDispatcherApplication.infer_service_region_host) finds the service
    neither there nor in the (empty) body of a GET and hands the request to S3,
    its default. Here a request without Authorization whose query carries
    X-Amz-Credential with a credential scope of service sts goes to STS. Then
    an STS request with X-Amz-Signature in its query is checked as STS checks
    it (TokenResponse.call_action is wrapped; every other STS request is
    moto's, unchanged):
    (a) X-Amz-Algorithm AWS4-HMAC-SHA256, X-Amz-Credential <key>/<yyyymmdd>/
        <region>/sts/aws4_request, X-Amz-Date (the scope's day) and
        X-Amz-SignedHeaders naming host must be there and well formed, else
        HTTP 400 IncompleteSignature.
    (b) Time: STS honours a presigned GetCallerIdentity for 15 minutes after
        X-Amz-Date whatever X-Amz-Expires says (the authenticator's comment),
        so X-Amz-Expires is not checked. Older -> HTTP 403 SignatureDoesNotMatch
        "Signature expired: <X-Amz-Date> is now earlier than <now - 15 min>
        (<now> - 15 min.)", the message and code STS gives for a stale
        signature (aws-cli issue 6676 quotes it for GetCallerIdentity;
        ExpiredToken is STS's code for expired session credentials, below);
        more than 15 minutes ahead -> 403 SignatureDoesNotMatch "Signature not
        yet current: <X-Amz-Date> is still later than <now + 15 min> (<now> +
        15 min.)". Times as yyyymmddThhmmssZ.
    (c) The key must be one moto issued: an IAM user's access key (Active), or
        the temporary key of an STS AssumeRole, whose X-Amz-Security-Token must
        be that session's token and whose expiration must not have passed
        (else 403 ExpiredToken "The security token included in the request is
        expired"); or one given in the environment variable
        EKS6_MOTO_STATIC_KEYS, "AKID:secret[,AKID:secret...]" (read at each
        call; the test suite's static key). Anything else (also moto's fixed
        GetSessionToken/GetFederationToken example key) -> 403
        InvalidClientTokenId "The security token included in the request is
        invalid."
    (d) The signature is computed again (SigV4: method, path, the query without
        X-Amz-Signature, the headers X-Amz-SignedHeaders names, the SHA-256 of
        the empty body as botocore, the Go SDK and aws-sigv4 sign it, or
        UNSIGNED-PAYLOAD) with the key's secret; a mismatch -> 403
        SignatureDoesNotMatch "The request signature we calculated does not
        match the signature you provided. Check your AWS Secret Access Key and
        signing method. Consult the service documentation for details." The
        URL was signed for host sts.<region>.amazonaws.com but reaches the
        emulator with the emulator's Host, so the host of the canonical request
        is the value of the header x-eks6-signed-host when the request has one
        (the one emulator-only header: a real client talks to STS's own host),
        else sts.<the scope's region>.amazonaws.com (.amazonaws.com.cn for
        cn- regions). The other signed headers (x-k8s-aws-id) must come with
        the values that were signed.
    (e) The answer is the caller of that key as moto's GetCallerIdentity maps
        it: for an assumed-role key arn:aws:sts::<role's account>:assumed-role/
        <role>/<session> whatever x-moto-account-id says, for an IAM user key
        the user, for a static key moto's default arn:aws:sts::<account>:user/
        moto (the account from x-moto-account-id, else moto's default). With
        Accept naming application/json it is JSON, as STS answers the
        authenticator: {"GetCallerIdentityResponse": {"GetCallerIdentityResult":
        {"Account", "Arn", "UserId"}, "ResponseMetadata": {"RequestId"}}};
        errors then {"Error": {"Code", "Message", "Type": "Sender"},
        "RequestId"} (the body aws-cli issue 5447 shows). Otherwise STS's XML
        (GetCallerIdentityResponse, or ErrorResponse). A presigned STS action
        other than GetCallerIdentity is checked the same way, then left to moto.

16. Time-based mode. With EKS6_MOTO_TIME_SCALE set (a finite number > 0, read at
    each call; unset or empty keeps the describe counts of (1) and the call
    counts of (6); anything else makes apply() fail, so launch.py stops at
    start-up), each transitional state below lasts ``seconds`` x scale of real
    time (time.monotonic()) from when it was entered, ``seconds`` being
    its kind's typical duration in core/src/workflow/expected_durations.toml
    (found as ../../core/src/workflow/ from this file, read once with tomllib;
    apply() checks that every kind has a positive integer). eks6's wait
    schedule reads the same table, so a client polling on that schedule with
    the same scale meets the durations it expects. Describe counts do not
    matter then (EKS6_MOTO_CREATING_DESCRIBES is not used); a transition keeps
    the deadline set when it began.
    - EKS (kind in brackets): cluster CREATING -> ACTIVE [cluster-create] and
      DELETING -> gone [cluster-delete]; nodegroup CREATING -> ACTIVE or
      CREATE_FAILED (2, 10) [nodegroup-create] and DELETING -> gone
      [nodegroup-delete]; add-on CREATING -> ACTIVE or DEGRADED (9)
      [addon-create] and DELETING -> gone [addon-delete]. States whose time
      has come end before any EKS call is served (EKSResponse.call_action is
      wrapped), so ListClusters, CreateNodegroup's ACTIVE check, DeleteCluster's
      nodegroup check and the rest see them without a describe.
    - NAT gateways. moto makes one available at once and, on DeleteNatGateway,
      deleted at once (it stays listed); eks6 waits for available after a
      create and for deleted (or gone) after a delete. Here CreateNatGateway
      answers pending and the gateway stays pending for [nat-gateway-create],
      then is available; DeleteNatGateway makes it deleting for
      [nat-gateway-delete], then deleted (deleting one that is deleting or
      deleted changes nothing). Without the time-based mode moto's behaviour is
      kept.
    - The VPC's Amazon-provided IPv6 block. moto associates it at once. Here,
      for [vpc-ipv6-block] after CreateVpc with AmazonProvidedIpv6CidrBlock,
      answers (CreateVpc's, DescribeVpcs') report that association with state
      associating and an empty Ipv6CidrBlock, as EC2's CreateVpc answer does
      (AWS CLI example create-vpc); eks6 takes only a block that parses as a
      CIDR. Only what is reported changes: moto's own record says associated
      from the start (subnets may take /64s of it; the filter
      ipv6-cidr-block-association.state sees associated). AssociateVpcCidrBlock
      is not timed.
    - IAM propagation (6): with M > 0, a valid role is refused while it is
      younger than [iam-propagation] (by moto's CreateDate of the role),
      instead of for M calls; M = 0 still disables it.
    sample-rollout and namespace-delete, the table's Kubernetes waits, are not
    the emulator's.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime
import functools
import hashlib
import hmac
import ipaddress
import json
import math
import os
import re
import threading
import time
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote
from xml.sax.saxutils import escape

from moto.core.responses import ActionResult, BaseResponse, EmptyResult
from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.ec2.models import instance_types as ec2_instance_types
from moto.ec2.models.nat_gateways import NatGatewayBackend
from moto.ec2.models.vpcs import VPC, VPCBackend
from moto.ec2.responses.account_attributes import AccountAttributes
from moto.ec2.utils import random_private_ip
from moto.eks import models as eks_models
from moto.eks import urls as eks_urls
from moto.eks.exceptions import (
    EKSError,
    InvalidParameterException,
    InvalidRequestException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.eks.responses import EKSResponse
from moto.iam.exceptions import InvalidInput, NotFoundException
from moto.iam.models import iam_backends
from moto.iam.responses import IamResponse
from moto.moto_api._internal import mock_random as random
from moto.moto_api._internal import urls as moto_api_urls
from moto.moto_api._internal.models import MotoAPIBackend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sts.models import sts_backends
from moto.sts.responses import TokenResponse
from moto.utilities.utils import get_partition

ENV_DESCRIBES = "EKS6_MOTO_CREATING_DESCRIBES"
DEFAULT_DESCRIBES = 2
ENV_IAM_PROPAGATION = "EKS6_MOTO_IAM_PROPAGATION"
DEFAULT_IAM_PROPAGATION = 1
# (16) time-based mode: the scale, and the table of typical durations eks6's waits use too.
ENV_TIME_SCALE = "EKS6_MOTO_TIME_SCALE"
DURATIONS_TABLE = Path(__file__).resolve().parents[2] / "core" / "src" / "workflow" / "expected_durations.toml"
TIMED_KINDS = frozenset({
    "vpc-ipv6-block", "nat-gateway-create", "nat-gateway-delete", "cluster-create", "cluster-delete",
    "addon-create", "addon-delete", "nodegroup-create", "nodegroup-delete", "iam-propagation",
})
NODE_IMAGE_ID = "ami-00000000000e6e6e6"  # placeholder for the EKS-optimized AMI
CLUSTER_SG_DESCRIPTION = (
    "EKS created security group applied to ENI that is attached to EKS Control "
    "Plane master nodes, as well as any managed workloads."
)
MISSING_IPV6_MSG = (
    "One or more of the subnets associated with your nodegroup does not have "
    "'AssignIpv6AddressOnCreation' set to true."
)
ROLE_MSG = (
    "Role with arn: {arn}, could not be assumed because it does not exist or the "
    "trusted entity is not correct"
)
DEFAULT_KUBERNETES_VERSION = "1.33"
MIN_KUBERNETES_VERSION = (1, 23)
# EKS user guide, "Subnet requirements and considerations".
UNSUPPORTED_ZONE_IDS = frozenset({"use1-az3", "usw1-az2", "cac1-az3"})
AUTH_MODES = ("API", "API_AND_CONFIG_MAP", "CONFIG_MAP")
SUPPORT_TYPES = ("STANDARD", "EXTENDED")
ACCESS_POLICY_PREFIX = "arn:aws:eks::aws:cluster-access-policy/"
ACCESS_POLICIES = frozenset(
    ACCESS_POLICY_PREFIX + name
    for name in ("AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy", "AmazonEKSEditPolicy", "AmazonEKSViewPolicy")
)
CLUSTER_ADMIN_POLICY = ACCESS_POLICY_PREFIX + "AmazonEKSClusterAdminPolicy"
AUTH_MODE_MSG = (
    "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
    "to perform this operation."
)
ENTRY_IN_USE_MSG = "The specified access entry resource is already in use on this cluster."
ENTRY_NOT_FOUND_MSG = (
    "The specified principalArn could not be found. You can view your available access "
    "entries with 'list-access-entries'."
)
PRINCIPAL_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):(role|user)/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$")
SESSION_RE = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([\w+=,.@-]+)/.+$")
ANY_PRINCIPAL_RE = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):([a-z-]+)/(?:.+/)?([^/]+)$")
ADDON_CLUSTER_MINORS = range(23, 37)  # add-on catalog: cluster versions 1.23 .. 1.36
ADDON_ARCHITECTURES = ["amd64", "arm64"]
ADDON_FIXED = {  # name -> (type, versions newest first; the first is the default)
    "vpc-cni": ("networking", ["v1.20.4-eksbuild.1", "v1.19.6-eksbuild.1", "v1.18.6-eksbuild.1"]),
    "coredns": ("dns", ["v1.11.4-eksbuild.2", "v1.11.1-eksbuild.8"]),
}
COREDNS_ISSUE = {
    "code": "InsufficientNumberOfReplicas",
    "message": "The add-on is unhealthy because it doesn't have the desired number of replicas.",
    "resourceIds": [],
}
NODE_JOIN_ISSUE_MSG = "Instances failed to join the kubernetes cluster"
I3_METAL = "i3.metal"
NODE_PREFIX_LENGTH = 80  # (13): the IPv6 prefix each node of an ipv6 cluster gets
CONTROL_PLANES_PATH = "/moto-api/eks6/control-planes"  # (14)
ACCOUNT_RE = re.compile(r"^\d{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
CLUSTER_NAME_RE = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
# (15) presigned STS requests
SIGNED_HOST_HEADER = "x-eks6-signed-host"
ENV_STATIC_KEYS = "EKS6_MOTO_STATIC_KEYS"
SIGNATURE_WINDOW = datetime.timedelta(minutes=15)
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"
SIGNATURE_MISMATCH_MSG = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)
INVALID_TOKEN_MSG = "The security token included in the request is invalid."
EXPIRED_TOKEN_MSG = "The security token included in the request is expired"

# Serialises the patched calls: the server is threaded and the lifecycle
# counters are read-modify-write.
_LOCK = threading.RLock()
_ORIGINAL: dict[str, Any] = {}
_ADDED: dict[str, Any] = {}
# (14): (account, region, cluster) -> registration, as POSTed (normalized).
_CONTROL_PLANES: dict[tuple[str, str, str], dict[str, str]] = {}


class UnsupportedAvailabilityZoneException(EKSError):
    TYPE = "UnsupportedAvailabilityZoneException"
    STATUS = 400


def _env_count(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {raw!r}")
    return value


def transition_describes() -> int:
    """N: how many describes a CREATING/DELETING state lasts (env, default 2)."""
    return _env_count(ENV_DESCRIBES, DEFAULT_DESCRIBES)


def iam_propagation() -> int:
    """M: how many calls naming a fresh valid role fail as not yet propagated (env, default 1)."""
    return _env_count(ENV_IAM_PROPAGATION, DEFAULT_IAM_PROPAGATION)


def time_scale() -> float | None:
    """(16): the time-based mode's scale (env, a finite number > 0), or None (unset or empty): describe counts."""
    raw = os.environ.get(ENV_TIME_SCALE, "")
    if not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{ENV_TIME_SCALE} must be a number > 0, got {raw!r}")
    return value


@functools.cache
def expected_seconds() -> dict[str, int]:
    """(16): kind -> its typical seconds, from core's expected_durations.toml (read once)."""
    with DURATIONS_TABLE.open("rb") as table:
        rows = tomllib.load(table)
    seconds = {kind: row.get("seconds") for kind, row in rows.items() if isinstance(row, dict)}
    bad = sorted(k for k in TIMED_KINDS if not (type(seconds.get(k)) is int and seconds[k] > 0))
    if bad:
        raise ValueError(f"{DURATIONS_TABLE} lacks a positive integer `seconds` for {', '.join(bad)}")
    return {kind: seconds[kind] for kind in TIMED_KINDS}


def _deadline(kind: str) -> float | None:
    """(16): when a ``kind`` transition entered now ends (time.monotonic()), or None in describe-count mode."""
    scale = time_scale()
    return None if scale is None else time.monotonic() + expected_seconds()[kind] * scale


def service_ipv6_cidr(account_id: str, region: str, name: str) -> str:
    """A stable /108 inside fd00::/8 for a cluster (48 bits of prefix from a hash)."""
    digest = hashlib.sha256(f"{account_id}/{region}/{name}".encode()).digest()
    prefix = bytes([0xFD]) + digest[:5] + bytes(10)
    return str(ipaddress.IPv6Network((prefix, 108)))


def _ec2(backend: Any) -> Any:
    return ec2_backends[backend.account_id][backend.region_name]


def _iam(backend: Any) -> Any:
    return iam_backends[backend.account_id][backend.partition]


def _truthy(value: Any) -> bool:
    return value in (True, "true", "True")


def _subnets(backend: Any, subnet_ids: list[str]) -> list[Any]:
    ec2 = _ec2(backend)
    if not subnet_ids:
        raise InvalidParameterException(message="At least one subnet is required.")
    found = []
    for subnet_id in subnet_ids:
        subnet = next(
            (zone[subnet_id] for zone in ec2.subnets.values() if subnet_id in zone),
            None,
        )
        if subnet is None:
            raise InvalidParameterException(
                message=f"The subnet ID '{subnet_id}' does not exist"
            )
        found.append(subnet)
    return found


def _auto_assigns_ipv6(subnet: Any) -> bool:
    flag = subnet.assign_ipv6_address_on_creation
    return bool(subnet.ipv6_cidr_block_associations) and _truthy(flag)


def _start(resource: Any, transitional: str, final: str, kind: str) -> bool:
    """Enter `transitional` for N describes, or for ``kind``'s time in the time-based mode (16),
    or `final` at once when N is 0. True while the transition is pending."""
    due = _deadline(kind)
    n = transition_describes() if due is None else 0
    resource.eks6_due, resource.eks6_pending = due, (n or None)
    pending = due is not None or n > 0
    resource.status = transitional if pending else final
    return pending


def _due(resource: Any) -> bool:
    """(16): True, once, when the timed transition of ``resource`` has run its time."""
    due = getattr(resource, "eks6_due", None)
    if due is None or time.monotonic() < due:
        return False
    resource.eks6_due = None
    return True


def _advance(resource: Any) -> bool:
    """One describe; True when the pending transition completes now (a timed one: its time is up)."""
    if getattr(resource, "eks6_due", None) is not None:
        return _due(resource)
    pending = getattr(resource, "eks6_pending", None)
    if pending is None:
        return False
    if pending > 0:
        resource.eks6_pending = pending - 1
        return False
    resource.eks6_pending = None
    return True


def _repeat(existing: Any, token: str | None) -> bool:
    """Whether a create is a repeat of the one that made ``existing`` (same token)."""
    return existing is not None and token is not None and getattr(existing, "eks6_token", None) == token


def _cluster_or_404(backend: Any, name: str) -> Any:
    cluster = backend.clusters.get(name)
    if cluster is None:
        raise ResourceNotFoundException(
            clusterName=name,
            nodegroupName=None,
            fargateProfileName=None,
            addonName=None,
            message=eks_models.CLUSTER_NOT_FOUND_MSG.format(clusterName=name),
        )
    return cluster


def _page(
    items: list[Any], max_results: int | None, token: str | None, key: Any = lambda x: x
) -> tuple[list[Any], Any]:
    """One page of ``items`` (already ordered); the token is the key of the next item."""
    keys = [key(item) for item in items]
    start = 0
    if token:
        if token not in keys:
            raise InvalidParameterException(message="The specified nextToken is invalid.")
        start = keys.index(token)
    size = max_results if max_results and max_results > 0 else 100
    end = min(start + size, len(items))
    return items[start:end], (keys[end] if end < len(items) else None)


# --- IAM policy matching, shared by (6) and (11) -------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _statements(document: Any) -> list[dict[str, Any]]:
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    return [s for s in _as_list(statements) if isinstance(s, dict)]


def _wildcard(pattern: str, value: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.S | (re.I if ignore_case else 0)) is not None


def _matches(statement: dict[str, Any], key: str, value: str, ignore_case: bool) -> bool:
    """Action/NotAction or Resource/NotResource against one value."""
    if key in statement:
        return any(_wildcard(str(p), value, ignore_case) for p in _as_list(statement[key]))
    if "Not" + key in statement:
        return not any(_wildcard(str(p), value, ignore_case) for p in _as_list(statement["Not" + key]))
    return False


def _load_document(document: Any) -> Any:
    if isinstance(document, dict):
        return document
    try:
        return json.loads(document)
    except (TypeError, ValueError):
        return None


# --- (6) IAM roles ----------------------------------------------------------


def _trusts(role: Any, service: str) -> bool:
    document = _load_document(role.assume_role_policy_document)
    for statement in _statements(document):
        if statement.get("Effect") != "Allow" or not _matches(statement, "Action", "sts:AssumeRole", True):
            continue
        principal = statement.get("Principal")
        if principal == "*":
            return True
        if isinstance(principal, dict):
            if service in _as_list(principal.get("Service")) or "*" in _as_list(principal.get("AWS")):
                return True
    return False


def _check_role(backend: Any, arn: str | None, service: str) -> None:
    """InvalidParameterException unless ``arn`` is a role here trusting ``service`` (and propagated)."""
    refuse = InvalidParameterException(message=ROLE_MSG.format(arn=arn))
    match = re.match(r"^arn:[^:]+:iam::(\d{12}):role/", arn or "")
    if not match or match.group(1) != backend.account_id:
        raise refuse
    iam = _iam(backend)
    role = next((r for r in iam.roles.values() if r.arn == arn), None)
    if role is None or not _trusts(role, service):
        raise refuse
    wanted, scale = iam_propagation(), time_scale()
    if wanted and scale is not None:  # (16): by the role's age instead
        if (utcnow() - role.create_date).total_seconds() < expected_seconds()["iam-propagation"] * scale:
            raise refuse
    elif wanted:
        uses = iam.__dict__.setdefault("eks6_role_uses", {})
        key = (arn, role.id)
        uses[key] = uses.get(key, 0) + 1
        if uses[key] <= wanted:
            raise refuse


# --- (7) versions and zones ---------------------------------------------------


def _check_version(version: str) -> None:
    match = re.fullmatch(r"(\d+)\.(\d+)", version)
    if not match or (int(match.group(1)), int(match.group(2))) < MIN_KUBERNETES_VERSION:
        raise InvalidParameterException(message=f"unsupported Kubernetes version {version}")


def _check_zones(backend: Any, name: str, subnets: list[Any]) -> None:
    for subnet in subnets:
        if subnet.availability_zone_id in UNSUPPORTED_ZONE_IDS:
            valid = [
                zone.name
                for zone in _ec2(backend).describe_availability_zones()
                if zone.zone_id not in UNSUPPORTED_ZONE_IDS
            ]
            raise UnsupportedAvailabilityZoneException(
                clusterName=name,
                nodegroupName=None,
                validZones=valid,
                message=(
                    f"Cannot create cluster '{name}' because {subnet.availability_zone}, the targeted "
                    "availability zone, does not currently have sufficient capacity to support the "
                    "cluster. Retry and choose from these availability zones: " + ", ".join(valid)
                ),
            )


# --- (3) cluster security group, vpcId, serviceIpv6Cidr -----------------------


def _create_cluster_sg(backend: Any, name: str, vpc_id: str) -> str:
    ec2 = _ec2(backend)
    sg_name = f"eks-cluster-sg-{name}-{random.randint(10**9, 10**10 - 1)}"
    tags = {
        "Name": sg_name,
        "aws:eks:cluster-name": name,
        f"kubernetes.io/cluster/{name}": "owned",
    }
    sg = ec2.create_security_group(sg_name, CLUSTER_SG_DESCRIPTION, vpc_id=vpc_id, tags=tags)
    ec2.authorize_security_group_ingress(
        sg.id, "-1", None, None, [], source_groups=[{"GroupId": sg.id}], vpc_id=vpc_id
    )
    have = {r.cidr_ipv4 or r.cidr_ipv6 for r in sg.egress_rules if r.ip_protocol == "-1"}
    for cidr, key in (("0.0.0.0/0", "CidrIp"), ("::/0", "CidrIpv6")):
        if cidr not in have:
            ec2.authorize_security_group_egress(sg.id, "-1", None, None, [{key: cidr}], vpc_id=vpc_id)
    return sg.id


def _network_config(backend: Any, name: str, requested: dict[str, Any] | None) -> dict[str, Any]:
    config = dict(requested or {})
    if config.get("ipFamily") == "ipv6":
        config.pop("serviceIpv4Cidr", None)
        config["serviceIpv6Cidr"] = service_ipv6_cidr(backend.account_id, backend.region_name, name)
    else:
        config.setdefault("ipFamily", "ipv4")
        config.setdefault("serviceIpv4Cidr", eks_models.DEFAULT_KUBERNETES_NETWORK_CONFIG["serviceIpv4Cidr"])
    return config


# --- (5) access config, upgrade policy --------------------------------------------


def _access_config(requested: dict[str, Any] | None) -> dict[str, Any]:
    requested = requested or {}
    mode = requested.get("authenticationMode") or "CONFIG_MAP"
    if mode not in AUTH_MODES:
        raise InvalidParameterException(message=f"Unsupported authenticationMode: {mode}")
    bootstrap = requested.get("bootstrapClusterCreatorAdminPermissions")
    return {"authenticationMode": mode, "bootstrapClusterCreatorAdminPermissions": bootstrap is not False}


def _upgrade_policy(requested: dict[str, Any] | None) -> dict[str, Any]:
    support = (requested or {}).get("supportType") or "EXTENDED"
    if support not in SUPPORT_TYPES:
        raise InvalidParameterException(message=f"Unsupported supportType: {support}")
    return {"supportType": support}


def creator_principal(account_id: str, region: str, partition: str, access_key: str) -> str:
    """The IAM principal EKS would record as the cluster creator (see 5)."""
    _, arn, _ = sts_backends[account_id][partition].get_caller_identity(access_key, region)
    match = SESSION_RE.match(arn)
    if not match:
        return arn
    part, account, role_name = match.groups()
    for role in iam_backends[account][part].roles.values():
        if role.name == role_name:
            return role.arn
    return f"arn:{part}:iam::{account}:role/{role_name}"


def create_cluster(self: Any, name: str, role_arn: str, resources_vpc_config: dict[str, Any], **kwargs: Any) -> Any:
    with _LOCK:
        access_requested = kwargs.pop("access_config", None)
        upgrade_requested = kwargs.pop("upgrade_policy", None)
        bootstrap_addons = kwargs.pop("bootstrap_self_managed_addons", None)
        creator = kwargs.pop("creator_arn", None)
        token = kwargs.get("client_request_token")
        if _repeat(self.clusters.get(name), token):
            return _control_plane_view(self, self.clusters[name])
        if name in self.clusters:  # moto raises its ResourceInUseException
            return _ORIGINAL["create_cluster"](
                self, name=name, role_arn=role_arn, resources_vpc_config=resources_vpc_config
            )
        access_config = _access_config(access_requested)
        upgrade_policy = _upgrade_policy(upgrade_requested)
        kwargs["version"] = kwargs.get("version") or DEFAULT_KUBERNETES_VERSION
        _check_version(kwargs["version"])
        _check_role(self, role_arn, "eks.amazonaws.com")
        vpc_config = dict(resources_vpc_config or {})
        subnets = _subnets(self, list(vpc_config.get("subnetIds") or []))
        _check_zones(self, name, subnets)
        kwargs["kubernetes_network_config"] = _network_config(self, name, kwargs.get("kubernetes_network_config"))
        cluster = _ORIGINAL["create_cluster"](
            self, name=name, role_arn=role_arn, resources_vpc_config=vpc_config, **kwargs
        )
        vpc_id = subnets[0].vpc_id
        vpc_config["vpcId"] = vpc_id
        vpc_config["clusterSecurityGroupId"] = _create_cluster_sg(self, name, vpc_id)
        cluster.resources_vpc_config = vpc_config
        cluster.eks6_token = token
        cluster.access_config = access_config
        cluster.upgrade_policy = upgrade_policy
        cluster.eks6_bootstrap_addons = bootstrap_addons is not False
        cluster.eks6_access_entries = {}
        cluster.eks6_addons = {}
        if creator and access_config["authenticationMode"] != "CONFIG_MAP" and access_config[
            "bootstrapClusterCreatorAdminPermissions"
        ]:
            entry = AccessEntry(self, cluster, creator, None, None, None)
            entry.associate(CLUSTER_ADMIN_POLICY, {"type": "cluster", "namespaces": []})
            cluster.eks6_access_entries[creator] = entry
        _start(cluster, "CREATING", "ACTIVE", "cluster-create")
        return _control_plane_view(self, cluster)


def update_cluster_config(self: Any, name: str, resources_vpc_config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    with _LOCK:
        cluster = self.clusters.get(name)
        if cluster is not None and resources_vpc_config:
            resources_vpc_config = {**cluster.resources_vpc_config, **resources_vpc_config}
        return _ORIGINAL["update_cluster_config"](self, name=name, resources_vpc_config=resources_vpc_config, **kwargs)


def _remove_cluster(self: Any, name: str) -> None:
    cluster = self.clusters.pop(name)
    self.cluster_count -= 1
    sg_id = cluster.resources_vpc_config.get("clusterSecurityGroupId")
    ec2 = _ec2(self)
    if sg_id and ec2.get_security_group_from_id(sg_id) is not None:
        ec2.delete_security_group(group_id=sg_id)


def _complete_cluster(self: Any, cluster: Any) -> None:
    """The cluster's pending transition ends: CREATING -> ACTIVE, DELETING -> gone."""
    if cluster.status == "DELETING":
        _remove_cluster(self, cluster.name)
    else:
        cluster.status = "ACTIVE"


def describe_cluster(self: Any, name: str) -> Any:
    with _LOCK:
        cluster = _ORIGINAL["describe_cluster"](self, name=name)
        if _advance(cluster):
            _complete_cluster(self, cluster)
            if name not in self.clusters:
                return _ORIGINAL["describe_cluster"](self, name=name)  # raises not found
        return _control_plane_view(self, cluster)


def delete_cluster(self: Any, name: str) -> Any:
    with _LOCK:
        cluster = self.clusters.get(name)
        if cluster is None:
            return _ORIGINAL["delete_cluster"](self, name=name)  # raises not found
        eks_models.validate_safe_to_delete(cluster)  # ResourceInUseException
        if cluster.status == "DELETING":
            return _control_plane_view(self, cluster)
        if not _start(cluster, "DELETING", "DELETING", "cluster-delete"):
            _remove_cluster(self, name)
        return _control_plane_view(self, cluster)


# --- (14) registered control planes -----------------------------------------------


def _control_plane_view(backend: Any, cluster: Any) -> Any:
    """Make ``cluster`` report its registered control plane, or moto's placeholders when none."""
    with _LOCK:
        own = getattr(cluster, "eks6_placeholders", None)
        if own is None:  # the first look: what moto and (3) made, before any registration applied
            own = cluster.eks6_placeholders = {
                "endpoint": cluster.endpoint,
                "certificateAuthority": cluster.certificate_authority,
                "serviceIpv6Cidr": cluster.kubernetes_network_config.get("serviceIpv6Cidr"),
            }
        registered = _CONTROL_PLANES.get((backend.account_id, backend.region_name, cluster.name))
        if registered is None:
            endpoint, authority, service = own["endpoint"], own["certificateAuthority"], own["serviceIpv6Cidr"]
        else:
            endpoint = registered["endpoint"]
            authority = {"data": registered["certificateAuthority"]}
            service = registered.get("serviceIpv6Cidr") or own["serviceIpv6Cidr"]
        cluster.endpoint, cluster.certificate_authority = endpoint, authority
        config = cluster.kubernetes_network_config
        if config.get("ipFamily") == "ipv6" and service and config.get("serviceIpv6Cidr") != service:
            cluster.kubernetes_network_config = {**config, "serviceIpv6Cidr": service}
        return cluster


class ControlPlaneError(ValueError):
    pass


def _control_plane_key(document: dict[str, Any]) -> tuple[str, str, str]:
    values = []
    for name, pattern in (("account", ACCOUNT_RE), ("region", REGION_RE), ("cluster", CLUSTER_NAME_RE)):
        value = document.get(name)
        if not isinstance(value, str) or not pattern.match(value):
            raise ControlPlaneError(f"{name} is missing or malformed: {value!r}")
        values.append(value)
    return values[0], values[1], values[2]


def _registration(document: dict[str, Any]) -> dict[str, str]:
    account, region, cluster = _control_plane_key(document)
    endpoint = document.get("endpoint")
    if not isinstance(endpoint, str) or not re.match(r"^https://[^/\s]+", endpoint):
        raise ControlPlaneError(f"endpoint must be an https:// URL: {endpoint!r}")
    authority = document.get("certificateAuthority")
    try:
        pem = base64.b64decode(authority, validate=True) if isinstance(authority, str) else b""
    except (binascii.Error, ValueError):
        pem = b""
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise ControlPlaneError("certificateAuthority must be the base64 of a PEM CA certificate")
    registration: dict[str, str] = {
        "account": account, "region": region, "cluster": cluster,
        "endpoint": endpoint, "certificateAuthority": str(authority),
    }
    service = document.get("serviceIpv6Cidr")
    if service is not None:
        try:
            registration["serviceIpv6Cidr"] = str(ipaddress.IPv6Network(service))
        except (TypeError, ValueError):
            raise ControlPlaneError(f"serviceIpv6Cidr must be an IPv6 CIDR: {service!r}") from None
    return registration


def _json_answer(status: int, document: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    return status, {"Content-Type": "application/json"}, json.dumps(document)


def handle_control_planes(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    """The route of (14): POST registers, DELETE removes, GET lists."""
    method = request.method
    if method == "GET":
        with _LOCK:
            planes = [dict(_CONTROL_PLANES[key]) for key in sorted(_CONTROL_PLANES)]
        return _json_answer(200, {"controlPlanes": planes})
    if method not in ("POST", "DELETE"):
        return _json_answer(405, {"error": f"{method} is not supported; use GET, POST or DELETE"})
    try:
        raw = request.get_data() or b""
        document = json.loads(raw) if raw.strip() else {}
        if not isinstance(document, dict):
            raise ControlPlaneError("the body must be a JSON object")
        if method == "DELETE":
            document = {**{k: v for k, v in request.args.items()}, **document}
            key = _control_plane_key(document)
            with _LOCK:
                removed = _CONTROL_PLANES.pop(key, None) is not None
            return _json_answer(200, {"removed": removed})
        registration = _registration(document)
    except (ControlPlaneError, ValueError) as error:
        return _json_answer(400, {"error": str(error)})
    with _LOCK:
        _CONTROL_PLANES[(registration["account"], registration["region"], registration["cluster"])] = registration
    return _json_answer(200, {"controlPlane": registration})


def reset_moto_api(self: Any) -> None:
    """MotoAPIBackend.reset (POST /moto-api/reset), clearing the registry of (14) too."""
    with _LOCK:
        _CONTROL_PLANES.clear()
    _ORIGINAL["MotoAPIBackend.reset"](self)


# --- (8) access entries ---------------------------------------------------------


class AccessEntry:
    def __init__(
        self,
        backend: Any,
        cluster: Any,
        principal_arn: str,
        kubernetes_groups: list[str] | None,
        username: str | None,
        tags: dict[str, str] | None,
        token: str | None = None,
    ):
        match = ANY_PRINCIPAL_RE.match(principal_arn)
        account, kind, name = match.groups() if match else (backend.account_id, "role", principal_arn)
        kind = "role" if kind in ("role", "assumed-role") else "user"
        partition = principal_arn.split(":")[1] if principal_arn.count(":") > 1 else backend.partition
        self.cluster_name = cluster.name
        self.principal_arn = principal_arn
        self.kubernetes_groups = list(kubernetes_groups or [])
        self.access_entry_arn = (
            f"arn:{backend.partition}:eks:{backend.region_name}:{backend.account_id}:access-entry/"
            f"{cluster.name}/{kind}/{account}/{name}/{random.uuid4()}"
        )
        self.created_at = self.modified_at = utcnow()
        self.tags = dict(tags or {})
        if kind == "role":  # EKS's default username for a role
            default = f"arn:{partition}:sts::{account}:assumed-role/{name}/{{{{SessionName}}}}"
        else:
            default = principal_arn
        self.username = username or default
        self.type = "STANDARD"
        self.eks6_token = token
        self.policies: dict[str, dict[str, Any]] = {}

    def associate(self, policy_arn: str, scope: dict[str, Any]) -> dict[str, Any]:
        now = utcnow()
        policy = self.policies.get(policy_arn)
        if policy is None:
            policy = self.policies[policy_arn] = {"policyArn": policy_arn, "associatedAt": now}
        policy["accessScope"] = scope
        policy["modifiedAt"] = now
        return policy


def _access_cluster(backend: Any, name: str) -> Any:
    cluster = _cluster_or_404(backend, name)
    if cluster.access_config["authenticationMode"] == "CONFIG_MAP":
        raise InvalidRequestException(clusterName=name, message=AUTH_MODE_MSG)
    return cluster


def _entry(backend: Any, cluster_name: str, principal_arn: str) -> tuple[Any, AccessEntry]:
    cluster = _access_cluster(backend, cluster_name)
    entry = cluster.eks6_access_entries.get(principal_arn)
    if entry is None:
        raise ResourceNotFoundException(
            clusterName=cluster_name, nodegroupName=None, fargateProfileName=None, addonName=None,
            message=ENTRY_NOT_FOUND_MSG,
        )
    return cluster, entry


def create_access_entry(
    backend: Any, cluster_name: str, principal_arn: str, kubernetes_groups: list[str] | None,
    username: str | None, tags: dict[str, str] | None, type_: str | None, token: str | None,
) -> AccessEntry:
    with _LOCK:
        cluster = _access_cluster(backend, cluster_name)
        existing = cluster.eks6_access_entries.get(principal_arn)
        if _repeat(existing, token):
            return existing
        if not PRINCIPAL_RE.match(principal_arn or ""):
            raise InvalidParameterException(
                clusterName=cluster_name, message=f"The specified principalArn is invalid: {principal_arn}"
            )
        if (type_ or "STANDARD") != "STANDARD":
            raise InvalidParameterException(
                clusterName=cluster_name,
                message=f"The access entry type {type_} is not supported by the emulator (only STANDARD).",
            )
        if existing is not None:
            raise ResourceInUseException(
                clusterName=cluster_name, nodegroupName=None, addonName=None, message=ENTRY_IN_USE_MSG
            )
        entry = AccessEntry(backend, cluster, principal_arn, kubernetes_groups, username, tags, token)
        cluster.eks6_access_entries[principal_arn] = entry
        return entry


def list_access_entries(backend: Any, cluster_name: str, policy_arn: str | None, max_results: int | None,
                        token: str | None) -> tuple[list[str], str | None]:
    with _LOCK:
        cluster = _access_cluster(backend, cluster_name)
        arns = sorted(
            arn for arn, entry in cluster.eks6_access_entries.items() if not policy_arn or policy_arn in entry.policies
        )
        return _page(arns, max_results, token)


def delete_access_entry(backend: Any, cluster_name: str, principal_arn: str) -> None:
    with _LOCK:
        cluster, _ = _entry(backend, cluster_name, principal_arn)
        del cluster.eks6_access_entries[principal_arn]


def associate_access_policy(backend: Any, cluster_name: str, principal_arn: str, policy_arn: str,
                            scope: dict[str, Any] | None) -> dict[str, Any]:
    with _LOCK:
        _, entry = _entry(backend, cluster_name, principal_arn)
        if policy_arn not in ACCESS_POLICIES:
            raise InvalidParameterException(
                clusterName=cluster_name, message=f"The specified policyArn is invalid: {policy_arn}"
            )
        scope = dict(scope or {})
        kind, namespaces = scope.get("type"), list(scope.get("namespaces") or [])
        if kind == "cluster" and not namespaces:
            scope = {"type": "cluster", "namespaces": []}
        elif kind == "namespace" and namespaces:
            scope = {"type": "namespace", "namespaces": namespaces}
        else:
            raise InvalidParameterException(
                clusterName=cluster_name,
                message="accessScope must be of type cluster without namespaces or of type namespace with namespaces.",
            )
        return entry.associate(policy_arn, scope)


def disassociate_access_policy(backend: Any, cluster_name: str, principal_arn: str, policy_arn: str) -> None:
    with _LOCK:
        _, entry = _entry(backend, cluster_name, principal_arn)
        if entry.policies.pop(policy_arn, None) is None:
            raise ResourceNotFoundException(
                clusterName=cluster_name, nodegroupName=None, fargateProfileName=None, addonName=None,
                message=f"The policy {policy_arn} is not associated with the access entry.",
            )


# --- (9) managed add-ons ----------------------------------------------------------


def addon_catalog() -> dict[str, tuple[str, list[tuple[str, dict[str, bool]]]]]:
    """name -> (type, [(addonVersion, {clusterVersion: defaultVersion})]), newest first."""
    all_minors = [f"1.{m}" for m in ADDON_CLUSTER_MINORS]
    catalog: dict[str, tuple[str, list[tuple[str, dict[str, bool]]]]] = {}
    for name, (kind, versions) in ADDON_FIXED.items():
        catalog[name] = (kind, [(v, {k: i == 0 for k in all_minors}) for i, v in enumerate(versions)])
    kube_proxy = []
    for minor in reversed(ADDON_CLUSTER_MINORS):
        kube_proxy.append((f"v1.{minor}.3-eksbuild.2", {f"1.{minor}": True}))
        kube_proxy.append((f"v1.{minor}.0-eksbuild.1", {f"1.{minor}": False}))
    catalog["kube-proxy"] = ("networking", kube_proxy)
    return dict(sorted(catalog.items()))


def describe_addon_versions(kubernetes_version: str | None, addon_name: str | None, types: list[str],
                            publishers: list[str], owners: list[str], max_results: int | None,
                            token: str | None) -> tuple[list[dict[str, Any]], str | None]:
    addons = []
    for name, (kind, versions) in addon_catalog().items():
        if (addon_name and name != addon_name) or (types and kind not in types):
            continue
        if (publishers and "eks" not in publishers) or (owners and "aws" not in owners):
            continue
        infos = []
        for version, compat in versions:
            if kubernetes_version:
                if kubernetes_version not in compat:
                    continue
                compat = {kubernetes_version: compat[kubernetes_version]}
            infos.append({
                "addonVersion": version,
                "architecture": list(ADDON_ARCHITECTURES),
                "computeTypes": ["ec2"],
                "compatibilities": [
                    {"clusterVersion": k, "platformVersions": ["*"], "defaultVersion": d} for k, d in compat.items()
                ],
                "requiresConfiguration": False,
                "requiresIamPermissions": name == "vpc-cni",
            })
        if infos:
            addons.append({
                "addonName": name, "type": kind, "addonVersions": infos,
                "publisher": "eks", "owner": "aws", "defaultNamespace": "kube-system",
            })
    return _page(addons, max_results, token, key=lambda a: a["addonName"])


class Addon:
    def __init__(self, backend: Any, cluster: Any, name: str, version: str, token: str | None,
                 tags: dict[str, str] | None, service_account_role_arn: str | None, configuration_values: str | None):
        self.addon_name = name
        self.cluster_name = cluster.name
        self.status = "CREATING"
        self.addon_version = version
        self.health: dict[str, Any] = {"issues": []}
        self.addon_arn = (
            f"arn:{backend.partition}:eks:{backend.region_name}:{backend.account_id}:addon/"
            f"{cluster.name}/{name}/{random.uuid4()}"
        )
        self.created_at = self.modified_at = utcnow()
        self.service_account_role_arn = service_account_role_arn
        self.tags = dict(tags or {})
        self.publisher = "eks"
        self.owner = "aws"
        self.configuration_values = configuration_values
        self.eks6_token = token
        self.eks6_pending: int | None = None
        self.eks6_due: float | None = None
        self.eks6_ready = False


def _addon_not_found(cluster_name: str, name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(
        clusterName=cluster_name, nodegroupName=None, fargateProfileName=None, addonName=name,
        message=f"No addon: {name} found in cluster: {cluster_name}",
    )


def _settle_addon(cluster: Any, addon: Addon) -> None:
    """The state of a created add-on, evaluated at each describe (coredns needs nodes)."""
    if not addon.eks6_ready or addon.status == "DELETING":
        return
    if addon.addon_name == "coredns" and not any(ng.status == "ACTIVE" for ng in cluster.nodegroups.values()):
        addon.status, addon.health = "DEGRADED", {"issues": [dict(COREDNS_ISSUE, resourceIds=[])]}
    else:
        addon.status, addon.health = "ACTIVE", {"issues": []}


def create_addon(backend: Any, cluster_name: str, name: str, version: str | None, token: str | None,
                 tags: dict[str, str] | None, service_account_role_arn: str | None,
                 configuration_values: str | None) -> Addon:
    with _LOCK:
        cluster = _cluster_or_404(backend, cluster_name)
        existing = cluster.eks6_addons.get(name)
        if _repeat(existing, token):
            return existing
        if existing is not None:
            raise ResourceInUseException(clusterName=cluster_name, nodegroupName=None, addonName=name,
                                         message="Addon already exists.")
        if not cluster.is_active:
            raise InvalidRequestException(
                clusterName=cluster_name, addonName=name,
                message=eks_models.CLUSTER_NOT_READY_MSG.format(clusterName=cluster_name),
            )
        _, versions = addon_catalog().get(name, ("", []))
        fitting = [(v, compat[cluster.version]) for v, compat in versions if cluster.version in compat]
        if not fitting:
            raise InvalidParameterException(
                clusterName=cluster_name, addonName=name,
                message=f"Addon {name} specified is not supported in {cluster.version} kubernetes version",
            )
        if version is None:
            version = next(v for v, default in fitting if default)
        elif version not in [v for v, _ in fitting]:
            raise InvalidParameterException(
                clusterName=cluster_name, addonName=name,
                message=f"Addon version {version} specified is not supported for {name} in "
                f"{cluster.version} kubernetes version",
            )
        addon = Addon(backend, cluster, name, version, token, tags, service_account_role_arn, configuration_values)
        cluster.eks6_addons[name] = addon
        if not _start(addon, "CREATING", "ACTIVE", "addon-create"):
            addon.eks6_ready = True
            _settle_addon(cluster, addon)
        return addon


def _complete_addon(cluster: Any, addon: Addon) -> None:
    """The add-on's pending transition ends: created (its state is settled at each describe), or gone."""
    if addon.status == "DELETING":
        del cluster.eks6_addons[addon.addon_name]
    else:
        addon.eks6_ready = True


def describe_addon(backend: Any, cluster_name: str, name: str) -> Addon:
    with _LOCK:
        cluster = _cluster_or_404(backend, cluster_name)
        addon = cluster.eks6_addons.get(name)
        if addon is None:
            raise _addon_not_found(cluster_name, name)
        if _advance(addon):
            _complete_addon(cluster, addon)
            if name not in cluster.eks6_addons:
                raise _addon_not_found(cluster_name, name)
        _settle_addon(cluster, addon)
        return addon


def list_addons(
    backend: Any, cluster_name: str, max_results: int | None, token: str | None
) -> tuple[list[str], str | None]:
    with _LOCK:
        cluster = _cluster_or_404(backend, cluster_name)
        return _page(sorted(cluster.eks6_addons), max_results, token)


def delete_addon(backend: Any, cluster_name: str, name: str) -> Addon:
    with _LOCK:
        cluster = _cluster_or_404(backend, cluster_name)
        addon = cluster.eks6_addons.get(name)
        if addon is None:
            raise _addon_not_found(cluster_name, name)
        if addon.status == "DELETING":
            return addon
        if not _start(addon, "DELETING", "DELETING", "addon-delete"):
            del cluster.eks6_addons[name]
        return addon


# --- (1)+(2)+(10) nodegroup lifecycle, instances, networking ----------------------


def _launch_nodes(self: Any, cluster: Any, nodegroup: Any, subnets: list[Any]) -> list[str]:
    ec2 = _ec2(self)
    count = int((nodegroup.scaling_config or {}).get("desiredSize") or 0)
    tags = {
        "eks:cluster-name": cluster.name,
        "eks:nodegroup-name": nodegroup.nodegroup_name,
        f"kubernetes.io/cluster/{cluster.name}": "owned",
        "aws:autoscaling:groupName": nodegroup.resources["autoScalingGroups"][0]["name"],
    }
    ids: list[str] = []
    for index in range(count):
        subnet = subnets[index % len(subnets)]
        reservation = ec2.run_instances(
            NODE_IMAGE_ID,
            1,
            None,
            [],
            instance_type=nodegroup.instance_types[0],
            is_instance_type_default=False,
            region_name=self.region_name,
            subnet_id=subnet.id,
            security_group_ids=[cluster.resources_vpc_config["clusterSecurityGroupId"]],
            nics=[{"DeviceIndex": 0, "SubnetId": subnet.id, "DeleteOnTermination": True}],
            ipv6_address_count=1 if _auto_assigns_ipv6(subnet) else None,
            tags={"instance": dict(tags)},
        )
        if cluster.kubernetes_network_config.get("ipFamily") == "ipv6":
            for instance in reservation.instances:
                delegate_ipv6_prefix(ec2, instance.nics[0])
        ids.extend(instance.id for instance in reservation.instances)
    return ids


# --- (13) IPv6 prefixes on nodes ---------------------------------------------------


def _subnet_ipv6_cidr(subnet: Any) -> ipaddress.IPv6Network | None:
    for association in subnet.ipv6_cidr_block_associations.values():
        cidr = association.get("ipv6CidrBlock")
        if cidr:
            return ipaddress.IPv6Network(cidr, strict=False)
    return None


def _covering(address: str) -> ipaddress.IPv6Network:
    return ipaddress.IPv6Network((address, NODE_PREFIX_LENGTH), strict=False)


def delegate_ipv6_prefix(ec2: Any, eni: Any) -> str | None:
    """Give ``eni`` the lowest free /80 of its subnet's IPv6 CIDR (see 13); None without IPv6."""
    cidr = _subnet_ipv6_cidr(eni.subnet)
    if cidr is None or cidr.prefixlen > NODE_PREFIX_LENGTH:
        return None
    others = [e for e in list(ec2.enis.values()) if e is not eni and e.subnet.id == eni.subnet.id]
    delegated = {
        ipaddress.IPv6Network(p["Ipv6Prefix"]) for e in others for p in getattr(e, "ipv6_prefixes", None) or []
    }
    # This interface's addresses stay out of every delegated /80 (moto draws them at random).
    for index, address in enumerate(eni.ipv6_addresses):
        while _covering(address) in delegated:
            address = random_private_ip(str(cidr), ipv6=True)
        eni.ipv6_addresses[index] = address
    first = cidr.network_address
    taken = delegated | {_covering(str(first)), _covering(str(cidr.broadcast_address))}
    taken |= {_covering(a) for e in [*others, eni] for a in e.ipv6_addresses if a}
    size = 1 << (128 - NODE_PREFIX_LENGTH)
    for index in range(1 << (NODE_PREFIX_LENGTH - cidr.prefixlen)):
        candidate = ipaddress.IPv6Network((int(first) + index * size, NODE_PREFIX_LENGTH))
        if candidate not in taken:
            eni.ipv6_prefixes = [{"Ipv6Prefix": str(candidate)}]
            return str(candidate)
    return None


def create_nodegroup(self: Any, cluster_name: str, node_role: str, nodegroup_name: str, subnets: list[str], **kwargs: Any) -> Any:
    with _LOCK:
        token = kwargs.get("client_request_token")
        owner = self.clusters.get(cluster_name)
        if owner is not None and _repeat(owner.nodegroups.get(nodegroup_name), token):
            return owner.nodegroups[nodegroup_name]
        if owner is None or nodegroup_name in owner.nodegroups or not owner.is_active:
            # moto raises its ResourceNotFound/ResourceInUse/InvalidRequest exception
            return _ORIGINAL["create_nodegroup"](
                self, cluster_name=cluster_name, node_role=node_role, nodegroup_name=nodegroup_name, subnets=subnets
            )
        _check_role(self, node_role, "ec2.amazonaws.com")
        subnet_objs = _subnets(self, list(subnets or []))
        nodegroup = _ORIGINAL["create_nodegroup"](
            self, cluster_name=cluster_name, node_role=node_role, nodegroup_name=nodegroup_name, subnets=subnets, **kwargs
        )
        cluster = self.clusters[cluster_name]
        nodegroup.eks6_token = token
        nodegroup.eks6_issue = None
        nodegroup.eks6_instance_ids = []
        missing = [s.id for s in subnet_objs if not _auto_assigns_ipv6(s)]
        if cluster.kubernetes_network_config.get("ipFamily") == "ipv6" and missing:
            nodegroup.eks6_issue = {
                "code": "Ec2SubnetMissingIpv6Assignment",
                "message": MISSING_IPV6_MSG,
                "resourceIds": missing,
            }
        elif "clusterSecurityGroupId" in cluster.resources_vpc_config:
            nodegroup.eks6_instance_ids = _launch_nodes(self, cluster, nodegroup, subnet_objs)
        if not _start(nodegroup, "CREATING", "ACTIVE", "nodegroup-create"):
            _finish_nodegroup_create(self, cluster, nodegroup)
        return nodegroup


def _join_failure(self: Any, cluster: Any) -> bool:
    """(10): whether nodes of ``cluster`` could not join it now."""
    addons = getattr(cluster, "eks6_addons", {})
    if getattr(cluster, "eks6_bootstrap_addons", True) is False and not any(
        a.addon_name == "vpc-cni" and a.status != "DELETING" for a in addons.values()
    ):
        return True
    vpc = _ec2(self).vpcs.get(cluster.resources_vpc_config.get("vpcId"))
    return vpc is not None and not (_truthy(vpc.enable_dns_support) and _truthy(vpc.enable_dns_hostnames))


def _finish_nodegroup_create(self: Any, cluster: Any, nodegroup: Any) -> None:
    issue = nodegroup.eks6_issue
    if issue is None and _join_failure(self, cluster):
        issue = {
            "code": "NodeCreationFailure",
            "message": NODE_JOIN_ISSUE_MSG,
            "resourceIds": list(nodegroup.eks6_instance_ids),
        }
    if issue:
        nodegroup.status = "CREATE_FAILED"
        nodegroup.health = {"issues": [issue]}
    else:
        nodegroup.status = "ACTIVE"


def _remove_nodegroup(self: Any, cluster_name: str, nodegroup_name: str) -> None:
    cluster = self.clusters[cluster_name]
    cluster.nodegroups.pop(nodegroup_name)
    cluster.nodegroup_count -= 1


def _complete_nodegroup(self: Any, cluster: Any, nodegroup: Any) -> None:
    """The nodegroup's pending transition ends: created (ACTIVE or CREATE_FAILED), or gone."""
    if nodegroup.status == "DELETING":
        _remove_nodegroup(self, cluster.name, nodegroup.nodegroup_name)
    else:
        _finish_nodegroup_create(self, cluster, nodegroup)


def describe_nodegroup(self: Any, cluster_name: str, nodegroup_name: str) -> Any:
    with _LOCK:
        nodegroup = _ORIGINAL["describe_nodegroup"](self, cluster_name=cluster_name, nodegroup_name=nodegroup_name)
        if _advance(nodegroup):
            cluster = self.clusters[cluster_name]
            _complete_nodegroup(self, cluster, nodegroup)
            if nodegroup_name not in cluster.nodegroups:
                # raises not found
                return _ORIGINAL["describe_nodegroup"](self, cluster_name=cluster_name, nodegroup_name=nodegroup_name)
        return nodegroup


def delete_nodegroup(self: Any, cluster_name: str, nodegroup_name: str) -> Any:
    with _LOCK:
        cluster = self.clusters.get(cluster_name)
        nodegroup = cluster.nodegroups.get(nodegroup_name) if cluster else None
        if nodegroup is None:  # moto raises the right ResourceNotFoundException
            return _ORIGINAL["delete_nodegroup"](self, cluster_name=cluster_name, nodegroup_name=nodegroup_name)
        if nodegroup.status == "DELETING":
            return nodegroup
        instance_ids = getattr(nodegroup, "eks6_instance_ids", [])
        if instance_ids:
            _ec2(self).terminate_instances(instance_ids)
            nodegroup.eks6_instance_ids = []
        if not _start(nodegroup, "DELETING", "DELETING", "nodegroup-delete"):
            _remove_nodegroup(self, cluster_name, nodegroup_name)
        return nodegroup


# --- EKS handlers (EKSResponse methods) ---------------------------------------------


def _query_list(response: Any, name: str) -> list[str]:
    values = response.querystring.get(name) if response.querystring is not None else None
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []


def handle_create_cluster(self: Any) -> ActionResult:
    cluster = self.eks_backend.create_cluster(
        name=self._get_param("name"),
        version=self._get_param("version"),
        role_arn=self._get_param("roleArn"),
        resources_vpc_config=self._get_param("resourcesVpcConfig"),
        kubernetes_network_config=self._get_param("kubernetesNetworkConfig"),
        logging=self._get_param("logging"),
        client_request_token=self._get_param("clientRequestToken"),
        tags=self._get_param("tags"),
        encryption_config=self._get_param("encryptionConfig"),
        remote_network_config=self._get_param("remoteNetworkConfig"),
        access_config=self._get_param("accessConfig"),
        upgrade_policy=self._get_param("upgradePolicy"),
        bootstrap_self_managed_addons=self._get_param("bootstrapSelfManagedAddons"),
        creator_arn=creator_principal(self.current_account, self.region, self.partition, self.get_access_key()),
    )
    return ActionResult({"cluster": cluster})


def handle_create_access_entry(self: Any) -> ActionResult:
    entry = create_access_entry(
        self.eks_backend,
        self._get_param("name"),
        self._get_param("principalArn"),
        self._get_param("kubernetesGroups"),
        self._get_param("username"),
        self._get_param("tags"),
        self._get_param("type"),
        self._get_param("clientRequestToken"),
    )
    return ActionResult({"accessEntry": entry})


def handle_describe_access_entry(self: Any) -> ActionResult:
    with _LOCK:
        _, entry = _entry(self.eks_backend, self._get_param("name"), self._get_param("principalArn"))
        return ActionResult({"accessEntry": entry})


def handle_list_access_entries(self: Any) -> ActionResult:
    arns, token = list_access_entries(
        self.eks_backend,
        self._get_param("name"),
        self._get_param("associatedPolicyArn"),
        self._get_int_param("maxResults"),
        self._get_param("nextToken"),
    )
    return ActionResult({"accessEntries": arns, "nextToken": token})


def handle_delete_access_entry(self: Any) -> ActionResult:
    delete_access_entry(self.eks_backend, self._get_param("name"), self._get_param("principalArn"))
    return EmptyResult()


def handle_associate_access_policy(self: Any) -> ActionResult:
    name, principal = self._get_param("name"), self._get_param("principalArn")
    policy = associate_access_policy(
        self.eks_backend, name, principal, self._get_param("policyArn"), self._get_param("accessScope")
    )
    return ActionResult({"clusterName": name, "principalArn": principal, "associatedAccessPolicy": policy})


def handle_disassociate_access_policy(self: Any) -> ActionResult:
    disassociate_access_policy(
        self.eks_backend, self._get_param("name"), self._get_param("principalArn"), self._get_param("policyArn")
    )
    return EmptyResult()


def handle_list_associated_access_policies(self: Any) -> ActionResult:
    name, principal = self._get_param("name"), self._get_param("principalArn")
    with _LOCK:
        _, entry = _entry(self.eks_backend, name, principal)
        policies = sorted(entry.policies.values(), key=lambda p: p["policyArn"])
        page, token = _page(policies, self._get_int_param("maxResults"), self._get_param("nextToken"),
                            key=lambda p: p["policyArn"])
    return ActionResult(
        {"clusterName": name, "principalArn": principal, "associatedAccessPolicies": page, "nextToken": token}
    )


def handle_create_addon(self: Any) -> ActionResult:
    addon = create_addon(
        self.eks_backend,
        self._get_param("name"),
        self._get_param("addonName"),
        self._get_param("addonVersion"),
        self._get_param("clientRequestToken"),
        self._get_param("tags"),
        self._get_param("serviceAccountRoleArn"),
        self._get_param("configurationValues"),
    )
    return ActionResult({"addon": addon})


def handle_describe_addon(self: Any) -> ActionResult:
    addon = describe_addon(self.eks_backend, self._get_param("name"), self._get_param("addonName"))
    return ActionResult({"addon": addon})


def handle_list_addons(self: Any) -> ActionResult:
    names, token = list_addons(
        self.eks_backend, self._get_param("name"), self._get_int_param("maxResults"), self._get_param("nextToken")
    )
    return ActionResult({"addons": names, "nextToken": token})


def handle_delete_addon(self: Any) -> ActionResult:
    addon = delete_addon(self.eks_backend, self._get_param("name"), self._get_param("addonName"))
    return ActionResult({"addon": addon})


def handle_describe_addon_versions(self: Any) -> ActionResult:
    addons, token = describe_addon_versions(
        self._get_param("kubernetesVersion"),
        self._get_param("addonName"),
        _query_list(self, "types"),
        _query_list(self, "publishers"),
        _query_list(self, "owners"),
        self._get_int_param("maxResults"),
        self._get_param("nextToken"),
    )
    return ActionResult({"addons": addons, "nextToken": token})


# Routes for moto's server: the first (werkzeug) match is on the decoded path, so
# a principalArn label may contain slashes there; operations are then picked by
# moto's router from the botocore model, on the raw path.
_EKS_URL_PATHS = {
    "{0}/clusters/(?P<name>[^/]+)/access-entries$": EKSResponse.dispatch,
    "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>.+)$": EKSResponse.dispatch,
    "{0}/clusters/(?P<name>[^/]+)/addons$": EKSResponse.dispatch,
    "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)$": EKSResponse.dispatch,
    "{0}/addons/supported-versions$": EKSResponse.dispatch,
}

_EKS_HANDLERS = {
    "create_cluster": handle_create_cluster,
    "create_access_entry": handle_create_access_entry,
    "describe_access_entry": handle_describe_access_entry,
    "list_access_entries": handle_list_access_entries,
    "delete_access_entry": handle_delete_access_entry,
    "associate_access_policy": handle_associate_access_policy,
    "disassociate_access_policy": handle_disassociate_access_policy,
    "list_associated_access_policies": handle_list_associated_access_policies,
    "create_addon": handle_create_addon,
    "describe_addon": handle_describe_addon,
    "list_addons": handle_list_addons,
    "delete_addon": handle_delete_addon,
    "describe_addon_versions": handle_describe_addon_versions,
}


# --- (11) IAM SimulatePrincipalPolicy ------------------------------------------------


def _default_document(policy: Any) -> str:
    return next((v.document for v in policy.versions if v.is_default), policy.versions[0].document)


def _managed(policies: Any) -> list[tuple[str, str, str]]:
    return [
        (_default_document(p), p.name, "aws-managed" if ":iam::aws:policy" in p.arn else "user-managed")
        for p in policies.values()
    ]


def principal_policies(iam: Any, arn: str) -> list[tuple[str, str, str]]:
    """(document, SourcePolicyId, SourcePolicyType) of a role, user or group; NoSuchEntity if none."""
    for role in iam.roles.values():
        if role.arn == arn:
            return [(doc, name, "role") for name, doc in role.policies.items()] + _managed(role.managed_policies)
    for user in iam.users.values():
        if user.arn == arn:
            found = [(doc, name, "user") for name, doc in user.policies.items()] + _managed(user.managed_policies)
            for group in iam.get_groups_for_user(user.name):
                found += [(doc, name, "group") for name, doc in group.policies.items()]
                found += _managed(group.managed_policies)
            return found
    for group in iam.groups.values():
        if group.arn == arn:
            return [(doc, name, "group") for name, doc in group.policies.items()] + _managed(group.managed_policies)
    raise NotFoundException(f"PolicySourceArn {arn} does not name a role, user or group of this account.")


def _condition_keys(statement: dict[str, Any]) -> list[str]:
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return []
    return [key for block in condition.values() if isinstance(block, dict) for key in block]


def simulate(policies: list[tuple[str, str, str]], actions: list[str], resources: list[str]) -> list[dict[str, Any]]:
    parsed = []
    for document, source_id, source_type in policies:
        for statement in _statements(_load_document(document)):
            parsed.append((statement, {"SourcePolicyId": source_id, "SourcePolicyType": source_type}))
    results = []
    for action in actions:
        for resource in resources:
            hits = [
                (st, src) for st, src in parsed
                if _matches(st, "Action", action, True) and _matches(st, "Resource", resource, False)
            ]
            denies = [src for st, src in hits if st.get("Effect") == "Deny"]
            allows = [src for st, src in hits if st.get("Effect") == "Allow"]
            decision, matched = (
                ("explicitDeny", denies) if denies else ("allowed", allows) if allows else ("implicitDeny", [])
            )
            missing = sorted({key for st, _ in hits for key in _condition_keys(st)})
            results.append({
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": decision,
                "MatchedStatements": matched,
                "MissingContextValues": missing,
            })
    return results


def handle_simulate_principal_policy(self: Any) -> ActionResult:
    arn = self._get_param("PolicySourceArn")
    policies = principal_policies(self.backend, arn)
    for index, document in enumerate(self._get_param("PolicyInputList") or [], start=1):
        if _load_document(document) is None:
            raise InvalidInput(f"PolicyInputList.{index} is not valid JSON.")
        policies.append((document, f"PolicyInputList.{index}", "none"))
    actions = list(self._get_param("ActionNames") or [])
    results = simulate(policies, actions, list(self._get_param("ResourceArns") or ["*"]))
    return ActionResult({"EvaluationResults": results, "IsTruncated": False})


# --- (12) EC2 ------------------------------------------------------------------------


def handle_describe_account_attributes(self: Any) -> ActionResult:
    result = _ORIGINAL["AccountAttributes.describe_account_attributes"](self)
    wanted = self._get_param("AttributeNames")
    if wanted:
        attributes = result.result["AccountAttributes"]
        result.result["AccountAttributes"] = [a for a in attributes if a["AttributeName"] in wanted]
    return result


def _i3_metal() -> dict[str, Any]:
    data = copy.deepcopy(ec2_instance_types.INSTANCE_TYPES["i3.16xlarge"])
    data.pop("Hypervisor", None)
    data.update(InstanceType=I3_METAL, BareMetal=True)
    data["VCpuInfo"] = {
        "DefaultVCpus": 72, "DefaultCores": 36, "DefaultThreadsPerCore": 2,
    }
    data["MemoryInfo"] = {"SizeInMiB": 524288}
    data["SupportedVirtualizationTypes"] = ["hvm"]
    return data


def _add_i3_metal() -> None:
    if I3_METAL in ec2_instance_types.INSTANCE_TYPES:
        return
    ec2_instance_types.INSTANCE_TYPES[I3_METAL] = _i3_metal()
    ec2_instance_types.InstanceTypeBackend.instance_types.append(ec2_instance_types.InstanceType(I3_METAL))
    added = []
    for by_region in ec2_instance_types.INSTANCE_TYPE_OFFERINGS.values():
        for offerings in by_region.values():
            extra = [dict(o, InstanceType=I3_METAL) for o in offerings if o.get("InstanceType") == "i3.16xlarge"]
            offerings.extend(extra)
            added.append((offerings, extra))
    _ADDED["i3.metal offerings"] = added


def _remove_i3_metal() -> None:
    if "i3.metal offerings" not in _ADDED:
        return
    for offerings, extra in _ADDED.pop("i3.metal offerings"):
        for offering in extra:
            offerings.remove(offering)
    types = ec2_instance_types.InstanceTypeBackend.instance_types
    types[:] = [t for t in types if t.get("InstanceType") != I3_METAL]
    ec2_instance_types.INSTANCE_TYPES.pop(I3_METAL, None)


# --- (15) STS GetCallerIdentity presigned ------------------------------------------


class StsAuthError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _credential_scope(query: str) -> list[str] | None:
    """[key, day, region, service, terminator] of the query's X-Amz-Credential, if well formed."""
    credential = dict(parse_qsl(query, keep_blank_values=True)).get("X-Amz-Credential", "")
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts) or not re.fullmatch(r"[a-z0-9-]+", parts[2]):
        return None
    return parts


def infer_service_region_host(self: Any, environ: dict[str, Any], path: str) -> str | None:
    """moto's server dispatch, plus: no Authorization, an sts credential scope in the query -> STS."""
    if not environ.get("HTTP_AUTHORIZATION"):
        scope = _credential_scope(environ.get("QUERY_STRING", ""))
        if scope is not None and scope[3] == "sts":
            return f"sts.{scope[2]}.amazonaws.com"
    return _ORIGINAL["DomainDispatcherApplication.infer_service_region_host"](self, environ, path)


def static_keys() -> dict[str, str]:
    """EKS6_MOTO_STATIC_KEYS, "AKID:secret[,AKID:secret...]", as {AKID: secret}."""
    keys = {}
    for item in os.environ.get(ENV_STATIC_KEYS, "").split(","):
        key, sep, secret = item.strip().partition(":")
        if key and sep and secret:
            keys[key] = secret
    return keys


def _amz_date(value: datetime.datetime) -> str:
    return value.strftime(AMZ_DATE_FORMAT)


def _check_time(amz_date: str, signed_at: datetime.datetime) -> None:
    now = utcnow().replace(tzinfo=None)
    if now - SIGNATURE_WINDOW > signed_at:
        raise StsAuthError(403, "SignatureDoesNotMatch", (
            f"Signature expired: {amz_date} is now earlier than {_amz_date(now - SIGNATURE_WINDOW)} "
            f"({_amz_date(now)} - 15 min.)"
        ))
    if signed_at > now + SIGNATURE_WINDOW:
        raise StsAuthError(403, "SignatureDoesNotMatch", (
            f"Signature not yet current: {amz_date} is still later than {_amz_date(now + SIGNATURE_WINDOW)} "
            f"({_amz_date(now)} + 15 min.)"
        ))


def _find_key(key_id: str, token: str | None, region: str) -> tuple[str, str | None, str]:
    """(secret, account or None, partition) of an access key (see 15 c), else StsAuthError."""
    sts: Any
    for _, partition, sts in list(sts_backends.iter_backends()):
        role = sts.get_assumed_role_from_access_key(key_id)
        if role is not None:
            if token != role.session_token:
                raise StsAuthError(403, "InvalidClientTokenId", INVALID_TOKEN_MSG)
            if role.expiration.replace(tzinfo=None) <= utcnow().replace(tzinfo=None):
                raise StsAuthError(403, "ExpiredToken", EXPIRED_TOKEN_MSG)
            return role.secret_access_key, role.account_id, partition
    iam: Any
    for account, partition, iam in list(iam_backends.iter_backends()):
        key = iam.access_keys.get(key_id)
        if key is not None and key.user_name is not None:
            if key.status != "Active":
                raise StsAuthError(403, "InvalidClientTokenId", INVALID_TOKEN_MSG)
            return key.secret_access_key, account, partition
    secret = static_keys().get(key_id)
    if secret is None:
        raise StsAuthError(403, "InvalidClientTokenId", INVALID_TOKEN_MSG)
    return secret, None, get_partition(region)


def _uri_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def presigned_signatures(
    secret: str, method: str, path: str, params: list[tuple[str, str]], headers: list[tuple[str, str]],
    signed_headers: str, amz_date: str, scope: list[str],
) -> list[str]:
    """The SigV4 query signatures of a request (one per accepted payload hash)."""
    query = "&".join(f"{k}={v}" for k, v in sorted(
        (_uri_encode(k), _uri_encode(v)) for k, v in params if k != "X-Amz-Signature"
    ))
    canonical_headers = "".join(f"{name}:{' '.join(value.split())}\n" for name, value in headers)
    day, region, service, terminator = scope[1:]
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), day), region), service), terminator)
    signatures = []
    for payload in (EMPTY_SHA256, "UNSIGNED-PAYLOAD"):
        canonical = "\n".join(
            [method, quote(path or "/", safe="/~"), query, canonical_headers, signed_headers, payload]
        )
        to_sign = "\n".join([
            "AWS4-HMAC-SHA256", amz_date, "/".join(scope[1:]), hashlib.sha256(canonical.encode()).hexdigest(),
        ])
        signatures.append(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest())
    return signatures


def verify_presigned(method: str, path: str, raw_query: str, headers: Any) -> tuple[str, str | None, str]:
    """Check a presigned STS request as STS does (see 15): (key id, its account or None, partition)."""
    params = parse_qsl(raw_query, keep_blank_values=True)
    query = dict(params)
    incomplete = StsAuthError(400, "IncompleteSignature", "The request signature does not conform to AWS standards.")
    scope = _credential_scope(raw_query)
    amz_date = query.get("X-Amz-Date", "")
    signed_headers = query.get("X-Amz-SignedHeaders", "")
    names = signed_headers.split(";")
    try:
        signed_at = datetime.datetime.strptime(amz_date, AMZ_DATE_FORMAT)
    except ValueError:
        raise incomplete from None
    if (query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or scope is None or scope[3] != "sts"
            or scope[4] != "aws4_request" or scope[1] != amz_date[:8] or not query.get("X-Amz-Signature")
            or "host" not in names or names != sorted(set(names)) or signed_headers != signed_headers.lower()):
        raise incomplete
    _check_time(amz_date, signed_at)
    region = scope[2]
    secret, account, partition = _find_key(scope[0], query.get("X-Amz-Security-Token"), region)
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    host = headers.get(SIGNED_HOST_HEADER) or f"sts.{region}.{domain}"
    values = [(name, host if name == "host" else headers.get(name)) for name in names]
    if any(value is None for _, value in values):
        raise StsAuthError(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH_MSG)
    expected = presigned_signatures(secret, method, path, params, values, signed_headers, amz_date, scope)
    if not any(hmac.compare_digest(query["X-Amz-Signature"], signature) for signature in expected):
        raise StsAuthError(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH_MSG)
    return scope[0], account, partition


def _sts_answer(status: int, wants_json: bool, document: dict[str, Any], xml: str, request_id: str
                ) -> tuple[int, dict[str, str], str]:
    headers = {"x-amzn-RequestId": request_id}
    if wants_json:
        headers["Content-Type"] = "application/json"
        return status, headers, json.dumps(document)
    headers["Content-Type"] = "text/xml"
    return status, headers, xml


def sts_call_action(self: Any) -> Any:
    """TokenResponse.call_action: presigned requests are checked (15); the rest is moto's."""
    original = _ORIGINAL["TokenResponse.call_action"]
    original = BaseResponse.call_action if original is _ABSENT else original
    if "X-Amz-Signature" not in self.querystring:
        return original(self)
    wants_json = "application/json" in (self.headers.get("Accept") or "")
    request_id = str(random.uuid4())
    try:
        with _LOCK:
            key, account, partition = verify_presigned(self.method, self.path, self.parsed_url.query, self.headers)
    except StsAuthError as error:
        fields = {"Type": "Sender", "Code": error.code, "Message": error.message}
        xml = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items())
        return _sts_answer(
            error.status, wants_json, {"Error": fields, "RequestId": request_id},
            f'<ErrorResponse xmlns="{STS_XMLNS}"><Error>{xml}</Error><RequestId>{request_id}</RequestId>'
            "</ErrorResponse>",
            request_id,
        )
    if self._get_action() != "GetCallerIdentity":
        return original(self)
    region = (_credential_scope(self.parsed_url.query) or ["", "", ""])[2]  # well formed: checked above
    account = account or self.current_account  # a static key: x-moto-account-id, else moto's default
    user_id, arn, account = sts_backends[account][partition].get_caller_identity(key, region)
    result = {"Account": account, "Arn": arn, "UserId": user_id}
    xml = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in (("Arn", arn), ("UserId", user_id), ("Account", account)))
    return _sts_answer(
        200, wants_json,
        {"GetCallerIdentityResponse": {
            "GetCallerIdentityResult": result, "ResponseMetadata": {"RequestId": request_id},
        }},
        f'<GetCallerIdentityResponse xmlns="{STS_XMLNS}"><GetCallerIdentityResult>{xml}</GetCallerIdentityResult>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
        request_id,
    )


# --- (16) time-based mode ------------------------------------------------------------------


def _settle(backend: Any) -> None:
    """End every timed transition of an EKS backend whose time has come (before any EKS call)."""
    for cluster in list(backend.clusters.values()):
        for nodegroup in list(cluster.nodegroups.values()):
            if _due(nodegroup):
                _complete_nodegroup(backend, cluster, nodegroup)
        for addon in list(getattr(cluster, "eks6_addons", {}).values()):
            if _due(addon):
                _complete_addon(cluster, addon)
        if _due(cluster):
            _complete_cluster(backend, cluster)


def eks_call_action(self: Any) -> Any:
    """EKSResponse.call_action: the timed transitions that are due end first, so every EKS call
    (List*, CreateNodegroup's ACTIVE check, ...) sees them; then moto's dispatch."""
    if time_scale() is not None:
        # The backend is looked up outside the lock: moto's BackendDict takes a lock of
        # its own while it makes an account's backends (which may call patched code).
        backend = self.eks_backend
        with _LOCK:
            _settle(backend)
    original = _ORIGINAL["EKSResponse.call_action"]
    return (BaseResponse.call_action if original is _ABSENT else original)(self)


def _settle_nat_gateways(ec2: Any) -> None:
    for nat in list(ec2.nat_gateways.values()):
        if _due(nat):
            nat.state = "available" if nat.state == "pending" else "deleted"


def create_nat_gateway(self: Any, *args: Any, **kwargs: Any) -> Any:
    """NatGatewayBackend.create_nat_gateway: timed, the new gateway is pending for its time."""
    with _LOCK:
        nat = _ORIGINAL["NatGatewayBackend.create_nat_gateway"](self, *args, **kwargs)
        due = _deadline("nat-gateway-create")
        if due is not None:
            nat.state, nat.eks6_due = "pending", due
        return nat


def describe_nat_gateways(self: Any, *args: Any, **kwargs: Any) -> Any:
    """NatGatewayBackend.describe_nat_gateways, after the timed states that are due have ended."""
    with _LOCK:
        _settle_nat_gateways(self)
        return _ORIGINAL["NatGatewayBackend.describe_nat_gateways"](self, *args, **kwargs)


def delete_nat_gateway(self: Any, nat_gateway_id: str) -> Any:
    """NatGatewayBackend.delete_nat_gateway: timed, the gateway is deleting for its time, then deleted
    (moto's: deleted at once)."""
    with _LOCK:
        _settle_nat_gateways(self)
        nat = self.nat_gateways.get(nat_gateway_id)
        due = _deadline("nat-gateway-delete")
        if due is None or nat is None:
            return _ORIGINAL["NatGatewayBackend.delete_nat_gateway"](self, nat_gateway_id)
        if nat.state not in ("deleting", "deleted"):
            nat.state, nat.eks6_due = "deleting", due
        return nat


def create_vpc(self: Any, *args: Any, **kwargs: Any) -> Any:
    """VPCBackend.create_vpc: timed, the Amazon-provided IPv6 block is associating for its time."""
    with _LOCK:
        vpc = _ORIGINAL["VPCBackend.create_vpc"](self, *args, **kwargs)
        due = _deadline("vpc-ipv6-block")
        if due is not None and any(a.get("ipv6_pool") == "Amazon" for a in vpc.get_cidr_block_association_set(True)):
            vpc.eks6_ipv6_due = due
        return vpc


def vpc_ipv6_associations(self: Any) -> list[dict[str, Any]]:
    """VPC.ipv6_cidr_block_association_set (what EC2 answers report): while a timed Amazon-provided
    block associates, it has state associating and an empty ipv6CidrBlock, as CreateVpc answers on EC2."""
    associations = _ORIGINAL["VPC.ipv6_cidr_block_association_set"].fget(self)
    due = getattr(self, "eks6_ipv6_due", None)
    if due is None or time.monotonic() >= due:
        return associations
    return [
        dict(a, ipv6CidrBlock="", ipv6CidrBlockState=dict(a["ipv6CidrBlockState"], state="associating"))
        if a.get("ipv6_pool") == "Amazon" else a
        for a in associations
    ]


_PATCHES = {
    "create_cluster": create_cluster,
    "describe_cluster": describe_cluster,
    "delete_cluster": delete_cluster,
    "update_cluster_config": update_cluster_config,
    "create_nodegroup": create_nodegroup,
    "describe_nodegroup": describe_nodegroup,
    "delete_nodegroup": delete_nodegroup,
}


def _patch(cls: type, name: str, replacement: Any, key: str) -> None:
    _ORIGINAL[key] = cls.__dict__.get(name, _ABSENT)
    setattr(cls, name, replacement)


def _unpatch(cls: type, name: str, key: str) -> None:
    original = _ORIGINAL.pop(key)
    if original is _ABSENT:
        delattr(cls, name)
    else:
        setattr(cls, name, original)


_ABSENT = object()
_RESPONSE_PATCHES = [
    *((EKSResponse, name, handler, f"EKSResponse.{name}") for name, handler in _EKS_HANDLERS.items()),
    (
        IamResponse, "simulate_principal_policy", handle_simulate_principal_policy,
        "IamResponse.simulate_principal_policy",
    ),
    (
        AccountAttributes, "describe_account_attributes", handle_describe_account_attributes,
        "AccountAttributes.describe_account_attributes",
    ),
    (TokenResponse, "call_action", sts_call_action, "TokenResponse.call_action"),
    (
        DomainDispatcherApplication, "infer_service_region_host", infer_service_region_host,
        "DomainDispatcherApplication.infer_service_region_host",
    ),
    (MotoAPIBackend, "reset", reset_moto_api, "MotoAPIBackend.reset"),
    (EKSResponse, "call_action", eks_call_action, "EKSResponse.call_action"),
    *((NatGatewayBackend, name, handler, f"NatGatewayBackend.{name}") for name, handler in (
        ("create_nat_gateway", create_nat_gateway),
        ("describe_nat_gateways", describe_nat_gateways),
        ("delete_nat_gateway", delete_nat_gateway),
    )),
    (VPCBackend, "create_vpc", create_vpc, "VPCBackend.create_vpc"),
    (VPC, "ipv6_cidr_block_association_set", property(vpc_ipv6_associations), "VPC.ipv6_cidr_block_association_set"),
]
_MOTO_API_PATHS = {"{0}" + CONTROL_PLANES_PATH + "$": handle_control_planes}


def apply() -> None:
    """Patch moto in this process (idempotent); call before the server is created."""
    transition_describes()  # fail early on a bad environment value (or table)
    iam_propagation()
    if time_scale() is not None:
        expected_seconds()
    with _LOCK:
        if _ORIGINAL:
            return
        for method, replacement in _PATCHES.items():
            _ORIGINAL[method] = getattr(eks_models.EKSBackend, method)
            setattr(eks_models.EKSBackend, method, replacement)
        for cls, name, replacement, key in _RESPONSE_PATCHES:
            _patch(cls, name, replacement, key)
        for path, handler in _EKS_URL_PATHS.items():
            if path not in eks_urls.url_paths:
                eks_urls.url_paths[path] = handler
                _ADDED.setdefault("url_paths", []).append(path)
        for path, handler in _MOTO_API_PATHS.items():
            if path not in moto_api_urls.url_paths:
                moto_api_urls.url_paths[path] = handler
                _ADDED.setdefault("moto_api_paths", []).append(path)
        _add_i3_metal()


def remove() -> None:
    """Undo apply()."""
    with _LOCK:
        if not _ORIGINAL:
            return
        for cls, name, _, key in _RESPONSE_PATCHES:
            _unpatch(cls, name, key)
        for method, original in _ORIGINAL.items():
            setattr(eks_models.EKSBackend, method, original)
        _ORIGINAL.clear()
        for path in _ADDED.pop("url_paths", []):
            eks_urls.url_paths.pop(path, None)
        for path in _ADDED.pop("moto_api_paths", []):
            moto_api_urls.url_paths.pop(path, None)
        _CONTROL_PLANES.clear()
        _remove_i3_metal()
