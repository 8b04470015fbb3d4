//! Opening input files safely: only regular files are read, and never more than a hard
//! byte bound. A FIFO, a device, a socket or a directory is refused at once by what it is
//! (it is opened without blocking and examined through the open handle, so nothing swapped
//! in between a check and the open can block the thread), and a file that grows while it is
//! read (`/proc` entries report size 0) is cut off at the bound instead of filling memory.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// What a non-regular file is, in words: "a FIFO", "a directory", …
pub fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Opens `path` for reading if it is a regular file (symbolic links are followed; a loop is
/// reported as such). Returns the file and its size.
pub fn open_regular(path: &Path) -> io::Result<(File, u64)> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO without a writer would block; non-blocking, it returns at once.
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(target_os = "linux")]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return invalid("is a symbolic link loop (too many levels of symbolic links)".into());
        }
        // A socket cannot be opened at all: say what it is rather than the OS's reason.
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => invalid(format!("is {}, not a regular file", kind_of(&meta))),
            _ => e,
        }
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(invalid(format!("is {}, not a regular file", kind_of(&meta))));
    }
    #[cfg(target_os = "linux")]
    {
        // Back to blocking reads for the regular file (O_NONBLOCK has no effect on them, but
        // a decoder should not see EAGAIN from any file system that honours it).
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        // SAFETY: plain fcntl calls on a descriptor this function owns.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }
    Ok((file, meta.len()))
}

/// Why a file of `len` bytes is over `max`, in words.
fn too_large(len: u64, max: u64) -> io::Error {
    invalid(format!("the file is {} bytes, more than the limit of {max} bytes", len))
}

/// Reads the regular file at `path` whole, refusing it when it is (or, while being read,
/// turns out to be) larger than `max` bytes.
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let (file, len) = open_regular(path)?;
    if len > max {
        return Err(too_large(len, max));
    }
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len as usize).map_err(|_| {
        io::Error::new(io::ErrorKind::OutOfMemory, format!("cannot allocate {len} bytes to read the file"))
    })?;
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(invalid(format!("the file grew past the limit of {max} bytes while it was read")));
    }
    Ok(bytes)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn non_regular_files_are_named_and_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let msg = |p: &Path| read_bounded(p, 1 << 20).unwrap_err().to_string();
        assert!(msg(&fifo).contains("is a FIFO"), "{}", msg(&fifo));
        assert!(msg(dir.path()).contains("is a directory"));
        assert!(msg(Path::new("/dev/zero")).contains("is a character device"));
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&a, &b).unwrap();
        std::os::unix::fs::symlink(&b, &a).unwrap();
        assert!(msg(&a).contains("symbolic link loop"), "{}", msg(&a));
        let sock = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert!(msg(&sock).contains("is a socket"), "{}", msg(&sock));
        let f = dir.path().join("f");
        std::fs::write(&f, [7u8; 100]).unwrap();
        assert_eq!(read_bounded(&f, 100).unwrap().len(), 100);
        assert!(read_bounded(&f, 99).unwrap_err().to_string().contains("more than the limit"));
    }

    #[test]
    fn a_file_that_reports_no_size_is_still_bounded() {
        // /proc files report size 0 and may be longer.
        let err = read_bounded(Path::new("/proc/self/maps"), 8).unwrap_err();
        assert!(err.to_string().contains("grew past the limit"), "{err}");
    }
}
