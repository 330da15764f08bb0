//! What a command returns, and how `main` renders it once: text or one JSON document on
//! stdout, notes on stderr, the exit code from the result or the error's class.

use std::io::{self, Write};
use std::process::ExitCode;

use eks6::{ErrorDetails, ErrorKind};
use serde::Serialize;
use serde_json::json;

/// A command's result.
pub trait Render {
    /// The text form.
    fn text(&self, out: &mut dyn Write) -> io::Result<()>;
    /// The JSON form: one document.
    fn json(&self, out: &mut dyn Write) -> io::Result<()>;
    /// 0, or 1 when a check or finding failed.
    fn exit(&self) -> u8 {
        0
    }
    /// Lines for stderr (what a failed `--strict` skipped, ...).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A result whose JSON is its serde form and whose text is given lines.
pub struct Doc<T> {
    pub value: T,
    pub lines: Vec<String>,
    pub exit: u8,
    pub notes: Vec<String>,
}

impl<T: Serialize> Doc<T> {
    pub fn new(value: T, lines: Vec<String>) -> Self {
        Self { value, lines, exit: 0, notes: Vec::new() }
    }

    /// With its `Display` as the text.
    pub fn shown(value: T) -> Self
    where
        T: std::fmt::Display,
    {
        let lines = value.to_string().lines().map(str::to_string).collect();
        Self::new(value, lines)
    }

    pub fn exit(mut self, code: u8) -> Self {
        self.exit = code;
        self
    }

    pub fn notes(mut self, notes: Vec<String>) -> Self {
        self.notes = notes;
        self
    }
}

impl<T: Serialize> Render for Doc<T> {
    fn text(&self, out: &mut dyn Write) -> io::Result<()> {
        self.lines.iter().try_for_each(|l| writeln!(out, "{l}"))
    }

    fn json(&self, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &self.value)?;
        writeln!(out)
    }

    fn exit(&self) -> u8 {
        self.exit
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }
}

/// Why a command failed: a kind (its class gives the exit code) and every message.
#[derive(Debug)]
pub struct CliError {
    pub kind: ErrorKind,
    pub messages: Vec<String>,
}

impl CliError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, messages: vec![message.into()] }
    }

    /// Several errors of one command (every bad input at once); the first gives the kind.
    pub fn all<E: ErrorDetails>(errors: Vec<E>) -> Self {
        let kind = errors.first().map_or(ErrorKind::Internal, |e| e.kind());
        Self { kind, messages: errors.iter().map(ToString::to_string).collect() }
    }
}

impl<E: ErrorDetails> From<E> for CliError {
    fn from(e: E) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

/// The command's result (or error) on stdout and stderr, and its exit code.
pub fn finish(result: Result<Box<dyn Render>, CliError>, json: bool) -> ExitCode {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match result {
        Ok(r) => {
            let written = if json { r.json(&mut out) } else { r.text(&mut out) }.and_then(|()| out.flush());
            match written {
                // A closed pipe (`eks6 carve ... | head`) is not an error worth a message.
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    let _ = writeln!(io::stderr(), "eks6: error: cannot write output: {e}");
                    return ExitCode::from(ErrorKind::Io.exit_code());
                }
                _ => {}
            }
            for n in r.notes() {
                let _ = writeln!(io::stderr(), "eks6: {n}");
            }
            ExitCode::from(r.exit())
        }
        Err(e) => fail(&e, json, &mut out),
    }
}

/// An error: each message on stderr; with `--output json`, stdout still gets one
/// document, `{"error": {"exit", "kind", "messages"}}`.
pub fn fail(e: &CliError, json: bool, out: &mut dyn Write) -> ExitCode {
    let exit = e.kind.exit_code();
    // Being interrupted is what the user asked for, not an error.
    let label = if e.kind == ErrorKind::Cancelled { "" } else { "error: " };
    for m in &e.messages {
        let _ = writeln!(io::stderr(), "eks6: {label}{m}");
    }
    if json {
        let doc = json!({ "error": { "exit": exit, "kind": e.kind, "messages": e.messages } });
        let _ = serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from).and_then(|()| writeln!(out));
        let _ = out.flush();
    }
    ExitCode::from(exit)
}
