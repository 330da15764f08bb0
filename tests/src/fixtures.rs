//! The plan and run options the end-to-end suites share.

use std::path::PathBuf;
use std::time::Duration;

use eks6::plan::ClusterPlan;
use eks6::workflow::{RunOptions, WaitPolicy};

/// The walkthrough's plan (`fixtures/walkthrough.toml`).
pub fn walkthrough() -> ClusterPlan {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/walkthrough.toml"))
        .expect("read fixtures/walkthrough.toml");
    ClusterPlan::from_toml(&text).expect("the walkthrough plan parses")
}

/// A journal path for `account`, in a directory of this test process and `suite`.
pub fn journal(suite: &str, account: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eks6-{suite}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the journal directory");
    dir.join(format!("{account}.journal.json"))
}

/// Run options with that journal and fast polling (5 ms doubling to 20 ms, for 20 s):
/// the emulator answers CREATING only to the first few describes.
pub fn fast_opts(suite: &str, account: &str) -> RunOptions {
    RunOptions::new(journal(suite, account)).with_wait(WaitPolicy {
        first_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        deadline: Duration::from_secs(20),
    })
}
