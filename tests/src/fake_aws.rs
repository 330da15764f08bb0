//! An HTTP-level fake of AWS for fault tests: SDK clients whose HTTP client answers each
//! operation from rules, with the bytes AWS itself would send (EC2's XML, EKS's JSON and
//! its `x-amzn-errortype` errors), so every answer goes through the SDK's real
//! deserializers, retry classifiers and eks6's error classification.
//!
//! It needs no `test-util` feature of any SDK crate (those would give the workspace a
//! second feature set, and a second build of the AWS SDK): the clients are plain ones with
//! an [`HttpClient`] of this module and an interceptor that names the operation.
//!
//! ```no_run
//! use eks6_tests::fake_aws::{Reply, Rule, clients};
//! let describe = Rule::new("DescribeCluster").then(Reply::eks_error(404, "ResourceNotFoundException", "no cluster"));
//! let clients = clients("us-east-1", &[], &[describe.clone()], 3);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, Metadata};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;

/// The header the interceptor names the operation in, for the fake to match on.
const OP_HEADER: &str = "x-eks6-fake-operation";

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Reply {
    /// An EC2 answer: `inner` is the XML inside `<{op}Response>`.
    pub fn ec2(op: &str, inner: &str) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type", "text/xml;charset=UTF-8".into())],
            body: format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{op}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>fake</requestId>{inner}</{op}Response>"
            ),
        }
    }

    /// An EC2 error with AWS's code (status 400).
    pub fn ec2_error(code: &str, message: &str) -> Self {
        Self {
            status: 400,
            headers: vec![("content-type", "text/xml;charset=UTF-8".into())],
            body: format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>fake</RequestID></Response>"
            ),
        }
    }

    /// An IAM (query protocol) error.
    pub fn iam_error(status: u16, code: &str, message: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "text/xml".into())],
            body: format!(
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fake</RequestId></ErrorResponse>"
            ),
        }
    }

    /// An EKS answer: a JSON body.
    pub fn eks(json: serde_json::Value) -> Self {
        Self { status: 200, headers: vec![("content-type", "application/json".into())], body: json.to_string() }
    }

    /// An EKS error: the status and `x-amzn-errortype` EKS sends for that code.
    pub fn eks_error(status: u16, code: &str, message: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into()), ("x-amzn-errortype", code.to_string())],
            body: serde_json::json!({ "message": message }).to_string(),
        }
    }

    /// Any status and body (a 500 with a body no model describes).
    pub fn http(status: u16, body: &str) -> Self {
        Self { status, headers: Vec::new(), body: body.into() }
    }

    fn response(&self) -> HttpResponse {
        let mut r = HttpResponse::new(
            StatusCode::try_from(self.status).expect("a valid status"),
            SdkBody::from(self.body.clone()),
        );
        for (k, v) in &self.headers {
            r.headers_mut().insert(*k, v.clone());
        }
        r
    }
}

/// How one operation answers: queued replies in order, then the last one for ever.
#[derive(Clone)]
pub struct Rule(Arc<RuleInner>);

struct RuleInner {
    op: String,
    replies: Mutex<VecDeque<Reply>>,
    last: Mutex<Option<Reply>>,
    calls: AtomicUsize,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rule({}, {} calls)", self.0.op, self.num_calls())
    }
}

impl Rule {
    /// A rule for the operation named as the SDK names it (`DescribeCluster`).
    pub fn new(op: &str) -> Self {
        Self(Arc::new(RuleInner {
            op: op.into(),
            replies: Mutex::new(VecDeque::new()),
            last: Mutex::new(None),
            calls: AtomicUsize::new(0),
        }))
    }

    /// Answers `reply` next (and from then on, once the queue is empty).
    pub fn then(self, reply: Reply) -> Self {
        self.times(reply, 1)
    }

    /// Answers `reply` the next `n` times.
    pub fn times(self, reply: Reply, n: usize) -> Self {
        let mut q = self.0.replies.lock().unwrap();
        for _ in 0..n {
            q.push_back(reply.clone());
        }
        drop(q);
        self
    }

    /// How many requests the rule answered.
    pub fn num_calls(&self) -> usize {
        self.0.calls.load(Ordering::SeqCst)
    }

    fn answer(&self) -> HttpResponse {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        let next = self.0.replies.lock().unwrap().pop_front();
        let mut last = self.0.last.lock().unwrap();
        if let Some(r) = next {
            *last = Some(r);
        }
        last.as_ref().map_or_else(|| Reply::http(599, "no reply queued").response(), Reply::response)
    }
}

/// The fake HTTP client: answers by the operation's rule; 418 for an operation with none
/// (so a test sees at once which call it did not expect).
#[derive(Debug, Clone)]
struct Fake(Arc<Vec<Rule>>);

impl HttpConnector for Fake {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let op = request.headers().get(OP_HEADER).unwrap_or_default().to_string();
        let response = match self.0.iter().find(|r| r.0.op == op) {
            Some(rule) => rule.answer(),
            None => Reply::http(418, &format!("the fake has no rule for {op}")).response(),
        };
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for Fake {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// Names the operation in a request header, for [`Fake`].
#[derive(Debug)]
struct NameOperation;

impl Intercept for NameOperation {
    fn name(&self) -> &'static str {
        "eks6-tests::NameOperation"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name = cfg.load::<Metadata>().map(|m| m.name().to_string()).unwrap_or_default();
        context.request_mut().headers_mut().insert(OP_HEADER, name);
        Ok(())
    }
}

/// A new account for the fake's STS to answer `GetCallerIdentity` with: each set of
/// clients works in its own account (and so takes its own plan locks).
fn fresh_account() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{:012}", 900_000_000_000 + NEXT.fetch_add(1, Ordering::Relaxed))
}

/// EC2, EKS, IAM and STS clients of `region` answered by the rules (STS answers
/// `GetCallerIdentity` with an account of their own), retrying up to `attempts` times
/// with a 1 ms back-off. Unless a rule says otherwise, EKS has no add-on
/// (`DescribeAddon` is not found) and IAM has no role or policy (`GetRole`, `GetPolicy`
/// answer `NoSuchEntity`): what an account without eks6's roles answers.
pub fn clients(region: &str, ec2_rules: &[Rule], eks_rules: &[Rule], attempts: u32) -> eks6::aws::Clients {
    let mut eks_rules = eks_rules.to_vec();
    eks_rules.push(Rule::new("DescribeAddon").then(Reply::eks_error(404, "ResourceNotFoundException", "No addon")));
    let iam_rules = vec![
        Rule::new("GetRole").then(Reply::iam_error(404, "NoSuchEntity", "The role cannot be found.")),
        Rule::new("GetPolicy").then(Reply::iam_error(404, "NoSuchEntity", "The policy cannot be found.")),
    ];
    let creds = Credentials::new("AKIDFAKE", "fake-secret", None, None, "eks6-fake");
    let ec2 = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(creds.clone())
        .http_client(SharedHttpClient::new(Fake(Arc::new(ec2_rules.to_vec()))))
        .interceptor(NameOperation)
        .retry_config(
            aws_sdk_ec2::config::retry::RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .build();
    let eks = aws_sdk_eks::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_eks::config::Region::new(region.to_string()))
        .credentials_provider(creds.clone())
        .http_client(SharedHttpClient::new(Fake(Arc::new(eks_rules))))
        .interceptor(NameOperation)
        .retry_config(
            aws_sdk_eks::config::retry::RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .build();
    let account = fresh_account();
    let identity = Rule::new("GetCallerIdentity").then(Reply {
        status: 200,
        headers: vec![("content-type", "text/xml".into())],
        body: format!(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::{account}:user/fake</Arn><UserId>AIDAFAKE</UserId><Account>{account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
        ),
    });
    let sts = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(region.to_string()))
        .credentials_provider(creds.clone())
        .http_client(SharedHttpClient::new(Fake(Arc::new(vec![identity]))))
        .interceptor(NameOperation)
        .build();
    let iam = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_iam::config::Region::new(region.to_string()))
        .credentials_provider(creds)
        .http_client(SharedHttpClient::new(Fake(Arc::new(iam_rules))))
        .interceptor(NameOperation)
        .build();
    eks6::aws::Clients {
        ec2: aws_sdk_ec2::Client::from_conf(ec2),
        eks: aws_sdk_eks::Client::from_conf(eks),
        iam: aws_sdk_iam::Client::from_conf(iam),
        sts: aws_sdk_sts::Client::from_conf(sts),
        credentials: None,
    }
}
