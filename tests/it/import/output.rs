//! What the command prints: a reader that closes standard output early (`| head`) ends the
//! command quietly, its exit code still the import's.

use std::process::Stdio;

use super::{command, count, fixture};
use crate::common::TestApp;

#[tokio::test]
async fn a_closed_stdout_ends_the_import_quietly_with_its_own_exit_code() {
    let app = TestApp::start().await;
    for (file, code) in [("users.csv", 0), ("bad.csv", 3)] {
        let mut child = command(&app, &fixture(file), &["--dialect", "werkzeug"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The only reader goes away before the summary is written.
        drop(child.stdout.take());
        let output = child.wait_with_output().await.unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{file}: {stderr}");
        assert!(!stderr.contains("panicked"), "{file}: {stderr}");
        if file == "users.csv" {
            assert_eq!(count(&app).await, 4, "the rows were written all the same");
        }
    }
}
