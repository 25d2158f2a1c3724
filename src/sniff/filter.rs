//! The kernel filter for the capture socket (classic BPF): Ethernet frames, with or without one
//! 802.1Q tag, carrying IPv4 or IPv6 with protocol / next header VRRP (112) or AH (51). The
//! kernel drops everything else before it is copied to the capture.
//!
//! The program is written with labels and assembled here; [`run`] interprets it, so the tests
//! check it against real frames without a socket.

/// One classic BPF instruction: (code, jump if true, jump if false, k).
pub type Insn = (u16, u8, u8, u32);

const LDH_ABS: u16 = 0x28; // BPF_LD | BPF_H | BPF_ABS
const LDB_ABS: u16 = 0x30; // BPF_LD | BPF_B | BPF_ABS
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const RET_K: u16 = 0x06; // BPF_RET | BPF_K

const VRRP: u32 = 112;
const AH: u32 = 51;

enum Op {
    Label(&'static str),
    Ldh(u32),
    Ldb(u32),
    /// If A == k go to the first label, else to the second.
    Jeq(u32, &'static str, &'static str),
    Ret(u32),
}

/// Assembles `ops`: jump offsets count the instructions skipped.
fn assemble(ops: &[Op]) -> Vec<Insn> {
    let mut at = std::collections::HashMap::new();
    let mut n = 0;
    for op in ops {
        match op {
            Op::Label(l) => {
                at.insert(*l, n);
            }
            _ => n += 1,
        }
    }
    let mut out = Vec::new();
    for op in ops {
        let here = out.len();
        let rel = |l: &str| -> u8 {
            let target: usize = at[l];
            u8::try_from(target - here - 1).expect("jumps are forward and short")
        };
        match op {
            Op::Label(_) => {}
            Op::Ldh(k) => out.push((LDH_ABS, 0, 0, *k)),
            Op::Ldb(k) => out.push((LDB_ABS, 0, 0, *k)),
            Op::Jeq(k, t, f) => out.push((JEQ_K, rel(t), rel(f), *k)),
            Op::Ret(k) => out.push((RET_K, 0, 0, *k)),
        }
    }
    out
}

/// Accepts the frame at `label` if the byte at `offset` (IPv4 protocol, IPv6 next header) is
/// VRRP or AH; `ah` names the second test.
fn vrrp_or_ah(ops: &mut Vec<Op>, label: &'static str, offset: u32, ah: &'static str) {
    use Op::*;
    ops.extend([
        Label(label),
        Ldb(offset),
        Jeq(VRRP, "accept", ah),
        Label(ah),
        Jeq(AH, "accept", "drop"),
    ]);
}

/// The VRRP capture filter.
pub fn program() -> Vec<Insn> {
    use Op::*;
    // Offsets: Ethernet header 14 (18 tagged); IPv4 protocol at +9, IPv6 next header at +6.
    let mut ops = vec![
        Ldh(12),
        Jeq(0x0800, "v4", "not_v4"),
        Label("not_v4"),
        Jeq(0x86dd, "v6", "not_v6"),
        Label("not_v6"),
        Jeq(0x8100, "tagged", "drop"),
    ];
    vrrp_or_ah(&mut ops, "v4", 14 + 9, "v4_ah");
    vrrp_or_ah(&mut ops, "v6", 14 + 6, "v6_ah");
    ops.extend([
        Label("tagged"),
        Ldh(16),
        Jeq(0x0800, "t4", "t_not_v4"),
        Label("t_not_v4"),
        Jeq(0x86dd, "t6", "drop"),
    ]);
    vrrp_or_ah(&mut ops, "t4", 18 + 9, "t4_ah");
    vrrp_or_ah(&mut ops, "t6", 18 + 6, "t6_ah");
    ops.extend([Label("accept"), Ret(0x0004_0000), Label("drop"), Ret(0)]);
    assemble(&ops)
}

/// Runs `prog` on `frame` as the kernel would: the number of bytes to keep (0: dropped). A
/// load past the end drops the packet.
pub fn run(prog: &[Insn], frame: &[u8]) -> u32 {
    let mut a: u32 = 0;
    let mut pc = 0;
    while let Some(&(code, jt, jf, k)) = prog.get(pc) {
        pc += 1;
        let k_at = k as usize;
        match code {
            LDH_ABS => match frame.get(k_at..k_at + 2) {
                Some(b) => a = u32::from(u16::from_be_bytes([b[0], b[1]])),
                None => return 0,
            },
            LDB_ABS => match frame.get(k_at) {
                Some(b) => a = u32::from(*b),
                None => return 0,
            },
            JEQ_K => pc += usize::from(if a == k { jt } else { jf }),
            RET_K => return k,
            _ => return 0,
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_keeps_vrrp_and_ah_and_drops_the_rest() {
        let prog = program();
        for name in [
            "vrrp2-noauth.pcap",
            "vrrp2-auth-ah.pcap",
            "vrrp3-ipv6.pcap",
            "vrrp2-vmac.pcap",
        ] {
            let path = format!("{}/tests/data/pcaps/{name}", env!("CARGO_MANIFEST_DIR"));
            let c = crate::pcap::parse(&std::fs::read(path).unwrap()).unwrap();
            for r in &c.records {
                let vrrp = super::super::observe::observe(c.linktype, 0, &r.data).is_some();
                assert_eq!(
                    run(&prog, &r.data) > 0,
                    vrrp,
                    "{name}: {:02x?}",
                    &r.data[..20]
                );
            }
        }
        // A tagged VRRP frame: insert 81 00 00 2a after the MACs.
        let path = format!(
            "{}/tests/data/pcaps/vrrp2-noauth.pcap",
            env!("CARGO_MANIFEST_DIR")
        );
        let c = crate::pcap::parse(&std::fs::read(path).unwrap()).unwrap();
        let plain = c.records.iter().find(|r| run(&prog, &r.data) > 0).unwrap();
        let mut tagged = plain.data[..12].to_vec();
        tagged.extend([0x81, 0x00, 0x00, 0x2a]);
        tagged.extend(&plain.data[12..]);
        assert!(run(&prog, &tagged) > 0, "802.1Q-tagged VRRP");
        // TCP over IPv4, ARP, a runt.
        let mut tcp = plain.data.clone();
        tcp[14 + 9] = 6;
        assert_eq!(run(&prog, &tcp), 0);
        let mut arp = plain.data.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(run(&prog, &arp), 0);
        assert_eq!(run(&prog, &plain.data[..13]), 0);
    }
}
