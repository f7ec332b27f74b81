//! Progress of a run on the terminal: a bar with loss, the task's metric, tokens per second
//! and learning rate; plain lines when stderr is not a terminal.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::data::Metric;
use crate::evaluation::EvalReport;
use crate::trainer::StepReport;

/// Reports a run's progress.
pub struct Progress {
    bar: ProgressBar,
    metric: Metric,
    started: Instant,
    tokens: u64,
    last_eval: Option<EvalReport>,
    line_every: u64,
}

/// The task's held-out figure, e.g. `acc 41.2%` or `bpc 2.13`.
pub fn metric_text(metric: Metric, report: &EvalReport) -> String {
    match metric {
        Metric::Accuracy => format!("acc {:.1}%", 100.0 * report.accuracy),
        Metric::BitsPerCharacter => format!("bpc {:.3}", report.bits_per_character),
    }
}

impl Progress {
    /// A bar for steps `start..total`.
    pub fn new(start: u64, total: u64, metric: Metric) -> Self {
        let bar = ProgressBar::new(total);
        bar.set_position(start);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} [{elapsed_precise}<{eta_precise}] {msg}",
            )
            .expect("a valid template"),
        );
        Self {
            bar,
            metric,
            started: Instant::now(),
            tokens: 0,
            last_eval: None,
            line_every: (total / 20).max(1),
        }
    }

    /// Tokens per second since the bar started.
    pub fn tokens_per_second(&self) -> f64 {
        self.tokens as f64 / self.started.elapsed().as_secs_f64().max(1e-9)
    }

    /// Records a finished step.
    pub fn step(&mut self, report: &StepReport) {
        self.tokens += report.tokens as u64;
        let held_out = self
            .last_eval
            .map(|eval| format!(" | held-out {}", metric_text(self.metric, &eval)))
            .unwrap_or_default();
        let train_metric = match self.metric {
            Metric::BitsPerCharacter => {
                format!(
                    " | bpc {:.3}",
                    f64::from(report.loss) / std::f64::consts::LN_2
                )
            }
            Metric::Accuracy => String::new(),
        };
        let message = format!(
            "loss {:.4}{train_metric} | {:.0} tok/s | lr {:.2e}{held_out}",
            report.loss,
            self.tokens_per_second(),
            report.learning_rate,
        );
        self.bar.set_position(report.step);
        if self.bar.is_hidden() && report.step.is_multiple_of(self.line_every) {
            eprintln!(
                "step {}/{}: {message}",
                report.step,
                self.bar.length().unwrap_or(0)
            );
        }
        self.bar.set_message(message);
    }

    /// Records an evaluation of the held-out split after `step` steps.
    pub fn eval(&mut self, step: u64, report: &EvalReport) {
        self.last_eval = Some(*report);
        self.line(&format!(
            "step {step}: held-out loss {:.4}, {}",
            report.loss,
            metric_text(self.metric, report)
        ));
    }

    /// Prints a line above the bar (or on its own without a terminal).
    pub fn line(&self, text: &str) {
        if self.bar.is_hidden() {
            eprintln!("{text}");
        } else {
            self.bar.println(text);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
