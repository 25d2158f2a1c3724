//! `kaconsole attach [--socket PATH]`: joins stdin and stdout to the local control socket,
//! so that a console elsewhere reaches this daemon through a transport that authenticates
//! on its own - `ssh HOST kaconsole attach`, `kubectl exec POD -- kaconsole attach` - and the
//! daemon needs no network listener. The daemon sees a local client with this process's
//! user, and grants what it grants that user.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// The daemon's control socket [default: as `kaconsole tui`].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

pub fn run(args: &AttachArgs) -> ExitCode {
    let socket = args
        .socket
        .clone()
        .unwrap_or_else(super::default_tui_socket);
    let name = socket.display().to_string();
    let stream = match UnixStream::connect(&socket) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "kaconsole attach: {}",
                crate::tui::connect::explain(&name, &e)
            );
            return ExitCode::from(1);
        }
    };
    let Ok(mut to_daemon) = stream.try_clone() else {
        eprintln!("kaconsole attach: cannot use {name}");
        return ExitCode::from(1);
    };
    // stdin -> daemon; at its end the daemon is told (it then closes its side).
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut to_daemon);
        let _ = to_daemon.shutdown(std::net::Shutdown::Write);
    });
    // daemon -> stdout, a line as soon as it comes.
    let mut from_daemon = stream;
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from_daemon.read(&mut buf) {
            Ok(0) => return ExitCode::SUCCESS,
            Ok(n) => {
                if out.write_all(&buf[..n]).and_then(|()| out.flush()).is_err() {
                    // Whoever read our stdout is gone.
                    return ExitCode::SUCCESS;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("kaconsole attach: {name}: {e}");
                return ExitCode::from(1);
            }
        }
    }
}
