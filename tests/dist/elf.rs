//! The symbol versions an ELF file needs from its libraries, read from its
//! `.gnu.version_r` section (type `SHT_GNU_verneed`): 64-bit little-endian files only
//! (x86-64 and aarch64 Linux), which is what the archives ship.

const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;

fn u16_at(b: &[u8], at: usize) -> Result<u16, String> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]])).ok_or_else(|| format!("truncated at {at}"))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes(s.try_into().unwrap())).ok_or_else(|| format!("truncated at {at}"))
}

fn u64_at(b: &[u8], at: usize) -> Result<usize, String> {
    let v = b
        .get(at..at + 8)
        .map(|s| u64::from_le_bytes(s.try_into().unwrap()))
        .ok_or_else(|| format!("truncated at {at}"))?;
    usize::try_from(v).map_err(|_| format!("offset {v} too large"))
}

/// One section header's type, file offset, size and linked section.
struct Section {
    kind: u32,
    offset: usize,
    size: usize,
    link: usize,
}

fn sections(b: &[u8]) -> Result<Vec<Section>, String> {
    if b.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err("not an ELF file".into());
    }
    if b[4] != 2 || b[5] != 1 {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let (shoff, shentsize, shnum) = (u64_at(b, 0x28)?, u16_at(b, 0x3a)? as usize, u16_at(b, 0x3c)? as usize);
    (0..shnum)
        .map(|i| {
            let h = shoff + i * shentsize;
            Ok(Section {
                kind: u32_at(b, h + 4)?,
                offset: u64_at(b, h + 0x18)?,
                size: u64_at(b, h + 0x20)?,
                link: u32_at(b, h + 0x28)? as usize,
            })
        })
        .collect()
}

fn c_string(b: &[u8], at: usize) -> Result<String, String> {
    let tail = b.get(at..).ok_or_else(|| format!("string at {at} out of the file"))?;
    let end = tail.iter().position(|&c| c == 0).ok_or("unterminated string")?;
    Ok(String::from_utf8_lossy(&tail[..end]).into_owned())
}

/// Every `(library, version)` pair the file requires, e.g. `("libc.so.6", "GLIBC_2.17")`.
pub fn needed_versions(b: &[u8]) -> Result<Vec<(String, String)>, String> {
    let secs = sections(b)?;
    let mut out = Vec::new();
    for s in secs.iter().filter(|s| s.kind == SHT_GNU_VERNEED) {
        let strings = secs.get(s.link).ok_or("verneed names no string table")?.offset;
        // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
        let mut need = s.offset;
        loop {
            if need >= s.offset + s.size {
                return Err("verneed entry outside its section".into());
            }
            let (count, file) = (u16_at(b, need + 2)?, u32_at(b, need + 4)? as usize);
            let library = c_string(b, strings + file)?;
            // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
            let mut aux = need + u32_at(b, need + 8)? as usize;
            for _ in 0..count {
                out.push((library.clone(), c_string(b, strings + u32_at(b, aux + 8)? as usize)?));
                aux += u32_at(b, aux + 12)? as usize;
            }
            match u32_at(b, need + 12)? {
                0 => break,
                next => need += next as usize,
            }
        }
    }
    Ok(out)
}

/// The highest `GLIBC_x.y[.z]` version among `versions`, as numbers.
pub fn highest_glibc(versions: &[(String, String)]) -> Option<Vec<u32>> {
    versions
        .iter()
        .filter_map(|(_, v)| v.strip_prefix("GLIBC_"))
        .filter_map(|v| v.split('.').map(|n| n.parse().ok()).collect::<Option<Vec<u32>>>())
        .max()
}
