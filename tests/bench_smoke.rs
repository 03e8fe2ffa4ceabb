//! Keeps `bench/run.sh` from rotting: one tiny run (`--smoke`, a few seconds of load) against
//! the debug binaries. Asserts that it completes with no error answer (bench.py's smoke mode
//! fails on any) and writes every row; no timings.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn bench_script_smoke_run_completes() {
    let novakeys = PathBuf::from(env!("CARGO_BIN_EXE_novakeys"));
    let baseline = novakeys
        .parent()
        .unwrap()
        .join("examples")
        .join(format!("bench_baseline{}", std::env::consts::EXE_SUFFIX));
    let signatures =
        baseline.with_file_name(format!("bench_signatures{}", std::env::consts::EXE_SUFFIX));
    assert!(
        baseline.exists(),
        "cargo test builds examples: {}",
        baseline.display()
    );
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/run.sh"))
        .arg("--smoke")
        .env("NOVAKEYS_BIN", &novakeys)
        .env("BASELINE_BIN", &baseline)
        .env("SIGNATURES_BIN", &signatures)
        .env("BENCH_OUT", out.path())
        .status()
        .expect("bash runs");
    assert!(status.success(), "bench/run.sh --smoke failed: {status}");
    let report = std::fs::read_to_string(out.path().join("latest.md")).unwrap();
    for row in [
        "| show |",
        "| list100 |",
        "| import |",
        "| import_full |",
        "| token_issue |",
        "| alibaba_describe |",
        "| alibaba_import |",
        "| tencent_describe |",
        "| tencent_import |",
        "Signature checks alone",
        "| `/keypairs` |",
        "| `/activity` |",
        "| disk: ",
    ] {
        assert!(report.contains(row), "{row} missing from:\n{report}");
    }
}
