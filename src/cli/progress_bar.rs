//! A progress bar on stderr when stderr is a terminal; silence otherwise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use unistyle::{Control, Progress};

pub struct Bar(Option<ProgressBar>);

impl Bar {
    pub fn new(message: &str, quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let bar = ProgressBar::new(1000);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {percent:>3}% {elapsed_precise}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_message(message.to_string());
        Bar(Some(bar))
    }

    pub fn set_message(&self, message: &str) {
        if let Some(b) = &self.0 {
            b.set_message(message.to_string());
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    /// Cancels once SIGINT or SIGTERM has arrived.
    fn report(&mut self, fraction: f32) -> Control {
        if !super::interrupt::keep_going() {
            return Control::Cancel;
        }
        if let Some(b) = &self.0 {
            b.set_position((fraction * 1000.0) as u64);
        }
        Control::Continue
    }
}
