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

/// mimalloc gives freed memory back to the system 10 ms later by default,
/// and only when the thread that freed it allocates again: the 19 MiB that
/// argon2 frees after each login stayed resident on idle threads (peak RSS
/// under the mixed benchmark 55.8 MiB, against 30 with glibc). At once, it
/// is 43 MiB, at no measurable cost in throughput.
fn return_freed_memory_at_once() {
    // `mi_option_purge_delay` in mimalloc.h (the 16th option, in both v2 and
    // v3), which libmimalloc-sys does not name.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: setting an option is allowed at any time (mimalloc.h).
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
}

fn main() -> ExitCode {
    return_freed_memory_at_once();
    let args = Cli::parse();
    match args.command {
        None | Some(Command::Serve) => serve(),
        Some(command) => match cli::run(command, &mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(cli::Failure(message)) => {
                eprintln!("portfolio: {message}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Serves until SIGTERM or Ctrl-C; in-flight requests finish within
/// Rocket's shutdown grace period, then the WAL is checkpointed.
fn serve() -> ExitCode {
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
