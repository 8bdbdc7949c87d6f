//! `portfolio`: runs the server.

use std::process::ExitCode;

#[rocket::main]
async fn main() -> ExitCode {
    match portfolio::rocket().launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            // Rocket has logged the details; this marks the error handled.
            eprintln!("portfolio: {}", error.pretty_print());
            ExitCode::FAILURE
        }
    }
}
