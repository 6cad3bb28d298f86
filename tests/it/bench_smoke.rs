//! The benchmark driver (`bench/run.py`) in its seconds-long smoke mode against this build and
//! the run's emulator: it must run to the end and write well-formed results, so it cannot rot
//! unnoticed between benchmark runs. No figure is asserted; speed is the benchmarks' business.

use std::path::Path;

use crate::common;

/// Every Markdown table row of `text` has as many cells as its header.
fn assert_tables_well_formed(name: &str, text: &str) {
    let mut columns = None;
    for line in text.lines() {
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let cells = line.matches('|').count();
        let expected = *columns.get_or_insert(cells);
        assert_eq!(
            cells, expected,
            "{name}: a row with another cell count: {line}"
        );
    }
}

#[test]
fn the_bench_driver_runs_in_smoke_mode() {
    let out = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = std::process::Command::new("python3")
        .arg(root.join("bench/run.py"))
        .args(["--smoke", "--bin", env!("CARGO_BIN_EXE_firegate"), "--out"])
        .arg(out.path())
        .args(["--emulator", &common::emulator_host()])
        .args(["--project", &common::project_id(), "--key"])
        .arg(common::shared_key())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "bench/run.py --smoke failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("results.json")).unwrap()).unwrap();
    for figure in [
        "/cold/accept/p50",
        "/cold/first/p50",
        "/warm/p50",
        "/warm/cpu_ms",
        "/hook/added/p50",
        "/hook/later/p50",
    ] {
        let value = results.pointer(figure).and_then(|v| v.as_f64());
        assert!(value.is_some_and(|v| v > 0.0), "{figure}: {value:?}");
    }
    let throughput = results["throughput"].as_array().unwrap();
    assert!(
        !throughput.is_empty()
            && throughput
                .iter()
                .all(|t| t["answers"]["200"].as_u64() > Some(0))
    );

    let book = std::fs::read_to_string(out.path().join("benchmarks.md")).unwrap();
    for name in ["summary", "latency", "cost"] {
        let (_, rest) = book
            .split_once(&format!("<!-- bench:{name} -->\n"))
            .unwrap_or_else(|| panic!("no bench:{name} marker"));
        let (table, _) = rest.split_once(&format!("<!-- /bench:{name} -->")).unwrap();
        assert!(
            table.contains("|---|"),
            "bench:{name} holds no table:\n{table}"
        );
        assert_tables_well_formed(name, table);
    }
    let results_page = std::fs::read_to_string(out.path().join("RESULTS.md")).unwrap();
    assert!(results_page.starts_with("# firegate benchmark results"));
    assert_tables_well_formed("RESULTS.md", &results_page);
}
