//! The address commands: `canon`, `carve`, `contains`, `aggregate`, `url`. Every input is
//! checked before any output, and every bad one is reported.

use std::io::{self, Write};

use clap::Args;
use eks6::net::{
    Ipv6Net, NetError, SubnetCount, aggregate, bracketed_url, canonical, contains, count_subnets, expanded, parse_addr,
    parse_length, parse_prefix, reverse, subnets,
};
use serde_json::{Value, json};

use crate::output::{CliError, Doc, Render};

/// Checks every input first, collecting all errors.
fn all<T>(inputs: &[String], f: impl Fn(&str) -> Result<T, NetError>) -> Result<Vec<T>, CliError> {
    let (ok, bad): (Vec<_>, Vec<_>) = inputs.iter().map(|s| f(s)).partition(Result::is_ok);
    if bad.is_empty() {
        Ok(ok.into_iter().filter_map(Result::ok).collect())
    } else {
        Err(CliError::all(bad.into_iter().filter_map(Result::err).collect()))
    }
}

#[derive(Debug, Args)]
pub struct CanonArgs {
    /// Addresses (or, with --reverse, nibble-aligned prefixes too).
    #[arg(required = true)]
    addrs: Vec<String>,
    /// The expanded form: eight groups of four hex digits.
    #[arg(long, conflicts_with = "reverse")]
    expanded: bool,
    /// The ip6.arpa. reverse DNS name; a prefix gives its zone.
    #[arg(long)]
    reverse: bool,
}

pub fn canon(a: &CanonArgs) -> Result<Box<dyn Render>, CliError> {
    let form = if a.reverse {
        "reverse"
    } else if a.expanded {
        "expanded"
    } else {
        "canonical"
    };
    let texts = all(&a.addrs, |s| {
        Ok(match form {
            "reverse" => reverse(s)?.to_string(),
            "expanded" => expanded(parse_addr(s)?).to_string(),
            _ => canonical(parse_addr(s)?).to_string(),
        })
    })?;
    let json = Value::Array(a.addrs.iter().zip(&texts).map(|(i, t)| json!({ "input": i, form: t })).collect());
    Ok(Box::new(Doc::new(json, texts)))
}

#[derive(Debug, Args)]
pub struct CarveArgs {
    /// The parent prefix (strict: no host bits).
    prefix: String,
    /// The subnet length (as a prefix's /len: 0 to 128, no leading zeros).
    #[arg(long, allow_hyphen_values = true)]
    len: String,
    /// Index of the first subnet to print.
    #[arg(long, default_value_t = 0)]
    start: u128,
    /// How many subnets to print (default: all from --start on, up to a million without
    /// --all).
    #[arg(long, conflicts_with = "all")]
    count: Option<u128>,
    /// Print every subnet from --start on, however many (2^128 is a lot of lines).
    #[arg(long)]
    all: bool,
}

/// How many subnets `carve` prints without --count or --all.
const CARVE_UNASKED_MAX: u128 = 1_000_000;

/// A carve, checked; its subnets are written as they are made (there can be 2^128).
struct Carve {
    parent: Ipv6Net,
    new_len: u8,
    start: u128,
    count: u128,
    total: SubnetCount,
}

pub fn carve(a: &CarveArgs) -> Result<Box<dyn Render>, CliError> {
    let parent = parse_prefix(&a.prefix)?;
    let new_len = parse_length(&a.len)?;
    // Check the whole range before printing anything.
    let total = count_subnets(parent, new_len)?;
    if !total.has_index(a.start) {
        return Err(eks6::net::nth_subnet(parent, new_len, a.start).err().map_or_else(
            || CliError::new(eks6::ErrorKind::OutOfRange, format!("--start {} is out of range", a.start)),
            CliError::from,
        ));
    }
    let available = total.from_index(a.start);
    if a.count.is_none() && !a.all && available > CARVE_UNASKED_MAX {
        return Err(CliError::new(
            eks6::ErrorKind::InvalidArgument,
            format!(
                "{parent} holds {total} /{new_len} subnets, {} from --start {} on; give --count N, or --all to print them all",
                if total.get() == Some(available) { "all of them".to_string() } else { available.to_string() },
                a.start
            ),
        ));
    }
    let count = a.count.unwrap_or(available);
    if count > available {
        let index = a.start.saturating_add(count - 1);
        return Err(
            NetError::IndexOutOfRange { parent, new_len, index, count: total.get().unwrap_or(u128::MAX) }.into()
        );
    }
    Ok(Box::new(Carve { parent, new_len, start: a.start, count, total }))
}

impl Carve {
    fn each(&self, mut f: impl FnMut(Ipv6Net) -> io::Result<()>) -> io::Result<()> {
        let mut it = subnets(self.parent, self.new_len).map_err(io::Error::other)?;
        if self.start > 0 {
            it.nth_u128(self.start - 1);
        }
        let mut left = self.count;
        while left > 0 {
            let Some(n) = it.next() else { break };
            f(n)?;
            left -= 1;
        }
        Ok(())
    }
}

impl Render for Carve {
    fn text(&self, out: &mut dyn Write) -> io::Result<()> {
        self.each(|n| writeln!(out, "{n}"))
    }

    fn json(&self, out: &mut dyn Write) -> io::Result<()> {
        write!(
            out,
            "{{\n  \"parent\": \"{}\",\n  \"new_len\": {},\n  \"start\": {},\n  \"total\": \"{}\",\n  \"subnets\": [",
            self.parent, self.new_len, self.start, self.total
        )?;
        let mut first = true;
        self.each(|n| {
            write!(out, "{}\n    \"{n}\"", if first { "" } else { "," })?;
            first = false;
            Ok(())
        })?;
        writeln!(out, "{}]\n}}", if first { "" } else { "\n  " })
    }
}

#[derive(Debug, Args)]
pub struct ContainsArgs {
    /// The prefix.
    prefix: String,
    /// The address.
    addr: String,
}

pub fn contains_cmd(a: &ContainsArgs) -> Result<Box<dyn Render>, CliError> {
    let (p, addr) = match (parse_prefix(&a.prefix), parse_addr(&a.addr)) {
        (Ok(p), Ok(addr)) => (p, addr),
        (p, addr) => return Err(CliError::all(p.err().into_iter().chain(addr.err()).collect())),
    };
    let yes = contains(p, addr);
    Ok(Box::new(Doc::new(
        json!({ "prefix": p.to_string(), "addr": canonical(addr).as_str(), "contains": yes }),
        vec![yes.to_string()],
    )))
}

#[derive(Debug, Args)]
pub struct AggregateArgs {
    /// The prefixes.
    #[arg(required = true)]
    prefixes: Vec<String>,
}

pub fn aggregate_cmd(a: &AggregateArgs) -> Result<Box<dyn Render>, CliError> {
    let nets: Vec<Ipv6Net> = all(&a.prefixes, parse_prefix)?;
    let out: Vec<String> = aggregate(&nets).iter().map(ToString::to_string).collect();
    let json = json!({ "input": nets.iter().map(ToString::to_string).collect::<Vec<_>>(), "output": out });
    Ok(Box::new(Doc::new(json, out)))
}

#[derive(Debug, Args)]
pub struct UrlArgs {
    /// An IPv6 address (with an optional %zone), an IPv4 address or a DNS name.
    host: String,
    /// The port, written only when given.
    #[arg(long)]
    port: Option<u32>,
    /// The scheme.
    #[arg(long, default_value = "http")]
    scheme: String,
    /// The path, starting with '/', with an optional query.
    #[arg(long, default_value = "/")]
    path: String,
}

pub fn url(a: &UrlArgs) -> Result<Box<dyn Render>, CliError> {
    // Check each part on its own so that every bad one is reported.
    let errors: Vec<NetError> = [
        bracketed_url(&a.scheme, "::1", None, "/"),
        bracketed_url("http", &a.host, None, "/"),
        bracketed_url("http", "::1", a.port, "/"),
        bracketed_url("http", "::1", None, &a.path),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if !errors.is_empty() {
        return Err(CliError::all(errors));
    }
    let u = bracketed_url(&a.scheme, &a.host, a.port, &a.path)?;
    Ok(Box::new(Doc::new(json!({ "url": u }), vec![u])))
}
