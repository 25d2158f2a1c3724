//! systemd's readiness protocol (sd_notify(3)): a datagram to `$NOTIFY_SOCKET` - READY=1 once
//! running, RELOADING=1 / READY=1 around a reload, STOPPING=1 at the end. Nothing happens
//! without the variable.

use std::os::unix::net::UnixDatagram;

/// Sends `state` if systemd asked for notifications.
pub fn send(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    let path = path.to_string_lossy().into_owned();
    // "@name" is an abstract socket.
    if let Some(name) = path.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        if let Ok(addr) = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()) {
            let _ = sock.send_to_addr(state.as_bytes(), &addr);
        }
    } else {
        let _ = sock.send_to(state.as_bytes(), &path);
    }
}
