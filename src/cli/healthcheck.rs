//! `portfolio healthcheck`: asks the running server's `/health` (for
//! Docker's HEALTHCHECK).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use super::{Failure, Outcome};

pub fn healthcheck(figment: &rocket::figment::Figment, out: &mut dyn Write) -> Outcome {
    let config = rocket::Config::try_from(figment).map_err(Box::new)?;
    // A server listening on every address is reachable on loopback.
    let address = if config.address.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        config.address
    };
    let socket = SocketAddr::new(address, config.port);
    let timeout = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&socket, timeout)
        .map_err(|e| Failure::step(format!("no server at {socket}"), e))?;
    stream.set_read_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: {socket}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status_line = response.lines().next().unwrap_or("");
    if status_line.split(' ').nth(1) == Some("200") {
        writeln!(out, "healthy: {socket}")?;
        Ok(())
    } else {
        let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
        Err(Failure::refused(format!("unhealthy: {status_line} {body}")))
    }
}
