//! The `reformer` binary: signals, kills, bad input and the train → eval → generate path.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{scratch, tiny_bytes, tiny_duplication, write_text_corpus};
use reformer_train::checkpoint;
use reformer_train::settings::TrainSettings;

fn reformer() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reformer"));
    command.env("BURN_DEVICE", "flex");
    command
}

fn run(args: &[&str]) -> Output {
    reformer().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write_settings(dir: &Path, settings: &TrainSettings) -> String {
    let path = dir.join("settings.json");
    std::fs::write(&path, serde_json::to_string_pretty(settings).unwrap()).unwrap();
    path.display().to_string()
}

/// Waits until the run folder holds at least `count` checkpoints.
fn wait_for_checkpoints(run_dir: &Path, count: usize) {
    let start = Instant::now();
    while checkpoint::list(run_dir).map_or(0, |c| c.len()) < count {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no checkpoints appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts an endless tiny duplication run in the background writing a checkpoint every
/// `checkpoint_every` steps; returns the child and its run folder.
fn spawn_endless_run(name: &str, checkpoint_every: u64) -> (std::process::Child, PathBuf) {
    let dir = scratch(name);
    let mut settings = tiny_duplication();
    settings.training.steps = 100_000;
    settings.training.checkpoint_every = checkpoint_every;
    let config = write_settings(&dir, &settings);
    let run_dir = dir.join("run");
    let child = reformer()
        .args([
            "train",
            "--config",
            &config,
            "--out",
            run_dir.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (child, run_dir)
}

/// Resumes the run in `run_dir` until step `steps`.
fn resume_until(run_dir: &Path, steps: u64) -> Output {
    run(&[
        "train",
        "--resume",
        run_dir.to_str().unwrap(),
        "--steps",
        &steps.to_string(),
    ])
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([name, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn ctrl_c_checkpoints_and_exits_130_then_the_run_resumes() {
    let (child, run_dir) = spawn_endless_run("cli-sigint", 2);
    wait_for_checkpoints(&run_dir, 1);
    signal(child.id(), "-INT");
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupt"), "{stderr}");
    assert!(
        text(&output.stdout).contains("interrupted after"),
        "{}",
        text(&output.stdout)
    );

    let stopped_at = checkpoint::list(&run_dir).unwrap().pop().unwrap().0;
    let resumed = resume_until(&run_dir, stopped_at + 2);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert!(text(&resumed.stdout).contains(&format!("done after {} steps", stopped_at + 2)));
}

#[test]
fn a_kill_during_checkpoint_writes_leaves_the_last_complete_checkpoint_usable() {
    let (mut child, run_dir) = spawn_endless_run("cli-kill", 1);
    wait_for_checkpoints(&run_dir, 2);
    // Writes happen every step, so the kill very likely lands in or near one.
    std::thread::sleep(Duration::from_millis(37));
    child.kill().unwrap();
    child.wait().unwrap();

    let eval = run(&[
        "eval",
        "--checkpoint",
        run_dir.to_str().unwrap(),
        "--batches",
        "1",
        "--json",
    ]);
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    let report: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert!(report["accuracy"].as_f64().unwrap() >= 0.0);
    let newest = checkpoint::list(&run_dir).unwrap().pop().unwrap().0;
    let resumed = resume_until(&run_dir, newest + 1);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
}

#[test]
fn train_eval_and_generate_a_text_file() {
    let dir = scratch("cli-text");
    write_text_corpus(&dir.join("corpus.txt"), 8000);
    let mut settings = tiny_bytes(&dir.join("corpus.txt"));
    settings.training.steps = 4;
    let config = write_settings(&dir, &settings);
    let run_dir = dir.join("run");
    let train = run(&[
        "train",
        "--config",
        &config,
        "--out",
        run_dir.to_str().unwrap(),
    ]);
    assert!(train.status.success(), "{}", text(&train.stderr));
    let summary = text(&train.stdout);
    assert!(
        summary.contains("done after 4 steps") && summary.contains("bpc"),
        "{summary}"
    );

    let again = run(&[
        "train",
        "--config",
        &config,
        "--out",
        run_dir.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("already holds checkpoints"),
        "{}",
        text(&again.stderr)
    );

    let eval = run(&["eval", "--checkpoint", run_dir.to_str().unwrap()]);
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    assert!(text(&eval.stdout).contains("bpc"), "{}", text(&eval.stdout));

    let generate = run(&[
        "generate",
        "--checkpoint",
        run_dir.to_str().unwrap(),
        "--prompt",
        "the ",
        "--max-tokens",
        "20",
        "--top-k",
        "5",
        "--seed",
        "1",
    ]);
    assert!(generate.status.success(), "{}", text(&generate.stderr));
    let out = generate.stdout;
    assert!(out.starts_with(b"the "));
    assert_eq!(out.len(), 4 + 20 + 1, "prompt, 20 bytes and a newline");
}

#[test]
fn bad_input_exits_non_zero_naming_the_problem() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["train", "--data", "/nonexistent/corpus.txt"],
            "/nonexistent/corpus.txt",
        ),
        (
            &["eval", "--checkpoint", "/nonexistent/run"],
            "/nonexistent/run",
        ),
        (
            &["train", "--batch-size", "0"],
            "batch_size must be at least 1",
        ),
        (
            &["train", "--resume", "/nonexistent/run", "--seed", "3"],
            "--seed cannot change a resumed run",
        ),
    ];
    for (args, expected) in cases {
        let output = run(args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn train_eval_and_generate_run_on_wgpu() {
    // The adapter the core suite uses: lavapipe in CI, a real GPU with REFORMER_TEST_WGPU=wgpu.
    let device = match std::env::var("REFORMER_TEST_WGPU").as_deref() {
        Ok("none") => return,
        Ok("wgpu") => "wgpu",
        _ => "wgpu-cpu",
    };
    let dir = scratch("cli-wgpu");
    write_text_corpus(&dir.join("corpus.txt"), 4000);
    let mut settings = tiny_bytes(&dir.join("corpus.txt"));
    settings.training.steps = 2;
    let config = write_settings(&dir, &settings);
    let run_dir = dir.join("run");
    let run_dir = run_dir.to_str().unwrap();
    let train = run(&[
        "train", "--config", &config, "--out", run_dir, "--device", device,
    ]);
    assert!(train.status.success(), "{}", text(&train.stderr));
    assert!(
        text(&train.stderr).to_lowercase().contains("wgpu"),
        "{}",
        text(&train.stderr)
    );
    let resumed = run(&[
        "train", "--resume", run_dir, "--steps", "3", "--device", device,
    ]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let eval = run(&[
        "eval",
        "--checkpoint",
        run_dir,
        "--device",
        device,
        "--batches",
        "1",
    ]);
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    let generate = run(&[
        "generate",
        "--checkpoint",
        run_dir,
        "--prompt",
        "the ",
        "--max-tokens",
        "3",
        "--device",
        device,
    ]);
    assert!(generate.status.success(), "{}", text(&generate.stderr));
    assert_eq!(generate.stdout.len(), 4 + 3 + 1);
}
