//! The `eks6` program: streams, exit codes, and all inputs checked before any output.

use std::process::{Command, Output};

fn eks6(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eks6")).args(args).output().expect("run eks6")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn canon_forms() {
    let o = eks6(&["canon", "2001:DB8:0:0:1::1", "::ffff:c000:201"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "2001:db8::1:0:0:1\n::ffff:192.0.2.1\n");
    let o = eks6(&["canon", "--reverse", "2600:1f13:812::/56"]);
    assert_eq!(stdout(&o), "0.0.2.1.8.0.3.1.f.1.0.0.6.2.ip6.arpa.\n");
    let o = eks6(&["canon", "--expanded", "--output", "json", "::1"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["expanded"], "0000:0000:0000:0000:0000:0000:0000:0001");
    assert_eq!(v[0]["input"], "::1");
}

#[test]
fn bad_inputs_leave_stdout_empty_and_exit_2() {
    let o = eks6(&["canon", "2600:0000:0000:35000000:46f9::1", "::1", "gggg::1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "stdout must stay empty: {:?}", stdout(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.contains("group \"35000000\" at offset 15 has 8 hex digits (at most 4)"), "{err}");
    assert!(err.contains("\"gggg::1\""), "{err}");

    let o = eks6(&["url", "[::1]", "--port", "0", "--path", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert_eq!(stderr(&o).lines().count(), 3, "{}", stderr(&o));

    let o = eks6(&["carve", "2600:1f13:812::1/56", "--len", "64"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean 2600:1f13:812::/56?"));

    // A range past the end is refused before the first line is printed.
    let o = eks6(&["carve", "2600:1f13:812::/56", "--len", "64", "--start", "255", "--count", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());

    // Usage errors are exit 2 too.
    assert_eq!(eks6(&["carve"]).status.code(), Some(2));
    assert_eq!(eks6(&["frobnicate"]).status.code(), Some(2));
}

/// With `--output json`, a failure still leaves one JSON document on stdout: the exit
/// status, the error kind and every message (stderr has them too).
#[test]
fn json_errors_are_one_document() {
    let o = eks6(&["canon", "--output", "json", "2600:0000:0000:35000000:46f9::1", "::1", "gggg::1"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(v["error"]["exit"], 2, "{v}");
    assert_eq!(v["error"]["kind"], "invalid_address", "{v}");
    let messages = v["error"]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{v}");
    assert!(messages[0].as_str().unwrap().contains("group \"35000000\" at offset 15 has 8 hex digits"), "{v}");
    assert_eq!(stderr(&o).lines().count(), 2);
    let o = eks6(&["url", "--output", "json", "::1", "--port", "0"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(v["error"]["kind"], "invalid_url", "{v}");
}

#[test]
fn carve_contains_aggregate_url() {
    let o = eks6(&["carve", "2600:1f13:812::/56", "--len", "64", "--start", "254"]);
    assert_eq!(stdout(&o), "2600:1f13:812:fe::/64\n2600:1f13:812:ff::/64\n");
    let o = eks6(&[
        "carve",
        "::/0",
        "--len",
        "128",
        "--start",
        "340282366920938463463374607431768211455",
        "--output",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["subnets"][0], "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
    assert_eq!(v["subnets"].as_array().unwrap().len(), 1);

    let o = eks6(&["contains", "2600:0:0:0:46f9::/80", "2600::405b:0:0:2"]);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), "false\n"));
    let o = eks6(&["contains", "2600:0:0:0:46f9::/80", "2600::46f9:0:0:1"]);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), "true\n"));

    let o = eks6(&["aggregate", "2600:1f13:812::/64", "2600:1f13:812:1::/64", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["output"][0], "2600:1f13:812::/63");

    let o = eks6(&["url", "fe80::1%eth0", "--port", "8080"]);
    assert_eq!(stdout(&o), "http://[fe80::1%25eth0]:8080/\n");
}

/// Whenever the arguments ask for JSON, stdout holds one document, even when they did not
/// parse; its kind is never null.
#[test]
fn argument_errors_are_json_documents_too() {
    for args in [
        &["carve", "::/0", "--len=-1", "--output", "json"][..],
        &["up", "--config", "p.toml", "--timeout", "0", "--output", "json"],
        &["carve", "--output=json"],
        &["frobnicate", "--output", "json"],
    ] {
        let o = eks6(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let v: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: one JSON document: {e}"));
        assert_eq!(v["error"]["exit"], 2, "{args:?}: {v}");
        assert!(v["error"]["kind"].is_string(), "{args:?}: a kind: {v}");
        assert!(!v["error"]["messages"].as_array().unwrap().is_empty());
    }
    let o = eks6(&["carve", "::/0", "--len=-1", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid_length", "{v}");
    // A plan file that does not exist: io, not null.
    let o = eks6(&["plan", "--config", "/nonexistent/plan.toml", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "io", "{v}");
}

/// `total` is a decimal string at every size, so that no JSON reader rounds it.
#[test]
fn carve_total_is_always_a_string() {
    for (prefix, len, total) in [
        ("2600:1f13:812::/64", "80", "65536"),
        ("::/1", "128", "170141183460469231731687303715884105728"),
        ("::/0", "128", "340282366920938463463374607431768211456"),
    ] {
        let o = eks6(&["carve", prefix, "--len", len, "--count", "1", "--output", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["total"], serde_json::json!(total), "{v}");
    }
}

/// Above a million subnets `carve` asks for --count or --all instead of streaming for
/// ever; --len follows the rule of a prefix's /len.
#[test]
fn carve_asks_before_printing_millions_and_len_is_strict() {
    let o = eks6(&["carve", "::/0", "--len", "128"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("--count N, or --all"), "{}", stderr(&o));
    let o = eks6(&["carve", "2600::/64", "--len", "83"]);
    assert_eq!((o.status.code(), stdout(&o).lines().count()), (Some(0), 1 << 19), "half a million: printed");
    let o = eks6(&["carve", "2600::/64", "--len", "84"]);
    assert_eq!(o.status.code(), Some(2), "over a million: asked for");
    let o = eks6(&["carve", "2600::/64", "--len", "84", "--all"]);
    assert_eq!((o.status.code(), stdout(&o).lines().count()), (Some(0), 1 << 20), "with --all: every one");
    let o = eks6(&["carve", "2600::/56", "--len", "064"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("\"064\" is not a decimal number from 0 to 128 without leading zeros"),
        "{}",
        stderr(&o)
    );
    let o = eks6(&["carve", "2600::/56", "--len", "200"]);
    assert_eq!(o.status.code(), Some(2));
}

/// RFC 3986 reserves `[` and `]` for IP literals: they are escaped in the path and query.
/// A host with a port says where the port goes.
#[test]
fn url_escapes_brackets_and_explains_host_port() {
    let o = eks6(&["url", "::1", "--path", "/?x=[y]"]);
    assert_eq!(stdout(&o), "http://[::1]/?x=%5By%5D\n");
    let o = eks6(&["url", "evil.com:80"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("give the port on its own (--port)"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("expected a hex digit"), "{}", stderr(&o));
}

/// `--help` leads with the walkthrough and says to start with `plan`.
#[test]
fn help_leads_with_the_walkthrough() {
    let o = eks6(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    let pos = |c: &str| help.find(&format!("\n  {c} ")).unwrap_or_else(|| panic!("{c} in --help: {help}"));
    assert!(pos("plan") < pos("up") && pos("up") < pos("verify") && pos("verify") < pos("down"), "{help}");
    assert!(pos("down") < pos("canon"), "{help}");
    assert!(help.contains("Start with `eks6 plan"), "{help}");
}

/// An input of megabytes is quoted in a message by its first few hundred characters.
#[test]
fn error_messages_quote_little_of_a_huge_input() {
    let huge = format!("2600::{}", "1".repeat(100_000));
    let o = eks6(&["canon", &huge]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.len() < 2_000, "{} bytes of message", err.len());
    assert!(err.contains("characters in all"), "{err}");
}

/// `eks6 plan` prints the step graphs `up` and `down` run (every step after what it
/// needs), the waits each makes and the critical path; the JSON has the graphs and
/// every kind of wait with its usual duration (scaled by `--time-scale`) and source.
#[test]
fn plan_prints_the_step_graphs_and_the_usual_durations() {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/cluster.toml");
    let o = eks6(&["plan", "--config", config]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("up steps (each starts when the steps after \"needs\" are done):"), "{text}");
    let cluster = text.lines().find(|l| l.trim_start().starts_with("cluster ")).unwrap();
    assert!(cluster.contains("cluster-role, subnets") && cluster.contains("cluster-create ~600s"), "{cluster}");
    assert!(text.contains("critical path at the usual pace:"), "{text}");

    let o = eks6(&["plan", "--config", config, "--time-scale", "0.01", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (up, down) = (&v["graphs"][0], &v["graphs"][1]);
    assert_eq!((up["workflow"].as_str(), down["workflow"].as_str()), (Some("up"), Some("down")));
    let needs = |g: &serde_json::Value, step: &str| -> Vec<String> {
        let node = g["steps"].as_array().unwrap().iter().find(|s| s["step"] == step).unwrap();
        node["needs"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect()
    };
    assert!(!needs(up, "cluster").contains(&"nat-gateways".to_string()), "{v}");
    assert!(needs(up, "nodegroup").contains(&"addons".to_string()), "{v}");
    assert!(needs(down, "network").contains(&"nat-gateways".to_string()), "{v}");
    let cluster = v["expected"].as_array().unwrap().iter().find(|e| e["kind"] == "cluster-create").unwrap();
    assert!((cluster["seconds"].as_f64().unwrap() - 6.0).abs() < 1e-6, "{cluster}");
    assert!(cluster["source"].as_str().unwrap().contains("EKS"), "{cluster}");

    let o = eks6(&["plan", "--config", config, "--time-scale", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("0: give a factor above zero and at most 1000"), "{}", stderr(&o));
    let o = eks6(&["plan", "--config", config, "--time-scale", "1e17"]);
    assert_eq!(o.status.code(), Some(2), "a huge scale is refused, not a panic: {}", stderr(&o));
}
