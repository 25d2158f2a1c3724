//! The IPVS generic netlink messages, byte for byte: every request kaconsole sends, written
//! out by hand from include/uapi/linux/ip_vs.h (little-endian host; ports in network order),
//! and the kernel's answers parsed back. The kernel check is tests/ipvs_kernel.rs.

#![cfg(target_endian = "little")]

use kaconsole::ipvs::message::*;

/// Hex without the spaces and comments that make the vectors readable.
fn hex(s: &str) -> String {
    s.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<String>()
        .split_whitespace()
        .collect()
}

fn frame(r: &Request) -> String {
    kaconsole::hex::encode(&r.frame(0x20, 1))
}

fn tcp80() -> ServiceKey {
    ServiceKey::Addr {
        proto: IPPROTO_TCP,
        addr: "10.0.0.1".parse().unwrap(),
        port: 80,
    }
}

/// The attributes of tcp80() inside a service nest.
const TCP80_KEY: &str = "
    06000100 0200 0000                        # AF = AF_INET
    06000200 0600 0000                        # PROTOCOL = TCP
    14000300 0a000001 000000000000000000000000 # ADDR, 16 bytes
    06000400 0050 0000                        # PORT 80, network order
";

fn service() -> Service {
    Service {
        key: tcp80(),
        sched: "rr".into(),
        flags: flags::PERSISTENT,
        timeout: 300,
        netmask: u32::from_ne_bytes([255, 255, 255, 0]),
        pe_name: None,
    }
}

fn dest() -> Dest {
    Dest {
        addr: "10.0.0.11".parse().unwrap(),
        port: 8080,
        forward: Forward::Masq,
        weight: 3,
        u_threshold: 100,
        l_threshold: 10,
        tun_type: 0,
        tun_port: 0,
        tun_flags: 0,
    }
}

const DEST_KEY: &str = "
    06000b00 0200 0000                        # ADDR_FAMILY = AF_INET
    14000100 0a00000b 000000000000000000000000 # ADDR
    06000200 1f90 0000                        # PORT 8080
";

#[test]
fn new_set_and_del_service() {
    let body = format!(
        "{TCP80_KEY}
        07000600 727200 00                    # SCHED_NAME \"rr\\0\"
        0c000700 01000000 ffffffff            # FLAGS: PERSISTENT, mask all
        08000800 2c010000                     # TIMEOUT 300
        08000900 ffffff00                     # NETMASK 255.255.255.0"
    );
    let new = format!(
        "68000000 2000 0500 01000000 00000000      # nlmsghdr: 104 bytes, family 0x20, REQUEST|ACK, seq 1
         01 01 0000                               # NEW_SERVICE, version 1
         54000100                                 # nest SERVICE, 84 bytes
         {body}"
    );
    assert_eq!(frame(&Request::NewService(service())), hex(&new));
    let set = new.replacen("01 01 0000", "02 01 0000", 1);
    assert_eq!(frame(&Request::SetService(service())), hex(&set));
    let del = format!(
        "44000000 2000 0500 01000000 00000000
         03 01 0000                               # DEL_SERVICE
         30000100 {TCP80_KEY}"
    );
    assert_eq!(frame(&Request::DelService(tcp80())), hex(&del));
}

#[test]
fn fwmark_and_ipv6_services() {
    let fwm = ServiceKey::Fwmark {
        af: AF_INET6,
        mark: 7,
    };
    assert_eq!(
        frame(&Request::DelService(fwm)),
        hex("28000000 2000 0500 01000000 00000000
             03 01 0000
             14000100
               06000100 0a00 0000                 # AF = AF_INET6
               08000500 07000000                  # FWMARK 7
        ")
    );
    let v6 = ServiceKey::Addr {
        proto: IPPROTO_UDP,
        addr: "2001:db8::1".parse().unwrap(),
        port: 53,
    };
    assert_eq!(
        frame(&Request::DelService(v6)),
        hex("44000000 2000 0500 01000000 00000000
             03 01 0000
             30000100
               06000100 0a00 0000
               06000200 1100 0000                 # UDP
               14000300 20010db8000000000000000000000001
               06000400 0035 0000                 # 53
        ")
    );
}

#[test]
fn new_set_and_del_dest() {
    let attrs = format!(
        "{DEST_KEY}
        08000300 00000000                     # FWD_METHOD MASQ
        08000400 03000000                     # WEIGHT 3
        08000500 64000000                     # U_THRESH 100
        08000600 0a000000                     # L_THRESH 10"
    );
    let new = format!(
        "8c000000 2000 0500 01000000 00000000
         05 01 0000                               # NEW_DEST
         30000100 {TCP80_KEY}
         48000200 {attrs}                          # nest DEST, 72 bytes"
    );
    assert_eq!(frame(&Request::NewDest(tcp80(), dest())), hex(&new));
    let set = new.replacen("05 01 0000", "06 01 0000", 1);
    assert_eq!(frame(&Request::SetDest(tcp80(), dest())), hex(&set));
    let del = format!(
        "6c000000 2000 0500 01000000 00000000
         07 01 0000                               # DEL_DEST
         30000100 {TCP80_KEY}
         28000200 {DEST_KEY}"
    );
    assert_eq!(frame(&Request::DelDest(tcp80(), dest())), hex(&del));
}

#[test]
fn tunnel_dests_carry_their_type_port_and_checksum() {
    let mut gue = dest();
    gue.forward = Forward::Tunnel;
    gue.tun_type = 1;
    gue.tun_port = 6080;
    gue.tun_flags = 1;
    let bytes = Request::NewDest(tcp80(), gue.clone()).frame(0x20, 1);
    let tail = kaconsole::hex::encode(&bytes[bytes.len() - 48..]);
    assert_eq!(
        tail,
        hex("08000300 02000000                   # FWD_METHOD TUNNEL
             08000400 03000000                   # WEIGHT
             05000d00 01 000000                  # TUN_TYPE GUE
             06000e00 17c0 0000                  # TUN_PORT 6080
             06000f00 0100 0000                  # TUN_FLAGS CSUM
             08000500 64000000                   # U_THRESH
             08000600 0a000000                   # L_THRESH
        ")[16..]
    );
    // IPIP: the type only.
    gue.tun_type = 0;
    let ipip = Request::NewDest(tcp80(), gue).frame(0x20, 1);
    assert_eq!(ipip.len(), bytes.len() - 16);
}

#[test]
fn flush_info_config_dumps_and_daemons() {
    assert_eq!(
        frame(&Request::Flush),
        hex("14000000 2000 0500 01000000 00000000  11 01 0000")
    );
    assert_eq!(
        frame(&Request::GetInfo),
        hex("14000000 2000 0500 01000000 00000000  0f 01 0000")
    );
    assert_eq!(
        frame(&Request::GetConfig),
        hex("14000000 2000 0500 01000000 00000000  0d 01 0000")
    );
    // Dumps: REQUEST|DUMP (0x301), no ACK.
    assert_eq!(
        frame(&Request::GetServices),
        hex("14000000 2000 0103 01000000 00000000  04 01 0000")
    );
    assert_eq!(
        frame(&Request::GetDests(tcp80())),
        hex(&format!(
            "44000000 2000 0103 01000000 00000000  08 01 0000  30000100 {TCP80_KEY}"
        ))
    );
    assert_eq!(
        frame(&Request::SetConfig(Timeouts {
            tcp: 900,
            tcp_fin: 0,
            udp: 60
        })),
        hex("24000000 2000 0500 01000000 00000000  0c 01 0000
             08000400 84030000                   # TIMEOUT_TCP 900
             08000600 3c000000                   # TIMEOUT_UDP 60 (tcpfin unchanged)")
    );
    let d = SyncDaemon {
        state: 1,
        interface: "eth0".into(),
        sync_id: 51,
        maxlen: None,
        group: None,
        port: None,
        ttl: None,
    };
    assert_eq!(
        frame(&Request::NewDaemon(d)),
        hex("34000000 2000 0500 01000000 00000000  09 01 0000
             20000300                            # nest DAEMON
               08000100 01000000                 # STATE MASTER
               09000200 65746830 00 000000       # MCAST_IFN eth0
               08000300 33000000                 # SYNC_ID 51")
    );
    assert_eq!(
        frame(&Request::DelDaemon(2)),
        hex("20000000 2000 0500 01000000 00000000  0a 01 0000
             0c000300 08000100 02000000          # DAEMON { STATE BACKUP }")
    );
    // The controller, for the family's number.
    assert_eq!(
        frame(&Request::Family),
        hex("20000000 1000 0500 01000000 00000000  03 01 0000
             09000200 49505653 00 000000         # FAMILY_NAME IPVS")
    );
}

/// A GET_SERVICE dump message as ip_vs_genl_fill_service writes it (its attribute order,
/// with the stats nests), and a GET_DEST one as ip_vs_genl_fill_dest does; then DONE.
#[test]
fn dump_replies_parse() {
    let reply = hex(
        "ac000000 2000 0200 05000000 39300000    # NEW_SERVICE reply, MULTI, seq 5, port 12345
         01 01 0000
         98000100                                # nest SERVICE
           06000100 0200 0000                    # AF
           06000200 0600 0000                    # PROTOCOL
           14000300 0a000001 000000000000000000000000
           06000400 0050 0000                    # PORT 80
           08000600 776c6300                     # SCHED_NAME wlc
           0c000700 03000000 ffffffff            # FLAGS PERSISTENT|HASHED
           08000800 68010000                     # TIMEOUT 360
           08000900 ffffffff                     # NETMASK
           1c000a00 08000100 00000000 08000200 00000000 08000300 00000000  # STATS (cut)
           28000c00 0c000100 0000000000000000 0c000200 0000000000000000 0c000300 0000000000000000 # STATS64 (cut)
         14000000 0300 0200 05000000 39300000    # DONE
         00000000",
    );
    let bytes = kaconsole::hex::decode(&reply).unwrap();
    let msgs = replies(&bytes).unwrap();
    assert_eq!(msgs.len(), 2);
    let Reply::Genl { cmd, attrs } = msgs[0].1 else {
        panic!("{:?}", msgs[0])
    };
    assert_eq!(cmd, cmd::NEW_SERVICE);
    let s = parse_service(attrs).unwrap();
    assert_eq!(s.key, tcp80());
    assert_eq!(s.to_owned().sched, "wlc");
    assert_eq!(s.flags, flags::PERSISTENT, "HASHED is the kernel's");
    assert_eq!((s.timeout, s.netmask), (360, u32::MAX));
    assert_eq!(msgs[1], (5, Reply::Done));

    let d = hex("{k}
         08000300 03000000                       # DROUTE
         08000400 05000000                       # WEIGHT 5
         05000d00 00 000000
         06000e00 0000 0000
         06000f00 0000 0000
         08000500 00000000
         08000600 00000000
         08000700 02000000                       # ACTIVE_CONNS 2
         08000800 07000000                       # INACT_CONNS 7
         08000900 00000000")
    .replace("{k}", &hex(DEST_KEY));
    let nest = format!("{:02x}000200{d}", 4 + d.len() / 2);
    let attrs = kaconsole::hex::decode(&nest).unwrap();
    let (dest, active, inactive) = parse_dest(&attrs, AF_INET).unwrap();
    assert_eq!(dest.addr.to_string(), "10.0.0.11");
    assert_eq!((dest.port, dest.weight), (8080, 5));
    assert_eq!(dest.forward, Forward::Route);
    assert_eq!((active, inactive), (2, 7));
}

#[test]
fn acks_errors_and_the_family_number() {
    let ack = kaconsole::hex::decode(&hex(
        "24000000 0200 0001 07000000 39300000 00000000  14000000 2000 0500 07000000 00000000",
    ))
    .unwrap();
    assert_eq!(replies(&ack).unwrap(), [(7, Reply::Ack)]);
    let mut exists = ack.clone();
    exists[16..20].copy_from_slice(&(-17i32).to_ne_bytes());
    assert_eq!(replies(&exists).unwrap(), [(7, Reply::Error(17))], "EEXIST");
    let family = kaconsole::hex::decode(&hex("28000000 1000 0000 01000000 39300000  01 02 0000
         09000200 49505653 00 000000
         06000100 2000 0000                       # FAMILY_ID 0x20"))
    .unwrap();
    let [(_, Reply::Genl { attrs, .. })] = replies(&family).unwrap()[..] else {
        panic!()
    };
    assert_eq!(family_id(attrs).unwrap(), Some(0x20));
}

#[test]
fn garbage_is_an_error_never_a_panic() {
    let mut seed = 0x1234_5678_u64;
    for len in 0..400 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 56) as u8
            })
            .collect();
        let _ = replies(&bytes);
        let _ = parse_service(&bytes);
        let _ = parse_dest(&bytes, AF_INET);
        let _ = parse_timeouts(&bytes);
        let _ = parse_info(&bytes);
        let _ = family_id(&bytes);
    }
}

/// What Debian's 6.1 kernel answered to kaconsole's GET_SERVICE and GET_DEST dumps, GET_INFO
/// and GET_CONFIG in tests/ipvs_kernel.rs, recorded there (`KACONSOLE_SAVE_REPLIES`).
#[test]
fn real_kernel_replies_parse() {
    let text = std::fs::read_to_string("tests/data/ipvs/replies.txt").unwrap();
    let (mut services, mut dests, mut info, mut timeouts, mut dones) =
        (Vec::new(), Vec::new(), None, None, 0);
    for line in text.lines() {
        let bytes = kaconsole::hex::decode(line.split_whitespace().nth(2).unwrap()).unwrap();
        for (_, reply) in replies(&bytes).unwrap() {
            match reply {
                Reply::Genl {
                    cmd: cmd::NEW_SERVICE,
                    attrs,
                } => services.push(parse_service(attrs).unwrap()),
                Reply::Genl {
                    cmd: cmd::NEW_DEST,
                    attrs,
                } => dests.push(parse_dest(attrs, AF_INET).unwrap().0),
                Reply::Genl {
                    cmd: cmd::SET_INFO,
                    attrs,
                } => info = Some(parse_info(attrs).unwrap()),
                Reply::Genl {
                    cmd: cmd::SET_CONFIG,
                    attrs,
                } => timeouts = Some(parse_timeouts(attrs).unwrap()),
                Reply::Done | Reply::Ack => dones += 1,
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(services.len(), 16, "{services:#?}");
    let web = services.iter().find(|s| s.key == tcp80()).unwrap();
    assert_eq!(
        (web.sched.as_str(), web.flags, web.netmask),
        ("rr", 0, u32::MAX)
    );
    let dns = services
        .iter()
        .find(|s| s.key.to_string() == "UDP 10.0.0.2:53")
        .unwrap();
    assert_eq!((dns.flags, dns.timeout), (flags::PERSISTENT, 600));
    assert_eq!(dns.netmask, u32::from_ne_bytes([255, 255, 255, 0]));
    assert!(
        services
            .iter()
            .any(|s| s.key.to_string() == "FWM 7" && s.sched == "lc")
    );
    assert!(dests.iter().any(|d| d.forward == Forward::Tunnel));
    assert!(
        dests
            .iter()
            .any(|d| d.forward == Forward::Route && d.weight == 3)
    );
    assert_eq!(info.map(|i| i.0), Some(0x010201), "IPVS 1.2.1");
    assert_eq!(
        timeouts,
        Some(Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 60
        })
    );
    assert!(dones >= services.len(), "each dump ends with DONE");
}
