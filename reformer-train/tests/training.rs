//! Training end to end in-process: exact resume, learning, and every fault the loop must
//! survive with its last checkpoint intact.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use burn::tensor::Device;
use common::{scratch, tiny_bytes, tiny_duplication, write_text_corpus};
use reformer_train::TrainError;
use reformer_train::checkpoint;
use reformer_train::run::train;
use reformer_train::schedule::Schedule;
use reformer_train::trainer::Trainer;

fn losses(trainer: &mut Trainer, steps: usize) -> Vec<f32> {
    (0..steps)
        .map(|_| trainer.train_step().unwrap().loss)
        .collect()
}

#[test]
fn a_resumed_run_repeats_the_uninterrupted_losses_exactly() {
    let device = Device::flex();
    for settings in [tiny_duplication(), {
        let dir = scratch("resume-corpus");
        write_text_corpus(&dir.join("corpus.txt"), 4000);
        tiny_bytes(&dir.join("corpus.txt"))
    }] {
        let mut straight = Trainer::new(settings.clone(), &device).unwrap();
        let expected = losses(&mut straight, 6);

        let run_dir = scratch("resume");
        let mut first = Trainer::new(settings.clone(), &device).unwrap();
        let mut observed = losses(&mut first, 3);
        first.save(&run_dir).unwrap();
        drop(first);
        let mut resumed = Trainer::resume(&run_dir, &device, None).unwrap();
        assert_eq!((resumed.step, resumed.examples_seen), (3, 12));
        observed.extend(losses(&mut resumed, 3));

        assert_eq!(observed, expected, "{:?}", settings.data);
        assert!(
            expected.windows(2).any(|w| w[0] != w[1]),
            "losses vary: {expected:?}"
        );
    }
}

#[test]
fn training_a_text_file_lowers_its_held_out_bits_per_character() {
    let dir = scratch("learn");
    write_text_corpus(&dir.join("corpus.txt"), 20_000);
    let mut settings = tiny_bytes(&dir.join("corpus.txt"));
    settings.training.steps = 40;
    settings.training.learning_rate = 1e-2;
    let device = Device::flex();
    let mut trainer = Trainer::new(settings, &device).unwrap();
    let before = trainer.evaluate(reformer_datasets::Split::Valid).unwrap();
    assert!(
        (before.bits_per_character - 8.0).abs() < 0.5,
        "untrained: {before:?}"
    );
    let summary = train(
        &mut trainer,
        &dir.join("run"),
        &Arc::new(AtomicBool::new(false)),
    )
    .unwrap();
    let after = summary.eval.unwrap();
    assert!(
        after.bits_per_character < 0.6 * before.bits_per_character,
        "bpc {} -> {}",
        before.bits_per_character,
        after.bits_per_character
    );
    assert_eq!(summary.steps, 40);
    assert!(summary.checkpoint.ends_with("step-00000040"));
    let kept: Vec<u64> = checkpoint::list(&dir.join("run"))
        .unwrap()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(kept, vec![39, 40], "the last keep_checkpoints = 2 survive");
}

#[test]
fn an_interrupt_stops_with_a_resumable_checkpoint() {
    let run_dir = scratch("interrupt");
    let mut trainer = Trainer::new(tiny_duplication(), &Device::flex()).unwrap();
    trainer.train_step().unwrap();
    let summary = train(&mut trainer, &run_dir, &Arc::new(AtomicBool::new(true))).unwrap();
    assert!(summary.interrupted);
    assert!(summary.checkpoint.ends_with("step-00000001"));
    let resumed = Trainer::resume(&run_dir, &Device::flex(), None).unwrap();
    assert_eq!(resumed.step, 1);
}

#[test]
fn a_non_finite_loss_stops_the_run_naming_the_step() {
    let run_dir = scratch("nan");
    let mut settings = tiny_duplication();
    settings.training.learning_rate = 1e30;
    settings.training.schedule = Schedule::Constant;
    settings.training.warmup_steps = 0;
    settings.training.clip_norm = None;
    settings.training.checkpoint_every = 1;
    settings.training.steps = 20;
    let mut trainer = Trainer::new(settings, &Device::flex()).unwrap();
    let error = train(&mut trainer, &run_dir, &Arc::new(AtomicBool::new(false))).unwrap_err();
    let text = error.to_string();
    let TrainError::NonFiniteLoss { step, loss } = error else {
        panic!("expected a non-finite loss, got {text}");
    };
    assert!(!loss.is_finite());
    assert!(text.contains(&format!("at step {step}")), "{text}");
    let newest = checkpoint::list(&run_dir).unwrap().pop().unwrap();
    assert_eq!(newest.0, step - 1, "the step that failed was not saved");
    Trainer::resume(&run_dir, &Device::flex(), None).unwrap();
}

#[test]
fn missing_and_too_short_data_are_named() {
    let device = Device::flex();
    let missing = tiny_bytes(std::path::Path::new("/nonexistent/corpus.txt"));
    let error = Trainer::new(missing, &device).err().unwrap().to_string();
    assert!(error.contains("/nonexistent/corpus.txt"), "{error}");

    let dir = scratch("short");
    std::fs::write(dir.join("short.txt"), b"far too short for one window").unwrap();
    let error = Trainer::new(tiny_bytes(&dir.join("short.txt")), &device)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("fewer than one window of 32"), "{error}");
}

#[test]
fn corrupt_mismatched_and_partial_checkpoints_are_refused_or_ignored() {
    let device = Device::flex();
    let run_dir = scratch("corrupt");
    let mut trainer = Trainer::new(tiny_duplication(), &device).unwrap();
    trainer.train_step().unwrap();
    let first = trainer.save(&run_dir).unwrap();
    trainer.train_step().unwrap();
    let second = trainer.save(&run_dir).unwrap();

    // A writer killed mid-checkpoint leaves only a hidden partial folder: it is not a
    // checkpoint, and the newest complete one is used.
    std::fs::create_dir_all(run_dir.join(".step-00000003.partial")).unwrap();
    std::fs::write(run_dir.join(".step-00000003.partial/model.bpk"), b"half").unwrap();
    assert_eq!(checkpoint::resolve(&run_dir).unwrap(), second);

    // A flipped byte in the weights.
    let model_file = second.join("model.bpk");
    let mut bytes = std::fs::read(&model_file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&model_file, &bytes).unwrap();
    let error = Trainer::resume(&run_dir, &device, None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("model.bpk") && error.contains("corrupt"),
        "{error}"
    );
    // The earlier checkpoint is intact and resumable.
    assert_eq!(Trainer::resume(&first, &device, None).unwrap().step, 1);

    // A state.json that does not describe the weights.
    let state_file = first.join("state.json");
    let state = std::fs::read_to_string(&state_file).unwrap();
    std::fs::write(
        &state_file,
        state.replace("\"feed_forward_size\": 32", "\"feed_forward_size\": 48"),
    )
    .unwrap();
    let error = Trainer::resume(&first, &device, None)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("does not match the model"), "{error}");

    // A truncated state.json.
    std::fs::write(&state_file, "{\"format\": 1, \"st").unwrap();
    let error = Trainer::resume(&first, &device, None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("state.json") && error.contains("not a valid checkpoint"),
        "{error}"
    );

    // No checkpoint at all.
    let error = Trainer::resume(&scratch("empty"), &device, None)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("no complete checkpoint"), "{error}");
}

#[test]
fn enwik8_from_its_zip_trains_and_evaluates_on_the_test_split() {
    use std::io::Write;
    let dir = scratch("enwik8");
    let text: Vec<u8> =
        std::iter::repeat(b"<page><title>Reformer</title> attends by hashing. ".as_slice())
            .flatten()
            .copied()
            .take(20_000)
            .collect();
    let path = dir.join("enwik8.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    writer
        .start_file("enwik8", zip::write::SimpleFileOptions::default())
        .unwrap();
    writer.write_all(&text).unwrap();
    writer.finish().unwrap();

    let mut settings = tiny_bytes(&path);
    settings.data = reformer_train::settings::TrainSettings::bytes_default(&path).data;
    assert!(matches!(
        settings.data,
        reformer_train::settings::DataSettings::Enwik8 { .. }
    ));
    let mut trainer = Trainer::new(settings, &Device::flex()).unwrap();
    trainer.train_step().unwrap();
    let test = trainer.evaluate(reformer_datasets::Split::Test).unwrap();
    // The test split (the last 5%, 1,000 bytes) has 31 windows of 32; 2 batches of 2 are
    // evaluated, each window scoring 31 positions.
    assert_eq!(test.tokens, 2 * 2 * 31);
    assert!(test.loss.is_finite());
}
