//! The `unistyle` command line: a thin shell over the library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    cli::interrupt::install();
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) if cli::interrupt::received().is_some() => {
            let sig = cli::interrupt::received().unwrap_or(0);
            eprintln!("interrupted (signal {sig}); nothing was written");
            ExitCode::from(128u8.wrapping_add(sig as u8))
        }
        Err(e) => {
            // One line, naming the input and the problem.
            let msg = e.to_string().replace('\n', " ");
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}
