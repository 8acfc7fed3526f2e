//! Progress of a load: a bar on a terminal (bytes of the file read, records, rate, ETA — as
//! the Python loader shows), nothing otherwise (the caller prints one summary line).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar when asked for and standard error is a terminal. `file_size` is the file's size on
    /// disk: the reader counts compressed bytes.
    pub fn start(wanted: bool, file_size: u64, label: &str) -> Self {
        if !wanted || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(Some(file_size), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {bytes}/{total_bytes} {msg} {binary_bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(label.rsplit('/').next().unwrap_or(label).to_string());
        Progress(Some(bar))
    }

    pub fn update(&self, bytes: u64, records: u64) {
        if let Some(b) = &self.0 {
            b.set_position(bytes);
            b.set_message(format!("{records} records"));
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
