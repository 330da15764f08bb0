//! `docs/IAM.md` lists exactly the IAM actions of the EC2, EKS, IAM and STS operations
//! the code can call, and its policy grants them: a new SDK call without a new line in
//! the doc fails here, and so does a line for a call that is gone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

const BEGIN: &str = "<!-- actions:begin -->";
const END: &str = "<!-- actions:end -->";

/// Methods of the SDK clients that are not AWS operations, so need no IAM action:
/// - `config`: `Client::config()`, the client's configuration (read in `Aws::from_clients`);
/// - `clone`: `Client` is `Clone`, and a clone calls nothing (not in the code today).
const NOT_OPERATIONS: &[&str] = &["config", "clone"];

/// The clients whose calls are AWS operations.
const SERVICES: &[&str] = &["ec2", "eks", "iam", "sts"];

/// Actions the policy grants beyond the listed ones, with the reason.
const POLICY_EXTRAS: &[&str] = &[
    // Tags given at creation (TagSpecifications) are authorized as `ec2:CreateTags` too.
    "ec2:CreateTags",
    // And IAM's `Tags` of CreateRole and CreatePolicy as `iam:TagRole` / `iam:TagPolicy`.
    "iam:TagRole",
    "iam:TagPolicy",
];

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn doc() -> String {
    let path = repo("../docs/IAM.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Where the raw string literal (`r"…"`, `r#"…"#`, `br"…"`) starting at `i` ends, if one
/// starts there.
fn raw_string_end(c: &[char], i: usize) -> Option<usize> {
    if c[i] != 'r' {
        return None;
    }
    // `r` must begin the token, or follow a lone `b` or `c` prefix.
    let starts_token = |k: usize| k == 0 || !is_ident(c[k - 1]);
    let begins_literal = starts_token(i) || (matches!(c[i - 1], 'b' | 'c') && starts_token(i - 1));
    if !begins_literal {
        return None;
    }
    let mut j = i + 1;
    let mut hashes = 0;
    while c.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if c.get(j) != Some(&'"') {
        return None; // `r#ident` or a plain identifier
    }
    j += 1;
    while j < c.len() {
        if c[j] == '"' && (1..=hashes).all(|h| c.get(j + h) == Some(&'#')) {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(c.len())
}

/// The source with comments and the insides of string and character literals blanked
/// out (newlines kept), so that `ec2.describe_vpcs()` in a comment or a message is not
/// taken for a call.
fn code_only(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        let start = i;
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            // Block comments nest.
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some(end) = raw_string_end(&c, i) {
            i = end;
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                // Skip the escaped character (`\"`, `\\`).
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c[i] == '\'' && next == Some('\\') {
            // An escaped character literal: `'\n'`, `'\''`, `'\u{2014}'`.
            i += 3;
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else if c[i] == '\'' && c.get(i + 2) == Some(&'\'') {
            // A plain character literal: `'x'`, `'"'`.
            i += 3;
        } else {
            // Code, a lifetime or a label included.
            out.push(c[i]);
            i += 1;
            continue;
        }
        for &ch in &c[start..i.min(c.len())] {
            out.push(if ch == '\n' { '\n' } else { ' ' });
        }
    }
    out
}

fn is_snake_case(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// (`ec2` or `eks`, method) of every `ec2.method(` and `eks.method(` in the code, with
/// any whitespace or newlines between the parts (`self\n.ec2\n.create_subnet()`).
fn client_calls(src: &str) -> Vec<(String, String)> {
    // Tokens: each identifier (or number) is one; every other non-space character is one.
    let mut tokens: Vec<String> = Vec::new();
    let mut word = String::new();
    for ch in code_only(src).chars() {
        if is_ident(ch) {
            word.push(ch);
            continue;
        }
        if !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        if !ch.is_whitespace() {
            tokens.push(ch.to_string());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
        .windows(4)
        .filter(|w| SERVICES.contains(&w[0].as_str()) && w[1] == "." && is_snake_case(&w[2]) && w[3] == "(")
        .map(|w| (w[0].clone(), w[2].clone()))
        .collect()
}

/// `describe_vpcs` → `DescribeVpcs`.
fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The IAM actions of the EC2 and EKS operations called anywhere in `core/src`.
fn code_actions() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&repo("../core/src"), &mut files);
    files.sort();
    assert!(!files.is_empty(), "no .rs files under core/src");
    let mut actions = BTreeSet::new();
    for file in &files {
        let src = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (service, method) in client_calls(&src) {
            if NOT_OPERATIONS.contains(&method.as_str()) {
                continue;
            }
            assert!(
                !method.starts_with("wait_until_"),
                "{}: the SDK waiter {service}.{method}() polls a Describe operation; list that action in docs/IAM.md and teach this test the mapping",
                file.display()
            );
            actions.insert(format!("{service}:{}", pascal_case(&method)));
        }
    }
    actions
}

/// The actions between the markers, in document order.
fn listed_actions(doc: &str) -> Vec<String> {
    assert_eq!(doc.matches(BEGIN).count(), 1, "docs/IAM.md needs exactly one {BEGIN}");
    assert_eq!(doc.matches(END).count(), 1, "docs/IAM.md needs exactly one {END}");
    let start = doc.find(BEGIN).unwrap() + BEGIN.len();
    let end = doc.find(END).unwrap();
    assert!(start < end, "{END} comes before {BEGIN} in docs/IAM.md");
    doc[start..end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.strip_prefix("- `")
                .and_then(|l| l.strip_suffix('`'))
                .unwrap_or_else(|| panic!("docs/IAM.md: {l:?} between the markers is not \"- `service:Action`\""))
                .to_string()
        })
        .collect()
}

/// The policy: the one ```json block of the doc.
fn policy(doc: &str) -> Value {
    const FENCE: &str = "```json\n";
    assert_eq!(doc.matches(FENCE).count(), 1, "docs/IAM.md needs exactly one ```json block, the policy");
    let start = doc.find(FENCE).unwrap() + FENCE.len();
    let len = doc[start..].find("\n```").expect("the ```json block of docs/IAM.md is not closed");
    serde_json::from_str(&doc[start..start + len])
        .unwrap_or_else(|e| panic!("the policy in docs/IAM.md is not valid JSON: {e}"))
}

/// A statement's actions (`Action` is a string or a list of strings).
fn statement_actions(s: &Value) -> Vec<String> {
    match &s["Action"] {
        Value::String(a) => vec![a.clone()],
        Value::Array(v) => {
            v.iter().map(|a| a.as_str().unwrap_or_else(|| panic!("action {a} in {s}")).to_string()).collect()
        }
        other => panic!("Action {other} in {s}: a string or a list of strings"),
    }
}

#[test]
fn scanner_skips_comments_and_literals() {
    let src = r##"
        // self.ec2.in_line_comment()
        /* self.eks.in_block_comment() /* nested */ self.ec2.after_nested() */
        let s = "self.ec2.in_string(\" self.ec2.after_escape()";
        let r = r#"self.eks.in_raw_string(" "#;
        let q = '"'; let e = '\''; fn f<'a>(x: &'a str) {}
        let n = aws_sdk_ec2::Client::from_conf(c); let m = eks6.not_a_client();
        let ok = self
            .ec2
            .create_subnet()
            .send();
        self.eks.list_nodegroups().into_paginator();
        ec2.config().region();
    "##;
    let found = client_calls(src);
    let expected = [("ec2", "create_subnet"), ("eks", "list_nodegroups"), ("ec2", "config")]
        .map(|(s, m)| (s.to_string(), m.to_string()));
    assert_eq!(found, expected);
    assert_eq!(pascal_case("describe_egress_only_internet_gateways"), "DescribeEgressOnlyInternetGateways");
}

#[test]
fn doc_lists_exactly_the_operations_the_code_calls() {
    let code = code_actions();
    // Calls split across lines, in a paginator and in each client: the scanner sees them.
    for a in [
        "ec2:CreateSubnet",
        "ec2:DescribeVpcs",
        "eks:CreateNodegroup",
        "eks:ListNodegroups",
        "iam:CreateRole",
        "iam:SimulatePrincipalPolicy",
        "sts:GetCallerIdentity",
    ] {
        assert!(code.contains(a), "the scanner missed {a} in core/src; it found {code:?}");
    }
    let listed = listed_actions(&doc());
    let mut sorted = listed.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(listed, sorted, "the list between the markers in docs/IAM.md must be sorted, without duplicates");
    let documented: BTreeSet<String> = listed.into_iter().collect();
    let missing: Vec<&String> = code.difference(&documented).collect();
    let never_called: Vec<&String> = documented.difference(&code).collect();
    assert!(
        missing.is_empty() && never_called.is_empty(),
        "docs/IAM.md is out of date (update the list, the table and the policy):\n  called in core/src but not listed: {missing:?}\n  listed but never called: {never_called:?}"
    );
}

#[test]
fn policy_grants_every_listed_action() {
    let doc = doc();
    let doc_policy = policy(&doc);
    assert_eq!(doc_policy["Version"], "2012-10-17");
    let statements = doc_policy["Statement"].as_array().expect("the policy's Statement is a list");
    let mut granted = BTreeSet::new();
    for s in statements {
        assert_eq!(s["Effect"], "Allow", "{s}");
        for a in statement_actions(s) {
            assert!(!a.contains('*'), "wildcard action {a}: name each action");
            granted.insert(a);
        }
    }
    let listed: BTreeSet<String> = listed_actions(&doc).into_iter().collect();
    let not_granted: Vec<&String> = listed.difference(&granted).collect();
    assert!(not_granted.is_empty(), "the policy in docs/IAM.md lacks listed actions: {not_granted:?}");
    // Least privilege: no EC2, EKS or IAM action the code does not need (beyond PassRole,
    // the service-linked roles, and STS AssumeRole, which the doc explains).
    let explained = ["iam:PassRole", "iam:CreateServiceLinkedRole", "sts:AssumeRole"];
    let beyond: Vec<&String> = granted
        .iter()
        .filter(|a| !listed.contains(*a) && !explained.contains(&a.as_str()))
        .filter(|a| !POLICY_EXTRAS.contains(&a.as_str()))
        .collect();
    assert!(beyond.is_empty(), "the policy grants EC2 or EKS actions the code never calls: {beyond:?}");
    for extra in POLICY_EXTRAS {
        assert!(granted.contains(*extra), "the policy lacks {extra}");
    }
    // The roles go to EKS only, and only the named roles.
    let pass_role: Vec<&Value> =
        statements.iter().filter(|s| statement_actions(s).iter().any(|a| a == "iam:PassRole")).collect();
    assert!(!pass_role.is_empty(), "the policy lacks iam:PassRole (CreateCluster and CreateNodegroup pass roles)");
    for s in pass_role {
        assert_eq!(s["Condition"]["StringEquals"]["iam:PassedToService"], "eks.amazonaws.com", "{s}");
        assert_ne!(s["Resource"], "*", "iam:PassRole on every role: name the cluster and node roles: {s}");
    }
    // IAM writes only on eks6's own names.
    for s in statements {
        let writes = statement_actions(s).iter().any(|a| {
            a.starts_with("iam:")
                && ["Create", "Delete", "Attach", "Detach", "Tag"].iter().any(|w| a[4..].starts_with(w))
                && a != "iam:CreateServiceLinkedRole"
        });
        if writes {
            let resources: Vec<String> = match &s["Resource"] {
                Value::String(r) => vec![r.clone()],
                Value::Array(v) => v.iter().filter_map(|r| r.as_str().map(str::to_string)).collect(),
                other => panic!("Resource {other} in {s}"),
            };
            assert!(resources.iter().all(|r| r.contains("/eks6-")), "IAM writes beyond eks6-* names: {s}");
        }
    }
}
