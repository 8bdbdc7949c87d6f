//! `portfolio`: runs the server, or one maintenance command (`--help`).

use std::process::ExitCode;

use clap::Parser;
use portfolio::cli::{self, Cli, Command};

/// mimalloc instead of glibc's malloc: a request makes and frees many
/// small strings and maps (rows, template contexts, headers), and glibc's
/// allocator took a fifth of the server's time under load (`malloc`,
/// `_int_free`, `malloc_consolidate`; docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = Cli::parse();
    if let Err(message) = cli::prepare_process(&mut std::io::stderr()) {
        eprintln!("portfolio: {message}");
        return ExitCode::FAILURE;
    }
    match args.command {
        None | Some(Command::Serve) => serve(),
        Some(command) => match cli::run(command, &mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => {
                eprintln!("portfolio: {failure}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Serves until SIGTERM or Ctrl-C; in-flight requests finish within
/// Rocket's shutdown grace period, then the WAL is checkpointed.
fn serve() -> ExitCode {
    // Before Rocket starts: a folder we cannot write is this one line, not
    // a lock-file error and pool time-outs after it.
    if let Err(message) = cli::check_folders() {
        eprintln!("portfolio: {message}");
        return ExitCode::FAILURE;
    }
    rocket::execute(async {
        match portfolio::rocket().launch().await {
            Ok(_) => ExitCode::SUCCESS,
            Err(error) => {
                // Rocket has logged the details; this marks the error handled.
                eprintln!("portfolio: {}", error.pretty_print());
                ExitCode::FAILURE
            }
        }
    })
}
