//! Crash safety of the `eks6` program: `up` killed (SIGKILL, no chance to clean up) at a
//! seeded random point, then `up` again, leaves exactly what one clean `up` leaves, and
//! `down` then leaves nothing; `down` killed, then `down` again, leaves nothing. The
//! journal on disk is never half-written. Steps run side by side (the step graph), and
//! the tests check that many kills land while several are in flight.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use eks6::workflow::Journal;
use eks6_tests::emulator::Emulator;
use eks6_tests::fixtures::{self, CliSetup};

/// Seeded runs; the seed of run `i` is `i`.
const RUNS: u64 = 20;
/// Seeded `down` runs killed.
const DOWN_RUNS: u64 = 8;
/// Longest pause after the chosen progress line before the kill.
const MAX_PAUSE_MS: u64 = 30;

/// xorshift64*, seeded through splitmix64 (so that seed 0 works too).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self((z ^ (z >> 31)) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `lo..=hi` (the modulo bias does not matter here).
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// A progress line as the program prints one per event when stderr is not a terminal:
/// `[    1.2s] cluster: waiting for cluster AWSNewsBlog: CREATING (0s)`.
fn is_progress(line: &str) -> bool {
    line.starts_with('[') && line.contains("s] ")
}

/// The journal, passed with `--journal` to every run.
fn journal_of(s: &CliSetup) -> PathBuf {
    s.dir.join("cluster.eks6-journal.json")
}

fn sibling(journal: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", journal.display()))
}

/// `eks6 <workflow> --config <plan> --journal <journal>` through the role profile, with
/// fast polls (the emulator answers CREATING to the first two describes only).
fn cli_args(s: &CliSetup, workflow: &str) -> Vec<String> {
    let (plan, journal) = (s.plan(), journal_of(s).display().to_string());
    let args = [workflow, "--config", plan.as_str(), "--journal", journal.as_str(), "--profile", "acct"];
    let more = ["--endpoint-url", s.endpoint.as_str(), "--poll-interval", "0.01", "--timeout", "120"];
    args.into_iter().chain(more).map(String::from).collect()
}

fn run(s: &CliSetup, workflow: &str) -> std::process::Output {
    let args = cli_args(s, workflow);
    s.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A fresh setup, without the journal files an earlier test process with the same
/// account number may have left in its directory.
fn setup() -> CliSetup {
    let s = CliSetup::new();
    let journal = journal_of(&s);
    for p in [journal.clone(), sibling(&journal, ".tmp"), sibling(&journal, ".lock")] {
        let _ = std::fs::remove_file(p);
    }
    s
}

/// One `up` with stderr piped.
struct Partial {
    /// Every stderr line read before the kill (all of them when it ended by itself).
    seen: Vec<String>,
    /// Progress lines among them.
    progress: usize,
    /// What it printed between the chosen line and its death.
    after: Vec<String>,
    status: ExitStatus,
    /// Whether SIGKILL ended it (false: it ended by itself first).
    killed: bool,
}

/// The steps started and not finished by the end of these progress lines
/// (`[    0.1s] vpc: started`, `[    0.2s] vpc: created vpc-1 (3 API calls)`).
fn in_flight(lines: &[String]) -> usize {
    let started = lines.iter().filter(|l| is_progress(l) && l.ends_with(": started")).count();
    let finished = lines.iter().filter(|l| is_progress(l) && l.ends_with(" API calls)")).count();
    started.saturating_sub(finished)
}

/// Runs `eks6 up`; right after its `kill_after`-th progress line and `pause` more (a
/// point inside the API call or wait that follows), SIGKILLs it. `None`: to the end.
fn up_killed(s: &CliSetup, kill_after: Option<usize>, pause: Duration) -> Partial {
    killed(s, "up", kill_after, pause)
}

/// [`up_killed`] for any workflow.
fn killed(s: &CliSetup, workflow: &str, kill_after: Option<usize>, pause: Duration) -> Partial {
    let args = cli_args(s, workflow);
    let mut child = s
        .command(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start eks6");
    let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    let (mut seen, mut progress, mut reached) = (Vec::new(), 0, false);
    for line in lines.by_ref() {
        let line = line.expect("read eks6's stderr");
        let counted = is_progress(&line);
        seen.push(line);
        if counted {
            progress += 1;
            if Some(progress) == kill_after {
                reached = true;
                break;
            }
        }
    }
    if reached {
        let until = Instant::now() + pause;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
        // SIGKILL; Ok also when it has just ended by itself.
        let _ = child.kill();
    }
    let status = child.wait().expect("wait for eks6");
    let after = lines.map_while(Result::ok).collect();
    Partial { seen, progress, after, killed: status.signal() == Some(9), status }
}

/// Runs `f`; a panic in it (an assertion of `Emulator::inventory` too) fails the test
/// with `ctx` in front.
fn in_context<T>(ctx: &str, f: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("(a panic without a message)");
            panic!("{ctx}\n{msg}")
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A line per run, for `--nocapture`.
#[allow(clippy::print_stderr)]
fn note(line: &str) {
    eprintln!("{line}");
}

#[test]
fn crash_anywhere_then_up_again_equals_a_clean_up() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let emu = Emulator::shared();
    let plan = fixtures::walkthrough();
    let started = Instant::now();

    // The baseline: one clean `up`, run the same way as the crash runs.
    let s = setup();
    let clean = up_killed(&s, None, Duration::ZERO);
    assert!(clean.status.success(), "the clean up failed ({}):\n{}", clean.status, clean.seen.join("\n"));
    let n = clean.progress;
    assert!(n >= 18, "a full up prints a started and a finished line per step; got {n}:\n{}", clean.seen.join("\n"));
    let baseline = rt.block_on(emu.inventory(&s.account, &plan));
    assert_eq!(baseline.get("cluster AWSNewsBlog").map(String::as_str), Some("ACTIVE"), "{baseline:#?}");
    assert_eq!(baseline.get("nodegroup AWSNewsBlog-nodegroup").map(String::as_str), Some("ACTIVE"), "{baseline:#?}");
    let o = run(&s, "down");
    assert_eq!(o.status.code(), Some(0), "down after the clean up:\n{}", text(&o.stderr));
    assert_eq!(rt.block_on(emu.inventory(&s.account, &plan)), BTreeMap::new(), "leftovers after the clean down");
    note(&format!("baseline: {n} progress lines, {} resources, {:.1?}", baseline.len(), started.elapsed()));

    let mut ended_first = Vec::new();
    let mut side_by_side = 0;
    for seed in 0..RUNS {
        let run_started = Instant::now();
        let mut rng = Rng::new(seed);
        let k = rng.range(1, n as u64) as usize;
        let pause = Duration::from_millis(rng.range(0, MAX_PAUSE_MS));
        let s = setup();
        let journal = journal_of(&s);
        let part = up_killed(&s, Some(k), pause);
        let how = if part.killed {
            let flying = in_flight(&part.seen);
            side_by_side += usize::from(flying >= 2);
            format!("killed with {flying} step(s) in flight")
        } else {
            ended_first.push(seed);
            format!("ended by itself first ({}, {} progress lines)", part.status, part.progress)
        };
        let tmp = sibling(&journal, ".tmp");
        let stray = if tmp.exists() { format!("; a stray {} was left", tmp.display()) } else { String::new() };
        let ctx = format!(
            "seed {seed}: kill after progress line k = {k} of {n}, pause {pause:?}: {how}{stray}; \
             account {}, dir {}\nlines seen before the kill:\n  {}\nprinted after that line:\n  {}",
            s.account,
            s.dir.display(),
            part.seen.join("\n  "),
            part.after.join("\n  ")
        );
        in_context(&ctx, || {
            // A run that ended by itself must have ended well.
            assert!(part.killed || part.status.success(), "up failed by itself");
            match Journal::load(&journal) {
                Ok(Some(j)) => assert_eq!(j.plan_id, plan.plan_id(), "the journal names another plan"),
                Ok(None) => {}
                Err(e) => panic!("the journal does not load after the kill: {e}"),
            }

            let o = run(&s, "up");
            assert_eq!(o.status.code(), Some(0), "up again:\n{}", text(&o.stderr));
            let inv = rt.block_on(emu.inventory(&s.account, &plan));
            assert_eq!(inv, baseline, "up after the kill differs from a clean up");

            let o = run(&s, "down");
            assert_eq!(o.status.code(), Some(0), "down:\n{}", text(&o.stderr));
            assert_eq!(rt.block_on(emu.inventory(&s.account, &plan)), BTreeMap::new(), "leftovers after down");
            assert!(!journal.exists(), "a complete down removes the journal");
        });
        note(&format!("seed {seed}: k = {k}/{n}, pause {pause:?}: {how}{stray}, {:.1?}", run_started.elapsed()));
    }
    // Mostly real kills, or the test shows nothing.
    assert!(
        ended_first.len() as u64 <= RUNS / 2,
        "most runs ended before their kill point (seeds {ended_first:?}): does `up` print fewer progress lines than \
         the baseline's {n}?"
    );
    // The graph runs steps side by side; kills must land among them too.
    assert!(side_by_side >= 3, "only {side_by_side} of {RUNS} kills came with two or more steps in flight");
    note(&format!(
        "{RUNS} runs in {:.1?}; {side_by_side} killed with several steps in flight; ended before the kill: seeds {ended_first:?}",
        started.elapsed()
    ));
}

/// `down` killed at a seeded point (several of its steps in flight: the NAT gateways go
/// while the nodegroup and the cluster do), then `down` again: nothing is left, and
/// the journal is gone.
#[test]
fn crash_anywhere_in_down_then_down_again_leaves_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let emu = Emulator::shared();
    let plan = fixtures::walkthrough();
    let (mut side_by_side, mut kills) = (0, 0);
    for seed in 0..DOWN_RUNS {
        let s = setup();
        let journal = journal_of(&s);
        let o = run(&s, "up");
        assert_eq!(o.status.code(), Some(0), "seed {seed}: up:\n{}", text(&o.stderr));
        let mut rng = Rng::new(1000 + seed);
        // down prints a started and a finished line per step (8 steps) and its waits.
        let k = rng.range(1, 16) as usize;
        let pause = Duration::from_millis(rng.range(0, MAX_PAUSE_MS));
        let part = killed(&s, "down", Some(k), pause);
        let flying = in_flight(&part.seen);
        kills += usize::from(part.killed);
        side_by_side += usize::from(part.killed && flying >= 2);
        let ctx = format!(
            "seed {seed}: down killed after progress line {k}, pause {pause:?} (killed: {}, {flying} in flight); \
             account {}\nlines seen:\n  {}",
            part.killed,
            s.account,
            part.seen.join("\n  ")
        );
        in_context(&ctx, || {
            assert!(part.killed || part.status.success(), "down failed by itself");
            let o = run(&s, "down");
            assert_eq!(o.status.code(), Some(0), "down again:\n{}", text(&o.stderr));
            assert_eq!(rt.block_on(emu.inventory(&s.account, &plan)), BTreeMap::new(), "leftovers after down");
            assert!(!journal.exists(), "a complete down removes the journal");
        });
        note(&format!("down seed {seed}: k = {k}, pause {pause:?}, killed {}, {flying} in flight", part.killed));
    }
    assert!(kills >= DOWN_RUNS as usize / 2, "only {kills} of {DOWN_RUNS} down runs were killed");
    assert!(side_by_side >= 2, "only {side_by_side} down kills came with two or more steps in flight");
}
